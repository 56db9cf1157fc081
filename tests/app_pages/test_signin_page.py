"""Sign-in: the demo passwords work, a wrong one is refused, each role gets its own pages."""

from lib import auth
from tests.app_pages.helpers import assert_ok, goto, open_app, texts

SIGNIN = "pages/signin.py"


def test_demo_screen_shows_the_demo_passwords_and_signs_in(app_env):
    at = goto(open_app(None), SIGNIN)
    assert auth.DEMO_PASSWORDS[auth.ORGANISER] in texts(at)
    at.text_input[0].set_value("wrong password")
    [b for b in at.button if b.label == "Sign in"][0].click()
    at.run()
    assert "That password is not right" in "\n".join(e.value for e in at.error)
    assert "role" not in at.session_state
    at.text_input[0].set_value(auth.DEMO_PASSWORDS[auth.ORGANISER])
    [b for b in at.button if b.label == "Sign in"][0].click()
    at.run()
    assert_ok(at)
    assert at.session_state["role"] == auth.ORGANISER
    goto(at, "pages/signups.py")   # now reachable


def test_volunteer_password_gives_the_volunteer_role(app_env):
    at = goto(open_app(None), SIGNIN)
    at.radio[0].set_value(auth.VOLUNTEER)
    at.text_input[0].set_value(auth.DEMO_PASSWORDS[auth.VOLUNTEER])
    [b for b in at.button if b.label == "Sign in"][0].click()
    at.run()
    assert at.session_state["role"] == auth.VOLUNTEER
