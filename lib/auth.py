"""Who may see what. Organisers and volunteers sign in with a password each; members with
their personal access code; everyone else sees the public pages.

Passwords are stored only as PBKDF2-SHA256 hashes in ``.streamlit/secrets.toml``::

    [kleroterion_auth]
    organiser_password_hash = "pbkdf2_sha256$600000$<salt>$<hash>"
    volunteer_password_hash = "pbkdf2_sha256$600000$<salt>$<hash>"
    # optional, with Streamlit's built-in login (st.login) configured under [auth]:
    organiser_emails = ["chair@example.org"]
    volunteer_emails = ["helper@example.org"]

Make a hash with:  python -m lib.auth
In demo mode, when no hashes are configured, the demo passwords below work (they are shown
on the sign-in screen). Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Mapping

ORGANISER, VOLUNTEER, MEMBER, PUBLIC = "organiser", "volunteer", "member", "public"
ROLES = (ORGANISER, VOLUNTEER, MEMBER, PUBLIC)
ROLE_LABELS = {ORGANISER: "Organiser", VOLUNTEER: "Volunteer", MEMBER: "Assembly member", PUBLIC: "Visitor"}
DEMO_PASSWORDS = {ORGANISER: "riverside-organiser", VOLUNTEER: "riverside-volunteer"}
_ITERATIONS = 600_000
_DEMO_ITERATIONS = 1_000     # the demo passwords are public anyway; keep the demo snappy


def hash_password(password: str, *, salt: str | None = None, iterations: int = _ITERATIONS) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("ascii"), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, expected = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("ascii"), int(iterations))
    except (ValueError, AttributeError):
        return False
    return hmac.compare_digest(digest.hex(), expected)


_demo_hashes: dict[str, str] = {}


def password_hashes(auth_secrets: Mapping | None, *, demo: bool) -> dict[str, str]:
    """Role -> stored hash, from the secrets; in demo mode the demo passwords fill any gap."""
    out: dict[str, str] = {}
    for role in (ORGANISER, VOLUNTEER):
        value = (auth_secrets or {}).get(f"{role}_password_hash")
        if value:
            out[role] = str(value)
        elif demo:
            if role not in _demo_hashes:
                _demo_hashes[role] = hash_password(DEMO_PASSWORDS[role], salt="demo", iterations=_DEMO_ITERATIONS)
            out[role] = _demo_hashes[role]
    return out


def check_password(role: str, password: str, hashes: Mapping[str, str]) -> bool:
    stored = hashes.get(role)
    if not stored or not password:
        # still spend the time, so a missing role is not faster to probe
        verify_password(password or "x", hash_password("unused", salt="0" * 32, iterations=_DEMO_ITERATIONS))
        return False
    return verify_password(password, stored)


def role_for_email(email: str | None, auth_secrets: Mapping | None) -> str | None:
    """The role of a person signed in through an identity provider (st.login), if any."""
    if not email:
        return None
    email = email.strip().lower()
    for role in (ORGANISER, VOLUNTEER):
        allowed = [str(e).strip().lower() for e in (auth_secrets or {}).get(f"{role}_emails", [])]
        if email in allowed:
            return role
    return None


def main() -> None:  # pragma: no cover - interactive
    import getpass

    pw = getpass.getpass("New password: ")
    if len(pw) < 10:
        raise SystemExit("Please use at least 10 characters.")
    if getpass.getpass("Type it again: ") != pw:
        raise SystemExit("The two passwords differ.")
    print(f'organiser_password_hash = "{hash_password(pw)}"   # or volunteer_password_hash')


if __name__ == "__main__":  # pragma: no cover
    main()
