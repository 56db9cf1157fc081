"""A page that breaks must fail its tests: the friendly error message must not hide it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_pages.helpers import GENERIC_ERROR, assert_ok, visible


def _broken_page():
    from pages.common import run_page

    def body():
        raise RuntimeError("a bug in the page")

    run_page(body)


def _plain_error_page():
    from lib.errors import UserError
    from pages.common import run_page

    def body():
        raise UserError("The sheet has no column called ![Postcode](http://127.0.0.1:9/x.png).")

    run_page(body)


def test_under_the_test_suite_a_broken_page_raises(monkeypatch):
    monkeypatch.setenv("KLEROTERION_STRICT", "1")
    at = AppTest.from_function(_broken_page)
    with pytest.raises(AssertionError, match="encountered an error"):
        at.run()


def test_for_people_a_broken_page_shows_plain_words_and_the_helpers_still_fail(monkeypatch):
    monkeypatch.setenv("KLEROTERION_STRICT", "0")
    at = AppTest.from_function(_broken_page)
    with pytest.raises(AssertionError, match="Something went wrong"):
        at.run()                               # the suite's guard looks at the message too
    assert any(GENERIC_ERROR in str(e.value) for e in at.error)
    assert not at.exception                    # no traceback on the page


def test_a_plain_error_for_the_user_is_not_a_failure(monkeypatch):
    monkeypatch.setenv("KLEROTERION_STRICT", "1")
    at = AppTest.from_function(_plain_error_page)
    at.run()
    assert_ok(at)
    assert [visible(e.value) for e in at.error] == ["The sheet has no column called ![Postcode](http://127.0.0.1:9/x.png)."]
    assert "\\!\\[Postcode\\]" in at.error[0].value        # shown as typed, not as an image
