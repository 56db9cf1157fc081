"""A volunteer on a phone (390×844) signs in and checks the quota board while recruiting."""

import pytest

from tests.e2e.conftest import wait_idle

pytestmark = pytest.mark.e2e

SLOW = 90_000   # ms: the CI machine is shared; a busy moment must not fail the journey


def phone_sign_in(page, base_url: str, role: str = "volunteer") -> None:
    """Sign in through the real sign-in page. On a phone the sidebar (where "Signed in as" shows) is
    folded away, so wait for the start page instead."""
    from lib.access.auth import DEMO_PASSWORDS, ROLE_LABELS

    page.goto(base_url)                    # the first visit also starts the app (and loads the demo)
    wait_idle(page, SLOW)
    page.get_by_text("People signed up").wait_for()
    page.goto(base_url + "/sign-in")
    wait_idle(page, SLOW)
    page.get_by_text(ROLE_LABELS[role], exact=True).click()
    page.locator("input[type=password]").fill(DEMO_PASSWORDS[role])
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("People signed up").wait_for()
    wait_idle(page, SLOW)


def test_volunteer_checks_the_quota_board_on_a_phone(server, phone):
    phone.set_default_timeout(SLOW)
    phone_sign_in(phone, server.url, "volunteer")
    # Typing an address would start a new session (signed out), so use the menu, as a person would.
    # The volunteer's menu offers the quota board and no organiser pages.
    phone.get_by_test_id("stExpandSidebarButton").click()
    phone.get_by_role("link", name="Quota board").wait_for()
    links = [a.inner_text().strip().split("\n")[-1] for a in phone.get_by_test_id("stSidebarNavLink").all()]
    assert "Quota board" in links and "Transparency" in links
    assert not {"Targets and quotas", "How representative?", "Sign-ups", "The draw"} & set(links)
    phone.get_by_role("link", name="Quota board").click()
    wait_idle(phone, SLOW)
    if phone.get_by_test_id("stSidebar").get_attribute("aria-expanded") != "false":
        phone.get_by_test_id("stSidebarCollapseButton").locator("button").click()
    phone.get_by_role("heading", name="Quota board").wait_for()
    phone.get_by_role("heading", name="Who to look for next").wait_for()
    metrics = [m.inner_text() for m in phone.get_by_test_id("stMetricValue").all()]
    assert metrics == ["603", "596", "30"]
    assert phone.get_by_text("Age band: 16 to 24").first.is_visible()
    # Each question opens to its table of counts.
    phone.get_by_text("Age band · all safe").click()
    table = phone.get_by_test_id("stTable").filter(has_text="16 to 24")
    table.wait_for()
    row = table.locator("tr").filter(has_text="16 to 24").inner_text().split("\t")
    assert [c.strip() for c in row] == ["16 to 24", "27", "4% (14%)", "4–5", "safe ✓"], row
    # Phone-sized: nothing wider than the screen, so no sideways scrolling of the page.
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, width
    box = table.bounding_box()
    inner = table.evaluate("t => t.scrollWidth")
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and inner <= box["width"] + 1, (box, inner)
    # Counts only: no names or email addresses anywhere on the page.
    body = phone.content()
    assert "@example.org" not in body and "Keith Morgan" not in body
    # Refresh on demand.
    phone.get_by_role("button", name="Refresh now").click()
    wait_idle(phone, SLOW)
    phone.get_by_text("Updated at").wait_for()
    phone.screenshot(path=str(server.log_path.with_name("quota_board_phone.png")), full_page=True)

