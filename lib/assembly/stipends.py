"""Stipends: a fixed amount per session attended (setting ``stipend``), payments recorded, and the
treasurer's export (pseudonyms only unless the organiser asks for names).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

import pandas as pd

from lib.assembly.attendance import _CURRENT_MARKS
from lib.assembly.members import _now, status_label
from lib.assembly.support import _check_member
from lib.errors import UserError
from lib.privacy import safe_csv_bytes
from lib.store.db import Database
from lib.store.settings import get_setting, set_setting

# --- stipends ----------------------------------------------------------------------------------


def _money(value, what: str = "The amount") -> Decimal:
    try:
        d = Decimal(str(value).strip().replace(",", "").lstrip("£€$"))
    except (InvalidOperation, ValueError):
        raise UserError(f"{what} “{value}” is not a number. Write it like 25 or 25.50.") from None
    if not d.is_finite():
        raise UserError(f"{what} “{value}” is not a number. Write it like 25 or 25.50.")
    if d < 0:
        raise UserError(f"{what} cannot be negative.")
    if d != d.quantize(Decimal("0.01")):
        raise UserError(f"{what} “{value}” has more than two decimal places.")
    return d.quantize(Decimal("0.01"))


def stipend_settings(db: Database) -> dict:
    """{'amount': Decimal per session attended, 'currency': '£'}; amount 0 means no stipends."""
    s = get_setting(db, "stipend", {}) or {}
    return {"amount": _money(s.get("amount", "0")), "currency": s.get("currency", "£")}


def set_stipend(db: Database, amount, actor: str | None, *, currency: str = "£") -> None:
    set_setting(
        db,
        "stipend",
        {"amount": str(_money(amount, "The amount per session")), "currency": (currency or "£").strip()[:5]},
        actor,
    )


def record_payment(
    db: Database,
    person_id: str,
    amount,
    actor: str | None,
    *,
    method: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> None:
    value = _money(amount, "The payment")
    if value == 0:
        raise UserError("The payment must be more than zero.")
    at = _now(now)

    def write(cur):
        _check_member(cur, person_id)
        cur.execute(
            "INSERT INTO stipend_payments (person_id, amount, paid_at, actor, method, note) VALUES (?, ?, ?, ?, ?, ?)",
            [person_id, value, at, actor, (method or "").strip() or None, (note or "").strip() or None],
        )

    db.transaction(write)


def payments_frame(db: Database) -> pd.DataFrame:
    return db.query_df(
        "SELECT payment_id, person_id, amount, paid_at, actor, method, note FROM stipend_payments "
        "ORDER BY payment_id DESC"
    )


def stipends_frame(db: Database) -> pd.DataFrame:
    """Per member ever enrolled: person_id, status, sessions_attended, owed, paid, balance (Decimal).
    Owed = amount per session × sessions attended (present or late, sessions not cancelled)."""
    rate = stipend_settings(db)["amount"]
    rows = db.query(f"""
        SELECT m.person_id, m.status,
               (SELECT count(*) FROM ({_CURRENT_MARKS}) a JOIN assembly_sessions s USING (session_id)
                WHERE a.person_id = m.person_id AND a.mark IN ('present', 'late') AND s.cancelled_at IS NULL),
               (SELECT coalesce(sum(p.amount), 0) FROM stipend_payments p WHERE p.person_id = m.person_id)
        FROM members m ORDER BY m.person_id""")
    out = []
    for pid, status, n, paid in rows:
        owed = (rate * int(n)).quantize(Decimal("0.01"))
        paid = Decimal(paid).quantize(Decimal("0.01"))
        out.append([pid, status, int(n), owed, paid, owed - paid])
    return pd.DataFrame(out, columns=["person_id", "status", "sessions_attended", "owed", "paid", "balance"])


def treasurer_export(db: Database, *, include_names: bool = False) -> bytes:
    """CSV for the treasurer (spreadsheet-safe). Pseudonyms only unless ``include_names``
    (ORGANISERS ONLY, and only when the treasurer needs names to pay people)."""
    df = stipends_frame(db)
    out = pd.DataFrame(
        {
            "Pseudonym": df["person_id"],
            "Status": df["status"].map(status_label),
            "Sessions attended": df["sessions_attended"],
            "Owed": df["owed"],
            "Paid": df["paid"],
            "Still to pay": df["balance"],
        }
    )
    if include_names:
        names = (
            dict(
                db.query(
                    "SELECT person_id, name FROM contacts WHERE list_contains(?, person_id)", [list(df["person_id"])]
                )
            )
            if len(df)
            else {}
        )
        out.insert(1, "Name", df["person_id"].map(lambda p: names.get(p) or ""))
    return safe_csv_bytes(out)
