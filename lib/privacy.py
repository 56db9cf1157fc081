"""Personal data handling: masking for screens, and exports that are safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
from typing import Iterable, Sequence

import pandas as pd

SMALL_GROUP = 5
"""Counts below this are shown as "fewer than 5" to anyone who is not an organiser."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


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


def spreadsheet_safe(value: object) -> object:
    """Neutralise text that a spreadsheet would run as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_dataframe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(spreadsheet_safe)
    out.columns = [spreadsheet_safe(str(c)) for c in out.columns]
    return out


def safe_csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV for download: UTF-8 with BOM (so Excel reads accents), formulas neutralised."""
    return safe_dataframe(df).to_csv(index=False).encode("utf-8-sig")


def safe_csv_rows(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([spreadsheet_safe(h) for h in header])
    for r in rows:
        w.writerow([spreadsheet_safe(v) for v in r])
    return buf.getvalue()


def suppress_small(n: int, *, organiser: bool = False) -> str:
    """A count as shown to people: groups smaller than 5 are hidden from non-organisers."""
    if organiser or n == 0 or n >= SMALL_GROUP:
        return str(n)
    return f"fewer than {SMALL_GROUP}"
