"""Members' access codes and member sessions: codes are issued (shown once), revoked, and exchanged for an
opaque member token, never a name.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Iterable

from lib.errors import UserError
from lib.evaluation.event_log import _log
from lib.evaluation.vocabulary import _CODE_ALPHABET, _CODE_LENGTH, _sha
from lib.store.db import Database
from lib.plaintext import count

# --------------------------------------------------------------------------------------
# Access codes and member sessions
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberSession:
    """A signed-in member: an opaque token, never a name or pseudonym."""

    token: str

    def __repr__(self) -> str:  # keep the token out of logs and tracebacks
        return "MemberSession(…)"


def normalise_code(code: str | None) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(code or "").upper())


def format_code(code: str) -> str:
    c = normalise_code(code)
    return "-".join(c[i : i + 4] for i in range(0, len(c), 4))


def code_hash(code: str) -> str:
    return _sha("kleroterion-access-code|" + normalise_code(code))


def _new_code() -> str:
    # Access codes must be unguessable: the operating system's secure random source.
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))


def issue_codes(
    db: Database, person_ids: Iterable[str], actor: str | None = "organiser", *, replace: bool = False
) -> dict[str, str]:
    """New access codes: person_id -> code (formatted). Shown once: only a hash is stored.

    People who already hold a code are skipped unless ``replace`` (a lost card): then the old
    code stops working and the new one keeps the same member token (still one answer per wave).
    """
    ids = list(dict.fromkeys(str(p) for p in person_ids))
    codes: dict[str, str] = {pid: _new_code() for pid in ids}

    def write(cur):
        out = {}
        held = {
            r[0]: r[1]
            for r in cur.execute("SELECT person_id, token FROM eval_access_codes WHERE revoked_at IS NULL").fetchall()
        }
        tokens = {
            r[0]: r[1]
            for r in cur.execute(
                "SELECT person_id, any_value(token) FROM eval_access_codes GROUP BY person_id"
            ).fetchall()
        }
        for pid in ids:
            if pid in held and not replace:
                continue
            if pid in held:
                cur.execute(
                    "UPDATE eval_access_codes SET revoked_at = now() WHERE person_id = ? AND revoked_at IS NULL", [pid]
                )
            token = tokens.get(pid) or secrets.token_hex(16)
            cur.execute(
                "INSERT INTO eval_access_codes (code_hash, person_id, token, issued_by) VALUES (?, ?, ?, ?)",
                [code_hash(codes[pid]), pid, token, actor],
            )
            out[pid] = format_code(codes[pid])
        if out and replace:  # named, so that a card made for somebody else's seat is seen in the log
            _log(
                cur,
                actor or "organiser",
                "codes_issued",
                detail=f"new access card for {', '.join(sorted(out))}: the old code no longer works",
            )
        elif out:
            _log(cur, actor or "organiser", "codes_issued", detail=f"{count(len(out), 'access code')} made")
        return out

    return db.transaction(write)


def revoke_codes(db: Database, person_ids: Iterable[str], actor: str | None = "organiser") -> int:
    ids = [str(p) for p in person_ids]
    if not ids:
        return 0

    def write(cur):
        n = cur.execute(
            "SELECT count(*) FROM eval_access_codes WHERE revoked_at IS NULL AND list_contains(?, person_id)", [ids]
        ).fetchall()[0][0]
        cur.execute(
            "UPDATE eval_access_codes SET revoked_at = now() WHERE revoked_at IS NULL AND list_contains(?, person_id)",
            [ids],
        )
        if n:
            _log(cur, actor or "organiser", "codes_revoked", detail=f"{count(n, 'access code')} stopped")
        return n

    return db.transaction(write)


def code_holders(db: Database) -> list[str]:
    return [
        r[0]
        for r in db.query(
            "SELECT DISTINCT person_id FROM eval_access_codes WHERE revoked_at IS NULL ORDER BY person_id"
        )
    ]


def member_sign_in(db: Database, code: str | None) -> MemberSession | None:
    """The member behind an access code, as an opaque session; None if the code is not valid."""
    c = normalise_code(code)
    if len(c) != _CODE_LENGTH:
        return None
    rows = db.query("SELECT token FROM eval_access_codes WHERE code_hash = ? AND revoked_at IS NULL", [code_hash(c)])
    return MemberSession(rows[0][0]) if rows else None


def member_session_for(db: Database, token: str | None) -> MemberSession | None:
    """The member session behind a token kept in a "stay signed in" cookie, while its code still works."""
    if not token:
        return None
    rows = db.query("SELECT count(*) FROM eval_access_codes WHERE token = ? AND revoked_at IS NULL", [str(token)])
    return MemberSession(str(token)) if rows and rows[0][0] else None


def _session_token(session: MemberSession | None) -> str:
    if not isinstance(session, MemberSession) or not session.token:
        raise UserError("Please sign in with the access code on your card first.")
    return session.token


def _check_active(cur, token: str) -> None:
    ok = cur.execute(
        "SELECT count(*) FROM eval_access_codes WHERE token = ? AND revoked_at IS NULL", [token]
    ).fetchall()[0][0]
    if not ok:
        raise UserError(
            "Your access code no longer works (it was replaced or stopped). Ask the organisers for a new card."
        )
