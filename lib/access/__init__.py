"""Signing in: the rules (hashes, throttling, signed tokens, demo passwords) and personal accounts.

Right above the store: the demo passwords work only while the database holds only the demo, which
``lib.store.demo_marker`` says.
"""

from lib import public_face

__all__, __getattr__ = public_face(
    __name__,
    {
        "auth": ("hash_password", "verify_password", "role_credentials", "issue_token", "read_token"),
        "accounts": ("Account", "invite", "accept", "sign_in", "still_signed_in", "list_accounts"),
    },
)
