"""Limits on a sign-up sheet (rows, columns, characters in a cell, unpacked size), whatever its source.

The numbers come from ``lib.store.config`` (generous for real assemblies: 50,000 rows, 200 columns,
10,000 characters per cell, 100 MB unpacked). Every reader checks them while it reads, before
building anything large, and stops with a ``LimitError`` that says what the limit is, what was
found and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass

from lib.errors import UserError


class LimitError(UserError):
    pass


@dataclass(frozen=True)
class Limits:
    rows: int
    columns: int
    cell_chars: int
    unpacked_bytes: int

    @classmethod
    def from_config(cls) -> "Limits":
        from lib.store import config

        return cls(config.max_rows(), config.max_columns(), config.max_cell_chars(), config.max_unpacked_bytes())


def megabytes(n: int) -> str:
    mb = n / 2**20
    return f"{mb:.0f} MB" if mb >= 10 or mb == int(mb) else f"{mb:.1f} MB"


def too_many_rows(source: str, found: int, limits: Limits, *, at_least: bool = False) -> LimitError:
    return LimitError(
        f"{source} has {'at least ' if at_least else ''}{found:,} rows of sign-ups; Kleroterion reads at most "
        f"{limits.rows:,} from one sheet. Check that you chose the right sheet or file. If the rows below your "
        "sign-ups are empty or hold something else, delete them (or copy only the sign-ups into a new sheet) "
        "and try again."
    )


def too_many_columns(source: str, found: int, limits: Limits) -> LimitError:
    return LimitError(
        f"{source} has {found:,} columns; Kleroterion reads at most {limits.columns:,}. Check that you chose the "
        "right sheet or file; if the columns to the right of the questions are empty or hold something else, "
        "delete them and try again."
    )


def cell_too_long(source: str, row: int, column: str, found: int, limits: Limits) -> LimitError:
    return LimitError(
        f"{source}: Row {row}, column “{column}”: this cell holds {found:,} characters; a cell may hold at most "
        f"{limits.cell_chars:,}. Shorten it on the sheet (or leave that column out) and try again."
    )


def too_big(source: str, found: int, limits: Limits, *, unpacked: bool) -> LimitError:
    what = "unpacks to" if unpacked else "holds"
    return LimitError(
        f"{source} {what} {megabytes(found)}; Kleroterion reads at most {megabytes(limits.unpacked_bytes)}, far "
        "more than a sheet of sign-ups needs. Check that you chose the right file; save only the sheet of "
        "sign-ups (for example as CSV) and try again."
    )
