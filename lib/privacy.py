"""Personal data handling: masking for screens, and exports that are safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from typing import Iterable, Sequence

import pandas as pd

SMALL_GROUP = 5
"""Counts below this are shown as "fewer than 5" to anyone who is not an organiser."""

_FORMULA_SIGNS = frozenset("=+-@")
"""A spreadsheet runs a cell starting with one of these (or a form that NFKC folds into one, such as
the full-width "＝") as a formula, once it has skipped leading whitespace and invisible characters."""
_INVISIBLE = frozenset(("Cc", "Cf", "Zs", "Zl", "Zp"))  # control, format (zero-width …), separators
_HARMLESS = frozenset("0123456789 +-().,/")
"""A value made only of these cannot call a function or reference a cell: "+44 7700 900123", "-5"."""


def mask_name(name: str | None) -> str:
    """'Zoë Ó Briain' -> 'Z. Ó.': initials only."""
    if not name or not str(name).strip():
        return ""
    return " ".join(part[0] + "." for part in str(name).split() if part)


def mask_email(email: str | None) -> str:
    """'zoe.wright@example.org' -> 'z•••@e•••.org'."""
    if not email or "@" not in str(email):
        return "•••" if email else ""
    local, _, domain = str(email).partition("@")
    host, dot, tld = domain.rpartition(".")
    if not dot:
        host, tld = domain, ""
    return f"{local[:1]}•••@{host[:1]}•••{dot}{tld}"


def mask_phone(phone: str | None) -> str:
    """'07700 900123' -> '•••123': the last three digits only."""
    digits = re.sub(r"\D", "", str(phone or ""))
    return f"•••{digits[-3:]}" if digits else ""


def _starts_like_a_formula(text: str) -> bool:
    for ch in text:
        if ch.isspace() or unicodedata.category(ch) in _INVISIBLE:
            continue
        return unicodedata.normalize("NFKC", ch)[:1] in _FORMULA_SIGNS
    return False


def spreadsheet_safe(value: object) -> object:
    """Neutralise text that a spreadsheet would run as a formula (CSV injection) with a leading
    apostrophe, also when the sign hides behind whitespace, control, zero-width or full-width
    characters (``"\\r=1+1"``, ``"\\u200b=A1"``, ``"＝SUM(A1)"``). Ordinary values are left exactly as
    they are: anything not starting with = + - @, and values made only of digits, spaces and
    ``+-().,/`` (``"+44 7700 900123"``, ``"-"``, ``"-5"``), which cannot call a function or
    reference a cell. Only for files people download: a Google Sheet written in RAW mode never
    runs a value, so write-backs need no apostrophe."""
    if not isinstance(value, str) or not _starts_like_a_formula(value):
        return value
    if all(ch in _HARMLESS for ch in value):
        return value
    return "'" + value


def safe_dataframe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(spreadsheet_safe)
    out.columns = [spreadsheet_safe(str(c)) for c in out.columns]
    return out


def safe_csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV for download: UTF-8 with BOM (so Excel reads accents), formulas neutralised. Rows end in
    CRLF, so a cell holding a bare carriage return is quoted instead of splitting its row in two
    (which would put the rest of the cell, formula and all, at the start of a new row)."""
    return safe_dataframe(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def safe_csv_rows(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")  # CRLF: a cell with a bare CR is quoted
    w.writerow([spreadsheet_safe(h) for h in header])
    for r in rows:
        w.writerow([spreadsheet_safe(v) for v in r])
    return buf.getvalue()


def suppress_small(n: int, *, organiser: bool = False) -> str:
    """A count as shown to people: groups smaller than 5 are hidden from non-organisers."""
    if organiser or n == 0 or n >= SMALL_GROUP:
        return str(n)
    return f"fewer than {SMALL_GROUP}"
