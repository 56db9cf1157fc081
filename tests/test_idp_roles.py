"""Signing in through an organisation's identity provider (st.login): the role comes from the e-mail
address, and an address the provider says it has not confirmed gets no role."""

from __future__ import annotations

from lib.access import auth

LISTS = {"organiser_emails": ["Chair@Example.org"], "volunteer_emails": ["door@example.org"]}


def test_the_role_comes_from_the_lists_whatever_the_capital_letters():
    assert auth.role_for_identity({"email": "chair@example.org", "email_verified": True}, LISTS) == auth.ORGANISER
    assert auth.role_for_identity({"email": " DOOR@example.org "}, LISTS) == auth.VOLUNTEER   # no claim: trusted
    assert auth.role_for_identity({"email": "stranger@example.org", "email_verified": True}, LISTS) is None
    assert auth.role_for_identity({"email": None}, LISTS) is None
    assert auth.role_for_identity(None, LISTS) is None
    assert auth.role_for_identity({"email": "chair@example.org"}, None) is None


def test_an_address_the_provider_has_not_confirmed_gets_no_role():
    for unconfirmed in (False, "false", "False", 0):
        assert auth.role_for_identity({"email": "chair@example.org", "email_verified": unconfirmed}, LISTS) is None
