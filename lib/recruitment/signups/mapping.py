"""Which sheet column holds what: the organiser maps columns to roles once; it is saved.

Roles: ``id`` (a response id or the form's timestamp, used to recognise a row again),
``name``, ``email``, ``phone``, ``address``, ``postcode`` and one ``field:<key>`` per
stratification field. Only the stratification fields are required.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lib.recruitment.categories import Field
from lib.store.db import Database
from lib.errors import UserError
from lib.store.settings import get_setting, set_setting

CONTACT_ROLES = ("name", "email", "phone", "address", "postcode")
ROLE_LABELS = {
    "id": "Response id or timestamp",
    "name": "Name",
    "email": "Email address",
    "phone": "Phone number",
    "address": "Home address",
    "postcode": "Postcode",
}
_HINTS = {
    "id": ("timestamp", "responseid", "id", "submitted", "submissiontime", "date"),
    "name": ("fullname", "name", "yourname"),
    "email": ("email", "emailaddress", "e-mail"),
    "phone": ("phone", "phonenumber", "mobile", "telephone", "tel"),
    "address": ("address", "homeaddress", "streetaddress"),
    "postcode": ("postcode", "postalcode", "zip", "zipcode"),
}
SETTING_KEY = "column_mapping"


def field_role(key: str) -> str:
    return f"field:{key}"


def _n(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass
class Mapping:
    columns: dict[str, str]  # role -> header text in the sheet

    def column(self, role: str) -> str | None:
        return self.columns.get(role) or None

    def to_json(self) -> dict[str, str]:
        return dict(self.columns)


def suggest_mapping(headers: list[str], fields: list[Field]) -> Mapping:
    """A first guess from the header names, for the organiser to check."""
    normalised = {h: _n(h) for h in headers if h.strip()}
    taken: set[str] = set()
    out: dict[str, str] = {}

    def pick(role: str, candidates: list[str]) -> None:
        cands = [c for c in candidates if c]
        # exact match first, then "contains"
        for exact in (True, False):
            for h, hn in normalised.items():
                if h in taken or not hn:
                    continue
                if any((hn == c) if exact else (c in hn and len(c) >= 4) for c in cands):
                    out[role] = h
                    taken.add(h)
                    return

    for f in fields:
        pick(field_role(f.key), [_n(f.question), _n(f.label), _n(f.key)])
    for role in ("email", "phone", "postcode", "address", "name", "id"):
        pick(role, [_n(x) for x in _HINTS[role]])
    return Mapping(out)


def check_mapping(mapping: Mapping, headers: list[str], fields: list[Field]) -> list[str]:
    """Plain-language problems with a mapping against the sheet's headers (empty = fine)."""
    problems = []
    present = set(headers)
    for f in fields:
        col = mapping.column(field_role(f.key))
        if not col:
            problems.append(f"Choose the column that holds “{f.label}”.")
    for role, col in mapping.columns.items():
        if col and col not in present:
            what = ROLE_LABELS.get(role) or next((f.label for f in fields if field_role(f.key) == role), role)
            problems.append(
                f"The column “{col}” (used for {what}) is not in the sheet any more. "
                f"Columns found: {', '.join(h for h in headers if h) or 'none'}. Choose the right column again."
            )
    used: dict[str, str] = {}
    for role, col in mapping.columns.items():
        if col:
            if col in used:
                problems.append(
                    f"The column “{col}” is chosen twice ({used[col]} and {role}). Each column can hold one thing."
                )
            used[col] = role
    return problems


def load_mapping(db: Database) -> Mapping | None:
    raw = get_setting(db, SETTING_KEY)
    return Mapping(dict(raw)) if raw else None


def save_mapping(db: Database, mapping: Mapping, actor: str | None = None) -> None:
    if not mapping.columns:
        raise UserError("The column mapping is empty.")
    set_setting(db, SETTING_KEY, mapping.to_json(), actor)
