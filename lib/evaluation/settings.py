"""Who counts and how: the current members, the adoption base and rule (``needed = max(MIN_ENDORSEMENTS,
ceil(share x base))``) in plain words, and the evaluation's settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lib import assembly
from lib.errors import UserError
from lib.evaluation.access_codes import code_holders
from lib.evaluation.event_log import _log
from lib.evaluation.vocabulary import DEFAULT_LIMIT, DEFAULT_MEMBERS_FIRST_DAYS, DEFAULT_SHARE
from lib.store.db import Database
from lib.store.settings import get_setting, set_setting
from lib.plaintext import count

# --------------------------------------------------------------------------------------
# Members, settings, the log
# --------------------------------------------------------------------------------------


def current_members(db: Database) -> list[str]:
    """Person ids of the current members (lib.assembly)."""
    return list(assembly.current_members(db))


@dataclass(frozen=True)
class Base:
    count: int
    source: str


def adoption_base(db: Database) -> Base:
    """How many members the agreed share is taken of, and where that number comes from."""
    attended = assembly.attended_last_session(db)
    if attended is not None:
        return Base(int(attended), "members who attended the last session")
    members = current_members(db)
    if members:
        return Base(len(members), "current members (no session attendance is recorded yet)")
    return Base(
        len(code_holders(db)), "members holding an access code (no session attendance or member list is recorded yet)"
    )


MIN_ENDORSEMENTS = 2
"""However few members the share is taken of, a question needs at least this many endorsements: the
member who proposed it cannot adopt it alone."""


def needed_endorsements(share: float, base: int) -> int:
    """The agreed share of the base, rounded up, and never fewer than MIN_ENDORSEMENTS."""
    return max(MIN_ENDORSEMENTS, math.ceil(share * base - 1e-9))


def members_words(n: int, what: str = "member") -> str:
    """'1 member', '2 members' (also '1 endorsement', '3 endorsements')."""
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def adoption_rule_words(share: float, base: Base, limit: int) -> str:
    """The adoption rule in plain words, with this base's numbers (Markdown; holds no text people typed)."""
    needed = needed_endorsements(share, base.count)
    who = base.source.split(" (")[0]  # e.g. "members who attended the last session"
    if base.count == 1:
        who = who.replace("members", "member", 1)
    return (
        f"A members' question goes into the surveys when at least {share:.0%} of the {base.count} {who} "
        f"endorse it, and never fewer than {MIN_ENDORSEMENTS} members, so nobody can adopt their own question "
        f"alone. Now that means **{members_words(needed, 'endorsement')} or more**. At most {limit} members' "
        "questions go into the surveys in all; if more qualify, the most endorsed go in first (a public lot "
        "decides a tie)."
    )


def eval_settings(db: Database) -> dict:
    s = get_setting(db, "evaluation", {}) or {}
    return {
        "share": float(s.get("share", DEFAULT_SHARE)),
        "limit": int(s.get("limit", DEFAULT_LIMIT)),
        "members_first_days": int(s.get("members_first_days", DEFAULT_MEMBERS_FIRST_DAYS)),
        "app_url": s.get("app_url", ""),
    }


def save_eval_settings(
    db: Database,
    *,
    share: float | None = None,
    limit: int | None = None,
    members_first_days: int | None = None,
    app_url: str | None = None,
    actor: str = "organiser",
) -> dict:
    s = eval_settings(db)
    if share is not None:
        if not 0 < share <= 1:
            raise UserError("The agreed share must be more than 0% and at most 100%.")
        s["share"] = float(share)
    if limit is not None:
        if not 1 <= int(limit) <= 20:
            raise UserError("The limit on members' questions must be between 1 and 20.")
        s["limit"] = int(limit)
    if members_first_days is not None:
        if not 0 <= int(members_first_days) <= 90:
            raise UserError("The members-first period must be between 0 and 90 days.")
        s["members_first_days"] = int(members_first_days)
    if app_url is not None:
        s["app_url"] = app_url.strip().rstrip("/")
    set_setting(db, "evaluation", s, actor)
    db.transaction(
        lambda cur: _log(
            cur,
            actor,
            "settings",
            detail=f"agreed share {s['share']:.0%}, limit {s['limit']}, members first {count(s['members_first_days'], 'day')}",
        )
    )
    return s
