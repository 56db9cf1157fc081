"""Sign-in: the demo passwords work only in the demo, a wrong one is refused, weak hashes and
guessing are refused, and each role gets its own pages."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from lib.access import auth
from tests.app_pages.helpers import APP, assert_ok, goto, open_app, texts

SIGNIN = "pages/signin.py"


def signin_app(secrets: dict | None = None) -> AppTest:
    """A fresh browser session on the sign-in page, with ``secrets`` as .streamlit/secrets.toml."""
    at = AppTest.from_file(APP, default_timeout=60)
    if secrets:
        for k, v in secrets.items():
            at.secrets[k] = v
    at.run()
    return goto(at, SIGNIN)


def password_box(at):
    [box] = [t for t in at.text_input if t.label == "Password"]
    return box


def attempt(at, password: str, role: str = auth.ORGANISER, name: str | None = None) -> AppTest:
    if [r for r in at.radio if r.label == "I am"]:
        [r for r in at.radio if r.label == "I am"][0].set_value(role)
    if name is not None:
        [t for t in at.text_input if t.label.startswith("Your name or e-mail")][0].set_value(name)
    password_box(at).set_value(password)
    [b for b in at.button if b.label == "Sign in"][0].click()
    at.run()
    if "role" in at.session_state:
        at.run()      # AppTest learns the signed-in menu on a run after the sign-in (before switch_page)
    return assert_ok(at)


def messages(at) -> str:
    return "\n".join([texts(at), *(str(e.value) for e in at.error)])


def test_demo_screen_shows_the_demo_passwords_and_signs_in(app_env):
    at = signin_app()
    assert auth.DEMO_PASSWORDS[auth.ORGANISER] in texts(at)
    attempt(at, "wrong password")
    assert "That password is not right" in messages(at)
    assert "role" not in at.session_state
    attempt(at, auth.DEMO_PASSWORDS[auth.ORGANISER])
    assert at.session_state["role"] == auth.ORGANISER
    goto(at, "pages/signups.py")   # now reachable


def test_volunteer_password_gives_the_volunteer_role(app_env):
    at = attempt(signin_app(), auth.DEMO_PASSWORDS[auth.VOLUNTEER], auth.VOLUNTEER)
    assert at.session_state["role"] == auth.VOLUNTEER


# --- defects found in issue 13 ----------------------------------------------------------------

STRONG = auth.hash_password("the organisers' own password", iterations=200_000)


def test_a_one_iteration_hash_in_the_secrets_is_refused_with_a_plain_message(app_env):
    weak = auth.hash_password("tiny iterations", iterations=1)
    at = signin_app({"kleroterion_auth": {"organiser_password_hash": weak}})
    assert "not set up safely" in messages(at) and "python -m lib.access.auth" in messages(at)
    assert not [t for t in at.text_input if t.label == "Password"]   # nothing to sign in with
    assert "role" not in at.session_state


def test_a_weak_hash_beside_accounts_still_cannot_sign_in(app_env):
    from lib.access import accounts
    from lib.store.db import open_database

    d = open_database(app_env / "app.duckdb")
    _acct, code = accounts.invite(d, "Sam Lee", auth.VOLUNTEER, "organiser")
    accounts.accept(d, code, "sam's long password", "sam's long password")
    d.close()
    weak = auth.hash_password("tiny iterations", iterations=1)
    at = signin_app({"kleroterion_auth": {"organiser_password_hash": weak}})
    attempt(at, "tiny iterations", auth.ORGANISER, name="")
    assert "role" not in at.session_state
    assert "not set up safely" in messages(at)


def test_the_volunteer_demo_password_does_not_work_once_an_organiser_hash_is_set(app_env):
    at = signin_app({"kleroterion_auth": {"organiser_password_hash": STRONG}})
    assert auth.DEMO_PASSWORDS[auth.VOLUNTEER] not in texts(at)
    attempt(at, auth.DEMO_PASSWORDS[auth.VOLUNTEER], auth.VOLUNTEER)
    assert "role" not in at.session_state


def test_the_demo_passwords_do_not_work_on_a_real_assembly(app_env):
    """KLEROTERION_DEMO is on (the default) but the database holds a real assembly: no password is
    configured, so no one can sign in with a password (the first organiser uses the set-up code)."""
    from lib.store.db import open_database
    from lib.store.settings import set_setting

    d = open_database(app_env / "app.duckdb")
    set_setting(d, "assembly", {"name": "Northfield assembly", "panel_size": 40})
    d.close()
    at = signin_app()
    assert auth.DEMO_PASSWORDS[auth.ORGANISER] not in texts(at)
    assert not [t for t in at.text_input if t.label == "Password"]
    assert "No organiser can sign in yet" in texts(at)


def test_the_sixth_wrong_guess_in_a_row_is_refused_without_checking_the_password(app_env):
    at = signin_app({"kleroterion_auth": {"organiser_password_hash": STRONG}})
    for _ in range(5):
        attempt(at, "a wrong guess")
        assert "role" not in at.session_state
    attempt(at, "the organisers' own password")      # right, but too soon after five wrong ones
    assert "role" not in at.session_state
    assert "Please wait 30 seconds" in messages(at)


def test_guessing_in_new_sessions_is_still_throttled(app_env):
    """A script opening a new session for every guess (a raw websocket client) gains nothing."""
    secrets = {"kleroterion_auth": {"organiser_password_hash": STRONG}}
    for _ in range(5):
        at = attempt(signin_app(secrets), "a wrong guess")
        assert "role" not in at.session_state
    at = attempt(signin_app(secrets), "the organisers' own password")
    assert "role" not in at.session_state
    assert "Please wait" in messages(at)


def test_demo_sessions_end_when_real_sign_ups_come_in(app_env):
    """Someone signed in with the public demo password must not stay signed in once the database
    holds real people's sign-ups."""
    from lib.demo.load import demo_signups_grid
    from lib.resources import get_db
    from lib.recruitment.signups.mapping import load_mapping
    from lib.recruitment.signups.sync import sync_grid

    assert "Before you bring in real sign-ups, invite yourself" in texts(goto(open_app("organiser"), "pages/team.py"))
    at = attempt(signin_app(), auth.DEMO_PASSWORDS[auth.ORGANISER])
    assert at.session_state["role"] == auth.ORGANISER
    d = get_db()
    sync_grid(d, demo_signups_grid(), load_mapping(d), source_kind="csv", source_label="ours.csv", actor="organiser")
    at.run()                             # the organiser's next click
    assert "role" not in at.session_state
    assert "The demo passwords have stopped working" in texts(at)
    at = signin_app()
    assert auth.DEMO_PASSWORDS[auth.ORGANISER] not in texts(at)
    assert "No organiser can sign in yet" in texts(at)


def test_guessing_members_access_codes_is_throttled_even_in_new_sessions(app_env):
    """Ten wrong access codes, each from a new browser session: the next try is refused without a look
    at the code, even a right one."""
    from lib import evaluation as ev
    from lib.resources import get_db
    from lib.recruitment.signups.store import pool_frame

    d = get_db()
    pid = pool_frame(d)["person_id"].tolist()[0]
    code = ev.issue_codes(d, [pid], "organiser")[pid]

    def try_code(value):
        at = signin_app()
        [box] = [t for t in at.text_input if t.label == "Your access code (on your card)"]
        box.set_value(value)
        [b for b in at.button if b.label == "Open my pages"][0].click()
        at.run()
        return at

    for i in range(10):
        at = try_code(f"WRONG{i:05d}")
        assert "That code was not recognised" in messages(at)
    at = try_code(code)
    assert "Please wait" in messages(at)
    assert "member_session" not in at.session_state
