"""Personal accounts for organisers and volunteers (migration 008).

An organiser invites a person (name, role, optionally an e-mail) and is shown a one-time
invitation code, once; only its SHA-256 is stored. The person opens the invitation link (or types
the code on the sign-in page), chooses a password and from then on signs in with their name or
e-mail and that password, so the record of who did what carries their name. Organisers list the
accounts (never a password), revoke one (its sessions end at once) and invite someone again (a new
code: for a forgotten password, or to bring back a revoked account).

The very first organiser of a real deployment gets in with the shared organiser password from
the secrets, with ``python -m lib.access.auth invite …`` (app stopped), or with the one-time set-up code
that the app writes in its log when no organiser can sign in (``ensure_setup_invitation``).

``sign_in`` applies lib.access.auth's rules: throttling before any hashing, weak hashes refused, the demo
passwords only in the demo.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Mapping

from lib.access import auth
from lib.store.db import Database
from lib.errors import UserError
from lib.i18n import N_  # the refusals people read are translated where they are shown (pages/signin.py)

INVITE_DAYS = 7
SETUP_HOURS = 24
NAME_MAX = 80
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read aloud and type
STATUS_LABELS = {"invited": "Invited", "active": "Active", "revoked": "Revoked"}

_COLUMNS = (
    "account_id, name, email, role, status, created_at, created_by, invite_expires, activated_at, "
    "last_sign_in, token_epoch"
)


@dataclass(frozen=True)
class Account:
    account_id: int
    name: str
    email: str | None
    role: str
    status: str
    created_at: datetime | None
    created_by: str | None
    invite_expires: datetime | None
    activated_at: datetime | None
    last_sign_in: datetime | None
    token_epoch: int

    @property
    def actor(self) -> str:
        return auth.actor_label(self.role, self.name)


def _account(row) -> Account:
    return Account(*row)


def _now(now: datetime | None = None) -> datetime:
    return now or datetime.now(timezone.utc)


# --- codes --------------------------------------------------------------------------------------
def new_code() -> str:
    """80 random bits as four groups of four letters and digits, e.g. ``K7QM-2XWD-PH9C-RTAE``."""
    chars = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
    return "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def normalise_code(code: str) -> str:
    return "".join(ch for ch in str(code or "").upper() if ch.isalnum())


def code_hash(code: str) -> str:
    return hashlib.sha256(("kleroterion-invitation:" + normalise_code(code)).encode()).hexdigest()


# --- names --------------------------------------------------------------------------------------
def clean_name(name: str) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise UserError("Please type the person's name.")
    if len(name) > NAME_MAX:
        raise UserError(f"Please keep the name under {NAME_MAX} characters.")
    if "@" in name:
        raise UserError("Please type a name here, not an e-mail address (there is a box for that).")
    return name


def clean_email(email: str | None) -> str | None:
    email = "".join(str(email or "").split()).lower()
    if not email:
        return None
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 200:
        raise UserError(f"“{email}” does not look like an e-mail address. Check it, or leave the box empty.")
    return email


def _name_taken(cur, name: str, email: str | None, except_id: int | None = None) -> str | None:
    rows = cur.execute(
        "SELECT lower(name), lower(coalesce(email, '')) FROM accounts "
        "WHERE status <> 'revoked' AND name <> '' AND account_id <> ?",
        [except_id or -1],
    ).fetchall()
    low = name.lower()
    for other_name, other_email in rows:
        if low in (other_name, other_email):
            return f"There is already an account for “{name}”. Use a name that tells the two people apart."
        if email and email in (other_name, other_email):
            return f"The e-mail address {email} already belongs to another account."
    return None


def _event(cur, account_id: int, kind: str, actor: str | None) -> None:
    cur.execute("INSERT INTO account_events (account_id, kind, actor) VALUES (?, ?, ?)", [account_id, kind, actor])


# --- organisers' actions -----------------------------------------------------------------------
def invite(
    db: Database, name: str, role: str, actor: str, *, email: str | None = None, now: datetime | None = None
) -> tuple[Account, str]:
    """A new account waiting for its person. Returns it and the one-time code (shown once)."""
    name, email = clean_name(name), clean_email(email)
    if role not in auth.STAFF_ROLES:
        raise UserError("Choose whether the person is an organiser or a volunteer.")
    code = new_code()
    expires = _now(now) + timedelta(days=INVITE_DAYS)

    def write(cur):
        problem = _name_taken(cur, name, email)
        if problem:
            raise UserError(problem)
        [(account_id,)] = cur.execute(
            "INSERT INTO accounts (name, email, role, status, invite_hash, invite_expires, created_by) "
            "VALUES (?, ?, ?, 'invited', ?, ?, ?) RETURNING account_id",
            [name, email, role, code_hash(code), expires, actor],
        ).fetchall()
        _event(cur, account_id, "invited", actor)
        return account_id

    account_id = db.transaction(write)
    return _stored_account(db, account_id), code


def reinvite(db: Database, account_id: int, actor: str, *, now: datetime | None = None) -> str:
    """A new one-time code for an account (a forgotten password, a lost or expired invitation, or a
    revoked account brought back). The old password, code and sessions stop working."""
    code = new_code()
    expires = _now(now) + timedelta(days=INVITE_DAYS)

    def write(cur):
        rows = cur.execute(
            "SELECT name, email, status FROM accounts WHERE account_id = ? AND name <> ''", [account_id]
        ).fetchall()
        if not rows:
            raise UserError("That account no longer exists. Reload the page.")
        name, email, status = rows[0]
        if status == "revoked":
            problem = _name_taken(cur, name, email, except_id=account_id)
            if problem:
                raise UserError(problem)
        cur.execute(
            "UPDATE accounts SET status = 'invited', password_hash = NULL, invite_hash = ?, "
            "invite_expires = ?, token_epoch = token_epoch + 1, revoked_at = NULL, revoked_by = NULL "
            "WHERE account_id = ?",
            [code_hash(code), expires, account_id],
        )
        _event(cur, account_id, "invited again", actor)

    db.transaction(write)
    return code


def revoke(db: Database, account_id: int, actor: str, *, own_account_id: int | None = None) -> Account:
    """End an account: it can no longer sign in, and every browser signed in with it is signed out."""
    if own_account_id is not None and account_id == own_account_id:
        raise UserError("You cannot revoke your own account. Ask another organiser to do it.")

    def write(cur):
        rows = cur.execute("SELECT status FROM accounts WHERE account_id = ?", [account_id]).fetchall()
        if not rows:
            raise UserError("That account no longer exists. Reload the page.")
        if rows[0][0] == "revoked":
            return
        cur.execute(
            "UPDATE accounts SET status = 'revoked', password_hash = NULL, invite_hash = NULL, "
            "invite_expires = NULL, token_epoch = token_epoch + 1, revoked_at = current_timestamp, "
            "revoked_by = ? WHERE account_id = ?",
            [actor, account_id],
        )
        _event(cur, account_id, "revoked", actor)

    db.transaction(write)
    return _stored_account(db, account_id)


def get_account(db: Database, account_id: int) -> Account | None:
    rows = db.query(f"SELECT {_COLUMNS} FROM accounts WHERE account_id = ?", [account_id])
    return _account(rows[0]) if rows else None


def _stored_account(db: Database, account_id: int) -> Account:
    """The account just written (a plain refusal, should it be gone meanwhile)."""
    account = get_account(db, account_id)
    if account is None:
        raise UserError("That account no longer exists. Reload the page.")
    return account


def list_accounts(db: Database) -> list[Account]:
    """Every account (no password, no code), organisers first, then by name."""
    return [
        _account(r)
        for r in db.query(
            f"SELECT {_COLUMNS} FROM accounts WHERE name <> '' "
            "ORDER BY status = 'revoked', role = 'volunteer', lower(name)"
        )
    ]


def has_accounts(db: Database) -> bool:
    """Whether the team uses personal accounts at all (then the sign-in page asks for a name)."""
    return bool(db.scalar("SELECT count(*) FROM accounts WHERE name <> ''"))


def has_active_organiser(db: Database) -> bool:
    return bool(db.scalar("SELECT count(*) FROM accounts WHERE status = 'active' AND role = 'organiser'"))


# --- the invited person ------------------------------------------------------------------------
INVALID_INVITATION = (
    "That invitation code does not work: it may be mistyped, used already or out of date "
    f"(invitations last {INVITE_DAYS} days). Ask an organiser for a new one."
)


def pending_invitation(db: Database, code: str, *, now: datetime | None = None) -> Account | None:
    if len(normalise_code(code)) != 16:
        return None
    rows = db.query(
        f"SELECT {_COLUMNS} FROM accounts WHERE status = 'invited' AND invite_hash = ? AND invite_expires > ?",
        [code_hash(code), _now(now)],
    )
    return _account(rows[0]) if rows else None


def accept(
    db: Database, code: str, password: str, again: str, *, name: str | None = None, now: datetime | None = None
) -> Account:
    """The invited person chooses their password; the code is used up. Raises UserError with a plain
    message (nothing changes) when the code or the password will not do."""
    pending = pending_invitation(db, code, now=now)
    if pending is None:
        raise UserError(INVALID_INVITATION)
    final_name = pending.name
    if not final_name:  # the set-up invitation: the first organiser names themselves
        final_name = clean_name(name or "")
    problem = auth.password_problem(password, again, name=final_name)
    if problem:
        raise UserError(problem)
    stored = auth.hash_password(password)  # outside the transaction: it takes a moment

    def write(cur):
        hit = cur.execute(
            "SELECT count(*) FROM accounts WHERE account_id = ? AND status = 'invited' AND invite_hash = ?",
            [pending.account_id, code_hash(code)],
        ).fetchall()[0][0]
        if not hit:  # used a moment ago in another window
            raise UserError(INVALID_INVITATION)
        if not pending.name:
            taken = _name_taken(cur, final_name, None, except_id=pending.account_id)
            if taken:
                raise UserError(taken)
        cur.execute(
            "UPDATE accounts SET name = ?, status = 'active', password_hash = ?, invite_hash = NULL, "
            "invite_expires = NULL, activated_at = current_timestamp WHERE account_id = ?",
            [final_name, stored, pending.account_id],
        )
        _event(cur, pending.account_id, "accepted", auth.actor_label(pending.role, final_name))

    db.transaction(write)
    return _stored_account(db, pending.account_id)


setup_codes_logged: set[str] = set()  # databases whose set-up code this process has written in its log


def ensure_setup_invitation(db: Database, *, now: datetime | None = None) -> str | None:
    """When no organiser account exists: a fresh one-time set-up code for the first organiser (any
    earlier set-up code stops working). None when an organiser account exists already."""
    if has_active_organiser(db):
        return None
    code = new_code()
    expires = _now(now) + timedelta(hours=SETUP_HOURS)

    def write(cur):
        rows = cur.execute("SELECT account_id FROM accounts WHERE name = '' AND status = 'invited'").fetchall()
        if rows:
            cur.execute(
                "UPDATE accounts SET invite_hash = ?, invite_expires = ? WHERE account_id = ?",
                [code_hash(code), expires, rows[0][0]],
            )
        else:
            [(account_id,)] = cur.execute(
                "INSERT INTO accounts (name, role, status, invite_hash, invite_expires, created_by) "
                "VALUES ('', 'organiser', 'invited', ?, ?, 'set-up') RETURNING account_id",
                [code_hash(code), expires],
            ).fetchall()
            _event(cur, account_id, "set-up code", "server")

    db.transaction(write)
    return code


# --- signing in ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignedIn:
    role: str
    name: str | None  # None: the shared role password
    account_id: int | None
    version: str  # binds a cookie to the account's epoch or the shared password

    @property
    def actor(self) -> str:
        return auth.actor_label(self.role, self.name)

    @property
    def subject(self) -> str:
        return f"account:{self.account_id}" if self.account_id is not None else f"role:{self.role}"


WRONG_SHARED = N_("That password is not right. Check it with the organisers and try again.")
WRONG_ACCOUNT = N_(
    "That name or password is not right. Check both and try again. If you have forgotten your "
    "password, an organiser can send you a new invitation."
)


def locked_message(role: str) -> str:
    return (
        f"Signing in as {auth.ROLE_LABELS[role].lower()} with a shared password is not set up here. "
        "Sign in with your own name and password, or ask an organiser for an invitation."
    )


def sign_in(
    db: Database,
    throttle: auth.Throttle,
    *,
    identifier: str | None,
    password: str,
    role: str,
    client: tuple[str, str],
    credentials: Mapping[str, auth.Credential],
) -> SignedIn:
    """Check a sign-in. With ``identifier`` (a name or e-mail) it is a personal account, whatever
    ``role`` says; without, the shared password of ``role``. Raises UserError with a plain message.

    Throttling comes first: during a back-off the refusal is immediate, with no hashing. Every
    attempt is counted as a wrong try before its password is checked (and the count undone when it
    was right), so that many attempts at the same moment cannot slip past the limit together."""
    identifier = " ".join(str(identifier or "").split())
    if not identifier:
        cred = credentials.get(role)
        if cred is None or role not in auth.STAFF_ROLES:
            raise UserError("Choose whether you are an organiser or a volunteer.")
        if cred.kind == "unsafe":
            raise UserError(cred.unsafe_message())
        if cred.kind == "none":
            raise UserError(locked_message(role))
    keys = [auth.account_key(identifier) if identifier else auth.role_key(role), client]
    wait = throttle.begin(keys)
    if wait > 0:
        raise UserError(auth.too_many_tries(wait))
    try:
        result = _check(db, identifier, password, role, credentials)
    except auth.SignInBusy:
        throttle.succeeded(keys, forget=())  # not a wrong try: undo the count
        raise
    if result is None:
        raise UserError(WRONG_ACCOUNT if identifier else WRONG_SHARED)
    throttle.succeeded(keys)
    if result.account_id is not None:
        db.transaction(
            lambda cur: cur.execute(
                "UPDATE accounts SET last_sign_in = current_timestamp WHERE account_id = ?", [result.account_id]
            )
        )
    return result


def _check(
    db: Database, identifier: str, password: str, role: str, credentials: Mapping[str, auth.Credential]
) -> SignedIn | None:
    if not identifier:
        cred = credentials[role]
        return SignedIn(role, None, None, cred.fingerprint()) if auth.check_shared_password(cred, password) else None
    low = identifier.lower()
    rows = db.query(
        "SELECT account_id, name, role, password_hash, token_epoch FROM accounts "
        "WHERE status = 'active' AND name <> '' AND (lower(name) = ? OR lower(email) = ?)",
        [low, low],
    )
    if len(rows) != 1 or not rows[0][3] or not password:
        auth.spend_hash_time(password)  # an unknown name takes as long as a wrong password
        return None
    account_id, name, acct_role, stored, epoch = rows[0]
    if not auth.verify_password(password, stored):
        return None
    return SignedIn(acct_role, name, account_id, str(epoch))


def still_signed_in(db: Database, account_id: int, version: str) -> Account | None:
    """The account of a signed-in session, if it is still active and not revoked or invited again
    since (checked on every page run, so that revoking ends a session at once)."""
    acct = get_account(db, account_id)
    if acct is None or acct.status != "active" or str(acct.token_epoch) != str(version):
        return None
    return acct


# --- "stay signed in" cookies ended by signing out ---------------------------------------------
def end_token(db: Database, claims: auth.TokenClaims) -> None:
    expires = datetime.fromtimestamp(claims.expires, timezone.utc)

    def write(cur):
        cur.execute("DELETE FROM signed_out_tokens WHERE expires_at < current_timestamp")
        cur.execute(
            "INSERT INTO signed_out_tokens (token_id, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [claims.token_id, expires],
        )

    db.transaction(write)


def token_ended(db: Database, token_id: str) -> bool:
    return bool(db.scalar("SELECT count(*) FROM signed_out_tokens WHERE token_id = ?", [token_id]))


def restore(db: Database, claims: auth.TokenClaims, credentials: Mapping[str, auth.Credential]) -> SignedIn | None:
    """Who a genuine, unexpired cookie signs in, if its account or shared password still stands."""
    if token_ended(db, claims.token_id):
        return None
    kind, _, value = claims.subject.partition(":")
    if kind == "account" and value.isdigit():
        acct = still_signed_in(db, int(value), claims.version)
        return SignedIn(acct.role, acct.name, acct.account_id, claims.version) if acct else None
    if kind == "role" and value in auth.STAFF_ROLES:
        cred = credentials.get(value)
        if cred is not None and cred.usable and cred.fingerprint() == claims.version:
            return SignedIn(value, None, None, claims.version)
    return None


# --- the demo ----------------------------------------------------------------------------------
def holds_demo_assembly(db: Database) -> bool:
    """True while the database was created as the demo and holds nothing real: the demo marker decides
    (lib.store.demo_marker.holds_only_demo), and no sign-ups were ever brought in from anywhere but the demo."""
    from lib.store.demo_marker import holds_only_demo

    return holds_only_demo(db)
