"""Who may see what, and the rules of signing in. Pure Python: no Streamlit, no database.

Organisers and volunteers sign in with a personal account (name or e-mail and their own
password, see lib/access/accounts.py) or, in very small groups, with one shared password per role;
members with the access code on their card; everyone else sees the public pages.

Shared passwords are stored only as PBKDF2-SHA256 hashes in ``.streamlit/secrets.toml``::

    [kleroterion_auth]
    organiser_password_hash = "pbkdf2_sha256$600000$<salt>$<hash>"
    volunteer_password_hash = "pbkdf2_sha256$600000$<salt>$<hash>"
    # optional, with Streamlit's built-in login (st.login) configured under [auth]:
    organiser_emails = ["chair@example.org"]
    volunteer_emails = ["helper@example.org"]
    # optional: the key that signs the "stay signed in" cookie (else a file beside the database)
    session_secret = "<64 random hex digits>"

Make a hash with:  python -m lib.access.auth
Make an invitation for an account (with the app stopped):
    python -m lib.access.auth invite --name "Sam Lee" --role organiser

The rules enforced here:
- A stored hash with fewer than ``MIN_ITERATIONS`` rounds, or a malformed one, is never accepted
  (``hash_problem`` says why, in plain words).
- A role with nothing configured is locked. The public demo passwords work only in the demo: the
  app runs the demo, the database holds only the demo assembly, and no password hash and no
  identity provider is configured (``role_credentials``).
- Failed sign-ins are throttled per account and per client with exponential back-off
  (``Throttle``). A refusal during a back-off is immediate: no hashing.
- At most ``HASH_SLOTS`` password hashes are computed at once, so a crowd of guessers cannot take
  every processor from the other visitors (PBKDF2 in hashlib releases the GIL, so the rest of the
  server keeps running while one is computed).
- "Stay signed in" is a signed (HMAC-SHA256), expiring token in a cookie (``issue_token`` /
  ``read_token``), bound to the account's current version so that revoking it ends every session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

from lib.errors import UserError

ORGANISER, VOLUNTEER, MEMBER, PUBLIC = "organiser", "volunteer", "member", "public"
ROLES = (ORGANISER, VOLUNTEER, MEMBER, PUBLIC)
STAFF_ROLES = (ORGANISER, VOLUNTEER)
ROLE_LABELS = {ORGANISER: "Organiser", VOLUNTEER: "Volunteer", MEMBER: "Assembly member", PUBLIC: "Visitor"}
DEMO_PASSWORDS = {ORGANISER: "riverside-organiser", VOLUNTEER: "riverside-volunteer"}

SCHEME = "pbkdf2_sha256"
ITERATIONS = 600_000  # what we make (OWASP 2023 advice for PBKDF2-SHA256)
MIN_ITERATIONS = 200_000  # the least we accept from a configured hash
MIN_PASSWORD_LENGTH = 10
_ITERATIONS = ITERATIONS  # the old name, kept for callers

PASSWORD_ADVICE = (
    f"Use at least {MIN_PASSWORD_LENGTH} characters. Three or four unrelated words are easy to "
    "remember and hard to guess. Do not use a password you use anywhere else."
)


class SignInBusy(UserError):
    """Too many passwords are being checked at this moment."""


# --- hashing ------------------------------------------------------------------------------------
HASH_SLOTS = max(1, (os.cpu_count() or 2) // 2)
HASH_WAIT = 20.0  # seconds a sign-in waits for a free slot before "try again in a minute"
_hash_slots = threading.BoundedSemaphore(HASH_SLOTS)
_count_lock = threading.Lock()
_pbkdf2_runs = 0


def pbkdf2_runs() -> int:
    """How many PBKDF2 computations this process has done (shows that a refusal did no hashing)."""
    return _pbkdf2_runs


def _pbkdf2(password: str, salt: str, iterations: int) -> bytes:
    global _pbkdf2_runs
    if not _hash_slots.acquire(timeout=HASH_WAIT):
        raise SignInBusy("Many people are signing in at this moment. Please wait a minute and try again.")
    try:
        with _count_lock:
            _pbkdf2_runs += 1
        return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("utf-8"), iterations)
    finally:
        _hash_slots.release()


def hash_password(password: str, *, salt: str | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or secrets.token_hex(16)
    digest = _pbkdf2(password, salt, iterations)
    return f"{SCHEME}${iterations}${salt}${digest.hex()}"


_HASH_SHAPE = re.compile(r"^pbkdf2_sha256\$(\d{1,9})\$([0-9A-Za-z./+_-]{1,128})\$([0-9a-f]{64})$")


def hash_problem(stored: object) -> str | None:
    """Why a stored hash must not be used (plain words), or None when it is safe."""
    if not isinstance(stored, str) or not stored.strip():
        return "it is empty"
    m = _HASH_SHAPE.match(stored.strip())
    if not m:
        return (
            "it is not a hash made by python -m lib.access.auth (it should look like "
            "pbkdf2_sha256$600000$<salt>$<64 hex digits>)"
        )
    iterations, salt = int(m.group(1)), m.group(2)
    if iterations < MIN_ITERATIONS:
        return (
            f"it was made with {iterations:,} rounds; at least {MIN_ITERATIONS:,} are needed so that a stolen "
            "copy cannot be guessed quickly"
        )
    if len(salt) < 16:
        return "its salt is too short"
    return None


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``. A weak or malformed hash never matches."""
    if not isinstance(password, str) or hash_problem(stored) is not None:
        return False
    _scheme, iterations, salt, expected = stored.strip().split("$")
    digest = _pbkdf2(password, salt, int(iterations))
    return hmac.compare_digest(digest.hex(), expected)


