"""Personal accounts (lib/access/accounts.py): invitations, sign-in by name, throttling before hashing,
revoking, cookies that end, the set-up code, and what counts as the demo."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from lib.access import accounts, auth
from lib.errors import UserError

PASSWORD = "kettle orchard lantern"
CLIENT = auth.client_key("203.0.113.9")


def active(db, name="Sam Lee", role=auth.VOLUNTEER, email=None, password=PASSWORD) -> accounts.Account:
    _acct, code = accounts.invite(db, name, role, "organiser:Alex Kim", email=email)
    return accounts.accept(db, code, password, password)


def sign_in(db, throttle, identifier, password, role=auth.ORGANISER, credentials=None, client=CLIENT):
    creds = credentials or auth.role_credentials(None, demo_database=False)
    return accounts.sign_in(db, throttle, identifier=identifier, password=password, role=role, client=client,
                            credentials=creds)


def test_invite_accept_and_sign_in_by_name_or_email(db):
    acct, code = accounts.invite(db, " Sam   Lee ", auth.VOLUNTEER, "organiser:Alex Kim", email="Sam@Example.org")
    assert (acct.name, acct.email, acct.status, acct.created_by) == ("Sam Lee", "sam@example.org", "invited",
                                                                      "organiser:Alex Kim")
    assert accounts.pending_invitation(db, code.lower().replace("-", " ")).account_id == acct.account_id
    accounts.accept(db, code, PASSWORD, PASSWORD)
    th = auth.Throttle()
    for who in ("Sam Lee", "sam lee", "SAM@example.org"):
        signed = sign_in(db, th, who, PASSWORD)
        assert (signed.role, signed.name, signed.actor) == (auth.VOLUNTEER, "Sam Lee", "volunteer:Sam Lee")
    assert accounts.get_account(db, acct.account_id).last_sign_in is not None


def test_only_hashes_are_stored_and_the_list_shows_no_secret(db):
    acct, code = accounts.invite(db, "Sam Lee", auth.VOLUNTEER, "organiser")
    dump = " ".join(str(v) for row in db.query("SELECT * FROM accounts") for v in row)
    assert accounts.normalise_code(code) not in dump.replace("-", "") and code not in dump
    accounts.accept(db, code, PASSWORD, PASSWORD)
    dump = " ".join(str(v) for row in db.query("SELECT * FROM accounts") for v in row)
    assert PASSWORD not in dump and f"pbkdf2_sha256${auth.ITERATIONS}$" in dump
    [listed] = accounts.list_accounts(db)
    assert not any("pbkdf2" in str(v) for v in vars(listed).values())


def test_an_invitation_works_once_and_not_after_it_expires(db):
    acct, code = accounts.invite(db, "Sam Lee", auth.VOLUNTEER, "organiser")
    later = datetime.now(timezone.utc) + timedelta(days=accounts.INVITE_DAYS, minutes=1)
    with pytest.raises(UserError, match="does not work"):
        accounts.accept(db, code, PASSWORD, PASSWORD, now=later)
    accounts.accept(db, code, PASSWORD, PASSWORD)
    with pytest.raises(UserError, match="does not work"):
        accounts.accept(db, code, "another long password", "another long password")
    assert accounts.get_account(db, acct.account_id).status == "active"


def test_a_bad_new_password_changes_nothing(db):
    _acct, code = accounts.invite(db, "Sam Lee", auth.VOLUNTEER, "organiser")
    with pytest.raises(UserError, match="at least 10"):
        accounts.accept(db, code, "short", "short")
    with pytest.raises(UserError, match="not the same"):
        accounts.accept(db, code, PASSWORD, PASSWORD + "!")
    assert accounts.pending_invitation(db, code) is not None     # still usable


def test_two_people_cannot_share_a_name_or_an_email(db):
    active(db, "Sam Lee", email="sam@example.org")
    with pytest.raises(UserError, match="already an account"):
        accounts.invite(db, "sam lee", auth.ORGANISER, "organiser")
    with pytest.raises(UserError, match="already belongs"):
        accounts.invite(db, "Samuel Lee", auth.ORGANISER, "organiser", email="SAM@example.org")
    with pytest.raises(UserError, match="not an e-mail"):
        accounts.invite(db, "sam@example.org", auth.ORGANISER, "organiser")


def test_the_sixth_wrong_guess_in_a_row_is_refused_without_checking_the_password(db):
    active(db, "Sam Lee")
    th = auth.Throttle()
    for _ in range(5):
        with pytest.raises(UserError, match="not right"):
            sign_in(db, th, "Sam Lee", "a wrong guess")
    before = auth.pbkdf2_runs()
    with pytest.raises(UserError, match="Please wait 30 seconds"):
        sign_in(db, th, "Sam Lee", PASSWORD)                  # the right password, too soon
    assert auth.pbkdf2_runs() == before                        # refused with no hashing at all
    # another client guessing at the same account is refused too (the account's count is shared)
    with pytest.raises(UserError, match="Please wait"):
        sign_in(db, th, "sam lee", PASSWORD, client=auth.client_key("198.51.100.1"))


def test_the_shared_password_is_throttled_as_one_account(db):
    strong = auth.hash_password("the organisers' password", iterations=auth.MIN_ITERATIONS)
    creds = auth.role_credentials({"organiser_password_hash": strong}, demo_database=False)
    th = auth.Throttle()
    for i in range(5):
        with pytest.raises(UserError, match="That password is not right"):
            sign_in(db, th, "", f"guess {i}", credentials=creds, client=auth.client_key(f"198.51.100.{i}"))
    with pytest.raises(UserError, match="Please wait"):
        sign_in(db, th, "", "the organisers' password", credentials=creds)


def test_sixteen_guessers_at_once_get_five_checks_between_them(db):
    """A crowd of connections guessing at the same moment: five passwords are checked, the rest are
    refused at once, so the hashing (the expensive part) stays bounded."""
    active(db, "Sam Lee")
    th = auth.Throttle()
    barrier = threading.Barrier(16)
    outcomes: list[str] = []
    before = auth.pbkdf2_runs()

    def guess(i):
        barrier.wait()
        try:
            sign_in(db, th, "Sam Lee", f"guess number {i}", client=auth.client_key(f"198.51.100.{i}"))
        except UserError as e:
            outcomes.append("wait" if "Please wait" in str(e) else "wrong")

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["wait"] * 11 + ["wrong"] * 5
    assert auth.pbkdf2_runs() - before == 5


def test_an_unknown_name_costs_as_much_as_a_wrong_password_and_says_the_same(db):
    active(db, "Sam Lee")
    th = auth.Throttle()
    before = auth.pbkdf2_runs()
    with pytest.raises(UserError) as unknown:
        sign_in(db, th, "Nobody Here", PASSWORD)
    assert auth.pbkdf2_runs() == before + 1
    with pytest.raises(UserError) as wrong:
        sign_in(db, th, "Sam Lee", "a wrong password")
    assert str(unknown.value) == str(wrong.value)


def test_a_locked_or_unsafe_role_is_refused_plainly_without_hashing(db):
    th = auth.Throttle()
    weak = auth.hash_password("tiny", iterations=1)
    creds = auth.role_credentials({"organiser_password_hash": weak}, demo_database=True)
    before = auth.pbkdf2_runs()
    with pytest.raises(UserError, match="not set up safely"):
        sign_in(db, th, "", "tiny", credentials=creds)
    with pytest.raises(UserError, match="not set up here"):
        sign_in(db, th, "", auth.DEMO_PASSWORDS[auth.VOLUNTEER], role=auth.VOLUNTEER, credentials=creds)
    assert auth.pbkdf2_runs() == before


def test_revoking_ends_the_password_and_every_cookie(db):
    acct = active(db, "Sam Lee")
    th = auth.Throttle()
    signed = sign_in(db, th, "Sam Lee", PASSWORD)
    secret = b"k" * 32
    creds = auth.role_credentials(None, demo_database=False)
    _token, claims = auth.issue_token(secret, signed.subject, signed.version)
    assert accounts.restore(db, claims, creds) == signed
    with pytest.raises(UserError, match="your own account"):
        accounts.revoke(db, acct.account_id, "organiser:Sam Lee", own_account_id=acct.account_id)
    accounts.revoke(db, acct.account_id, "organiser:Alex Kim")
    assert accounts.restore(db, claims, creds) is None
    assert accounts.still_signed_in(db, acct.account_id, signed.version) is None
    with pytest.raises(UserError, match="not right"):
        sign_in(db, th, "Sam Lee", PASSWORD)
    events = db.query("SELECT kind, actor FROM account_events WHERE account_id = ? ORDER BY event_id",
                      [acct.account_id])
    assert events == [("invited", "organiser:Alex Kim"), ("accepted", "volunteer:Sam Lee"),
                      ("revoked", "organiser:Alex Kim")]


def test_a_new_invitation_ends_the_old_password_code_and_cookies(db):
    acct, first = accounts.invite(db, "Sam Lee", auth.VOLUNTEER, "organiser")
    second = accounts.reinvite(db, acct.account_id, "organiser")
    assert accounts.pending_invitation(db, first) is None
    accounts.accept(db, second, PASSWORD, PASSWORD)
    th = auth.Throttle()
    signed = sign_in(db, th, "Sam Lee", PASSWORD)
    third = accounts.reinvite(db, acct.account_id, "organiser")     # "I forgot my password"
    with pytest.raises(UserError, match="not right"):
        sign_in(db, th, "Sam Lee", PASSWORD)
    assert accounts.still_signed_in(db, acct.account_id, signed.version) is None
    accounts.accept(db, third, "a brand new password", "a brand new password")
    assert sign_in(db, th, "Sam Lee", "a brand new password").account_id == acct.account_id


def test_a_signed_out_cookie_cannot_sign_in_again(db):
    creds = auth.role_credentials(None, demo_database=True)
    _token, claims = auth.issue_token(b"k" * 32, "role:volunteer", creds[auth.VOLUNTEER].fingerprint())
    assert accounts.restore(db, claims, creds).role == auth.VOLUNTEER
    accounts.end_token(db, claims)
    assert accounts.token_ended(db, claims.token_id)
    assert accounts.restore(db, claims, creds) is None


def test_a_shared_password_cookie_ends_when_the_password_changes(db):
    demo = auth.role_credentials(None, demo_database=True)
    _token, claims = auth.issue_token(b"k" * 32, "role:organiser", demo[auth.ORGANISER].fingerprint())
    strong = auth.hash_password("the organisers' password", iterations=auth.MIN_ITERATIONS)
    configured = auth.role_credentials({"organiser_password_hash": strong}, demo_database=True)
    assert accounts.restore(db, claims, configured) is None
    assert accounts.restore(db, claims, auth.role_credentials(None, demo_database=False)) is None


def test_the_set_up_code_for_the_first_organiser(db):
    code = accounts.ensure_setup_invitation(db)
    newer = accounts.ensure_setup_invitation(db)                   # a restart makes a new one...
    assert accounts.pending_invitation(db, code) is None          # ...and the old one stops working
    with pytest.raises(UserError, match="type the person's name"):
        accounts.accept(db, newer, PASSWORD, PASSWORD)
    acct = accounts.accept(db, newer, PASSWORD, PASSWORD, name="Jo Bloggs")
    assert (acct.name, acct.role, acct.status) == ("Jo Bloggs", auth.ORGANISER, "active")
    assert accounts.ensure_setup_invitation(db) is None
    assert sign_in(db, auth.Throttle(), "Jo Bloggs", PASSWORD).role == auth.ORGANISER


def test_the_demo_is_the_demo_only_until_real_sign_ups_come_in(demo_db):
    from lib.demo.load import demo_signups_grid
    from lib.recruitment.signups.mapping import load_mapping
    from lib.recruitment.signups.sync import sync_grid

    assert accounts.holds_demo_assembly(demo_db)
    sync_grid(demo_db, demo_signups_grid(), load_mapping(demo_db), source_kind="csv", source_label="ours.csv",
              actor="organiser")
    assert not accounts.holds_demo_assembly(demo_db)


def test_an_empty_or_real_database_is_not_the_demo(db):
    from lib.store.settings import set_setting

    assert not accounts.holds_demo_assembly(db)
    set_setting(db, "assembly", {"name": "Northfield", "demo": False})
    assert not accounts.holds_demo_assembly(db)


def test_a_busy_moment_is_not_counted_as_a_wrong_try(db, monkeypatch):
    """When every hashing slot stays taken (a crowd signing in), the attempt is refused with a plain
    message and does not count against the person."""
    active(db, "Sam Lee")
    th = auth.Throttle()
    monkeypatch.setattr(auth, "HASH_WAIT", 0.05)
    for _ in range(auth.HASH_SLOTS):                   # every slot taken by someone else's sign-in
        assert auth._hash_slots.acquire(timeout=5)
    try:
        for _ in range(6):
            with pytest.raises(auth.SignInBusy, match="Many people are signing in"):
                sign_in(db, th, "Sam Lee", PASSWORD)
    finally:
        for _ in range(auth.HASH_SLOTS):
            auth._hash_slots.release()
    assert th.wait([auth.account_key("Sam Lee")]) == 0
    assert sign_in(db, th, "Sam Lee", PASSWORD).name == "Sam Lee"
