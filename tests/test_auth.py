from lib import auth


def test_password_hash_round_trip_and_rejection():
    h = auth.hash_password("correct horse battery", iterations=1000)
    assert h.startswith("pbkdf2_sha256$1000$")
    assert auth.verify_password("correct horse battery", h)
    assert not auth.verify_password("correct horse batterY", h)
    assert not auth.verify_password("x", "garbage")


def test_demo_passwords_only_fill_gaps_in_demo_mode():
    assert auth.password_hashes(None, demo=False) == {}
    hashes = auth.password_hashes(None, demo=True)
    assert auth.check_password(auth.ORGANISER, auth.DEMO_PASSWORDS[auth.ORGANISER], hashes)
    assert not auth.check_password(auth.ORGANISER, auth.DEMO_PASSWORDS[auth.VOLUNTEER], hashes)
    real = auth.hash_password("real organiser pw", iterations=1000)
    hashes = auth.password_hashes({"organiser_password_hash": real}, demo=True)
    assert not auth.check_password(auth.ORGANISER, auth.DEMO_PASSWORDS[auth.ORGANISER], hashes)
    assert auth.check_password(auth.ORGANISER, "real organiser pw", hashes)


def test_unknown_role_or_empty_password_is_refused():
    hashes = auth.password_hashes(None, demo=True)
    assert not auth.check_password("member", "anything", hashes)
    assert not auth.check_password(auth.VOLUNTEER, "", hashes)


def test_role_from_identity_provider_email():
    s = {"organiser_emails": ["Chair@Example.org"], "volunteer_emails": ["helper@example.org"]}
    assert auth.role_for_email("chair@example.org", s) == auth.ORGANISER
    assert auth.role_for_email("helper@example.org", s) == auth.VOLUNTEER
    assert auth.role_for_email("someone@example.org", s) is None