_DUMMY_HASH: str | None = None


def spend_hash_time(password: str) -> None:
    """Do the work of one check against nothing, so that an unknown name is not faster to probe."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = f"{SCHEME}${ITERATIONS}${'0' * 32}${'0' * 64}"
    verify_password(password or "x", _DUMMY_HASH)


def password_problem(password: str, again: str | None = None, *, name: str | None = None) -> str | None:
    """Why a new password cannot be used (plain words), or None."""
    if again is not None and password != again:
        return "The two passwords are not the same. Please type them again."
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return f"Please use at least {MIN_PASSWORD_LENGTH} characters. " + PASSWORD_ADVICE.split(". ", 1)[1]
    if len(set(password)) < 4:
        return "That password repeats too few different characters. Choose a few unrelated words instead."
    low = password.strip().lower()
    if low in {p.lower() for p in DEMO_PASSWORDS.values()} or low in {"password123", "1234567890", "qwertyuiop"}:
        return "That password is public or very common. Please choose another."
    if name and low.replace(" ", "") == name.strip().lower().replace(" ", ""):
        return "Please do not use your name as your password."
    return None


# --- shared role passwords and the demo ---------------------------------------------------------
@dataclass(frozen=True)
class Credential:
    """How a role signs in with the group's shared password."""

    role: str
    kind: str  # "password" (a safe configured hash) | "demo" | "unsafe" | "none"
    stored: str | None = None
    problem: str | None = None  # for "unsafe": why the configured hash is refused

    @property
    def usable(self) -> bool:
        return self.kind in ("password", "demo")

    def fingerprint(self) -> str:
        """Changes when the shared password changes: a cookie made for the old one stops working."""
        basis = self.stored if self.kind == "password" else self.kind
        return hashlib.sha256(f"{self.role}:{basis}".encode()).hexdigest()[:16]

    def unsafe_message(self) -> str:
        label = ROLE_LABELS[self.role].lower()
        return (
            f"The {label} password is not set up safely, so it cannot be used ({self.problem}). "
            "Whoever runs the server: make a new hash with `python -m lib.access.auth` and put it in "
            "`.streamlit/secrets.toml` (see the README's Secrets section)."
        )


def identity_provider_configured(auth_secrets: Mapping | None, login_configured: bool = False) -> bool:
    s = auth_secrets or {}
    return bool(login_configured or s.get("organiser_emails") or s.get("volunteer_emails"))


def role_credentials(
    auth_secrets: Mapping | None, *, demo_database: bool, login_configured: bool = False
) -> dict[str, Credential]:
    """Role -> how its shared password is checked.

    ``demo_database``: the app runs the demo and the database holds only the demo assembly. The demo
    passwords then work, unless any password hash or an identity provider is configured: a group
    that has started to set up its own sign-in never keeps a public password by accident."""
    s = auth_secrets or {}
    configured = {role: s.get(f"{role}_password_hash") for role in STAFF_ROLES}
    demo = demo_database and not any(configured.values()) and not identity_provider_configured(s, login_configured)
    out: dict[str, Credential] = {}
    for role in STAFF_ROLES:
        value = configured[role]
        if value:
            problem = hash_problem(value)
            out[role] = (
                Credential(role, "unsafe", str(value), problem)
                if problem
                else Credential(role, "password", str(value).strip())
            )
        elif demo:
            out[role] = Credential(role, "demo")
        else:
            out[role] = Credential(role, "none")
    return out


def check_shared_password(credential: Credential, password: str) -> bool:
    """The shared password of a role. A demo password is public, so it is compared as it is."""
    if credential.kind == "demo":
        return hmac.compare_digest((password or "").encode(), DEMO_PASSWORDS[credential.role].encode())
    if credential.kind == "password" and password:
        return verify_password(password, credential.stored or "")
    return False


def role_for_email(email: str | None, auth_secrets: Mapping | None) -> str | None:
    """The role of a person signed in through an identity provider (st.login), if any."""
    if not email:
        return None
    email = email.strip().lower()
    for role in STAFF_ROLES:
        allowed = [str(e).strip().lower() for e in (auth_secrets or {}).get(f"{role}_emails", [])]
        if email in allowed:
            return role
    return None


def role_for_identity(user: Mapping | None, auth_secrets: Mapping | None) -> str | None:
    """The role of a person signed in through an identity provider (st.login): by their e-mail address,
    and never when the provider says it has not confirmed that address (``email_verified`` false: some
    providers let anyone type any address)."""
    if not user:
        return None
    if str(user.get("email_verified", "")).strip().lower() in ("false", "0", "no"):
        return None
    return role_for_email(user.get("email"), auth_secrets)


def actor_label(role: str | None, name: str | None = None) -> str:
    """What the record of who did what says: "organiser:Sam Lee" for an account, "organiser" for the
    shared password."""
    role = role or PUBLIC
    name = " ".join(str(name or "").split())
    return f"{role}:{name}" if name else role


def actor_name(actor: str | None) -> str | None:
    """The person's name in a record of who did what ("organiser:Sam Lee" -> "Sam Lee"); None when the
    record names only a role (a shared password) or nobody, so the reader says "an organiser"."""
    role, sep, name = str(actor or "").partition(":")
    if sep and role in ROLES and name.strip():
        return name.strip()
    return None


def actor_in_sentence(actor: str | None) -> str:
    """Who did it, inside a sentence: "started by Sam Lee", "saved by an organiser" (a shared password or
    nobody recorded), or the record as written (e.g. a name typed on the targets page)."""
    words = actor_in_words(actor)
    if not words:
        return "an organiser"
    if actor_name(actor) is None and words.startswith(("An ", "A ")):
        return words[0].lower() + words[1:]
    return words


def actor_in_words(actor: str | None) -> str:
    """Who did it, for a history table's "By" column: the person's name ("organiser:Sam Lee" -> "Sam Lee"),
    else the role in words ("volunteer" -> "A volunteer", for a shared password), else the record as
    written (e.g. the automatic sync), never the record's internal "role:name" form."""
    actor = actor if isinstance(actor, str) else None  # a missing value in a table (NaN, None)
    name = actor_name(actor)
    if name:
        return name
    role = str(actor or "").partition(":")[0].strip()
    if role in ROLE_LABELS:
        return ("An " if role == ORGANISER or role == MEMBER else "A ") + ROLE_LABELS[role].lower()
    return str(actor or "")


# --- throttling ---------------------------------------------------------------------------------
ACCOUNT, CLIENT, INVITATION, MEMBER_CODE = "account", "client", "invitation", "member-code"
FREE_TRIES = {ACCOUNT: 5, CLIENT: 10, INVITATION: 10, MEMBER_CODE: 10}  # wrong tries in a row before the first wait
FIRST_WAIT = 30.0  # seconds; doubles with every further wrong try
LONGEST_WAIT = 15 * 60.0
FORGET_AFTER = 60 * 60.0  # a key with no wrong try for an hour starts afresh


class Throttle:
    """Failed sign-ins per key (("account", name) or ("client", address)), in this process's memory
    (shared by every browser session), with exponential back-off. Thread-safe."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        free_tries: Mapping[str, int] | None = None,
        first_wait: float = FIRST_WAIT,
        longest_wait: float = LONGEST_WAIT,
        forget_after: float = FORGET_AFTER,
        max_keys: int = 50_000,
    ):
        self._clock = clock
        self._free = dict(free_tries or FREE_TRIES)
        self._first, self._longest, self._forget, self._max = first_wait, longest_wait, forget_after, max_keys
        self._lock = threading.Lock()
        self._state: dict[tuple[str, str], list[float]] = {}  # key -> [failures, last failure, blocked until]

    def wait(self, keys: Iterable[tuple[str, str]]) -> float:
        """Seconds before any of ``keys`` may try again (0: now)."""
        now = self._clock()
        with self._lock:
            return max([0.0] + [self._state[k][2] - now for k in keys if k in self._state])

    def begin(self, keys: Iterable[tuple[str, str]]) -> float:
        """Start an attempt: during a back-off return the seconds left (the attempt must be refused,
        with no hashing); else count it as a wrong try already (undone by ``succeeded``) and return 0.
        Counting before the check means that attempts made at the same moment cannot all slip past
        the limit together."""
        keys = list(keys)
        now = self._clock()
        with self._lock:
            wait = max([0.0] + [self._state[k][2] - now for k in keys if k in self._state])
            if wait > 0:
                return wait
            self._record(keys, now)
            return 0.0

    def failed(self, keys: Iterable[tuple[str, str]]) -> float:
        """Record a wrong try for each key; returns the wait that now applies."""
        keys = list(keys)
        now = self._clock()
        with self._lock:
            self._record(keys, now)
            return max([0.0] + [self._state[k][2] - now for k in keys if k in self._state])

    def succeeded(self, keys: Iterable[tuple[str, str]], *, forget: tuple[str, ...] = (ACCOUNT,)) -> None:
        """The attempt was right: an account's count starts afresh; a client's wrong try counted by
        ``begin`` is taken back (its earlier wrong tries still count, so that someone with one good
        account cannot reset their count between guesses at others)."""
        with self._lock:
            for key in keys:
                st = self._state.get(key)
                if st is None:
                    continue
                if key[0] in forget or st[0] <= 1:
                    del self._state[key]
                else:
                    st[0] -= 1
                    if st[0] < self._free.get(key[0], FREE_TRIES[ACCOUNT]):
                        st[2] = 0.0

    def _record(self, keys: list[tuple[str, str]], now: float) -> None:
        if len(self._state) >= self._max:
            self._prune(now)
        for key in keys:
            st = self._state.get(key)
            if st is None or now - st[1] > self._forget:
                st = self._state[key] = [0, now, 0.0]
            st[0] += 1
            st[1] = now
            over = int(st[0]) - self._free.get(key[0], FREE_TRIES[ACCOUNT])
            if over >= 0:
                st[2] = now + min(self._longest, self._first * (2 ** min(over, 30)))

    def _prune(self, now: float) -> None:
        stale = [k for k, st in self._state.items() if now - st[1] > self._forget and st[2] <= now]
        for k in stale:
            del self._state[k]
        if len(self._state) >= self._max:  # still full: forget the oldest half
            for k, _st in sorted(self._state.items(), key=lambda kv: kv[1][1])[: self._max // 2]:
                del self._state[k]


_throttles: dict[str, Throttle] = {}
_throttles_lock = threading.Lock()


def throttle_for(name: str) -> Throttle:
    """The one throttle of a deployment (keyed by its database file), shared by all sessions."""
    with _throttles_lock:
        if name not in _throttles:
            _throttles[name] = Throttle()
        return _throttles[name]


def account_key(identifier: str) -> tuple[str, str]:
    return (ACCOUNT, " ".join(identifier.split()).lower())


def role_key(role: str) -> tuple[str, str]:
    return (ACCOUNT, f"shared password: {role}")


def client_key(ip_address: str | None, headers: Mapping[str, str] | None = None) -> tuple[str, str]:
    """Who is trying, as well as we can tell. Streamlit gives no address for a connection from this
    machine; that is also how a reverse proxy on this machine connects, so then the proxy's
    X-Forwarded-For (its last entry, the one the proxy added) or X-Real-IP is used."""
    if isinstance(ip_address, str) and ip_address:
        return (CLIENT, ip_address)
    h = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
    forwarded = [p.strip() for p in h.get("x-forwarded-for", "").split(",") if p.strip()]
    if forwarded:
        return (CLIENT, forwarded[-1][:64])
    if h.get("x-real-ip"):
        return (CLIENT, h["x-real-ip"].strip()[:64])
    return (CLIENT, "this machine")


def invitation_key(client: tuple[str, str]) -> tuple[str, str]:
    """Wrong invitation codes from one client (the codes have 80 random bits; this stops a flood)."""
    return (INVITATION, client[1])


def member_code_key(client: tuple[str, str]) -> tuple[str, str]:
    """Members' access codes are guessed per client (a card's code is the member's only secret)."""
    return (MEMBER_CODE, client[1])


def wait_words(seconds: float) -> str:
    s = max(1, math.ceil(seconds))
    if s < 90:
        return f"{s} seconds"
    return f"{math.ceil(s / 60)} minutes"


def too_many_tries(seconds: float) -> str:
    return (
        f"Too many wrong tries. Please wait {wait_words(seconds)}, then try again. "
        "(This stops anyone from guessing passwords.)"
    )


# --- "stay signed in": a signed, expiring token in a cookie -------------------------------------
COOKIE_NAME = "kleroterion_session"
SESSION_HOURS = 12
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{10,600}\.[0-9a-f]{64}$")


@dataclass(frozen=True)
class TokenClaims:
    subject: str  # "account:17" or "role:organiser"
    version: str  # the account's token epoch, or the shared password's fingerprint
    expires: float  # Unix time
    token_id: str


def issue_token(
    secret: bytes, subject: str, version: str, *, now: float | None = None, hours: float = SESSION_HOURS
) -> tuple[str, TokenClaims]:
    now = time.time() if now is None else now
    claims = TokenClaims(subject, str(version), float(int(now + hours * 3600)), secrets.token_hex(12))
    body = json.dumps(
        {"s": claims.subject, "v": claims.version, "e": int(claims.expires), "i": claims.token_id},
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    payload = base64.urlsafe_b64encode(body).decode().rstrip("=")
    mac = hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}", claims


def read_token(secret: bytes, token: object, *, now: float | None = None) -> TokenClaims | None:
    """The claims of a genuine, unexpired token; None for anything else."""
    if not isinstance(token, str) or not _TOKEN_SHAPE.match(token):
        return None
    payload, mac = token.split(".")
    if not hmac.compare_digest(hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest(), mac):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims = TokenClaims(str(data["s"]), str(data["v"]), float(data["e"]), str(data["i"]))
    except (ValueError, KeyError, TypeError):
        return None
    if claims.expires <= (time.time() if now is None else now):
        return None
    return claims


def session_secret(path: Path, configured: object = None) -> bytes:
    """The key that signs the cookies: ``session_secret`` from the secrets if set, else a random key
    made once into ``path`` (beside the database, readable by the server's user only). Kept out of
    the database, so that a copy of the database cannot forge a sign-in."""
    if isinstance(configured, str) and len(configured.strip()) >= 32:
        return configured.strip().encode()
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    for _ in range(50):  # another thread may be writing it this instant
        key = path.read_text().strip()
        if len(key) >= 32:
            return key.encode()
        time.sleep(0.01)
    raise RuntimeError(f"the sign-in key file {path} is damaged: delete it (everyone will sign in again)")


def cookie_script(token: str | None, *, hours: float = SESSION_HOURS) -> str:
    """JavaScript that sets (or, with None, clears) the sign-in cookie on the app's page:
    SameSite=Strict, Secure when the page is served over https."""
    if token is not None and not _TOKEN_SHAPE.match(token):
        raise ValueError("not a sign-in token")
    value, age = (token, int(hours * 3600)) if token else ("", 0)
    return (
        "<script>(function(){var d=(window.parent&&window.parent.document)||document;"
        f"var c='{COOKIE_NAME}={value}; Path=/; Max-Age={age}; SameSite=Strict';"
        "if(d.location.protocol==='https:'){c+='; Secure';}d.cookie=c;})();</script>"
    )


# --- command line -------------------------------------------------------------------------------
def _make_hash() -> None:  # pragma: no cover - interactive
    import getpass

    pw = getpass.getpass("New password: ")
    problem = password_problem(pw)
    if problem:
        raise SystemExit(problem)
    if getpass.getpass("Type it again: ") != pw:
        raise SystemExit("The two passwords differ.")
    print(f'organiser_password_hash = "{hash_password(pw)}"   # or volunteer_password_hash')


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - interactive
    import argparse
    import sys

    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] == "hash":
        _make_hash()
        return
    parser = argparse.ArgumentParser(
        prog="python -m lib.access.auth invite", description="Make a one-time invitation for a team account."
    )
    parser.add_argument("command", choices=["invite"])
    parser.add_argument("--name", required=True, help="the person's name, as the team knows them")
    parser.add_argument("--role", choices=list(STAFF_ROLES), default=ORGANISER)
    parser.add_argument("--email", default=None)
    args = parser.parse_args(argv)
    from lib.access import accounts
    from lib.store import config
    from lib.store.db import open_database

    try:
        db = open_database(config.db_path())
    except UserError as e:
        raise SystemExit(f"{e}\n(Or use the one-time set-up code that the running app writes in its log.)")
    try:
        account, code = accounts.invite(db, args.name, args.role, actor="command line", email=args.email)
    except UserError as e:
        raise SystemExit(str(e))
    finally:
        db.close()
    print(
        f"Invitation for {account.name} ({ROLE_LABELS[account.role]}), valid for {accounts.INVITE_DAYS} days.\n"
        f"On the app's sign-in page choose “I have an invitation” and type:  {code}\n"
        f"or open  <the app's address>/sign-in?invite={code}"
    )


if __name__ == "__main__":  # pragma: no cover
    main()
