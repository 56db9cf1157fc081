"""The very first page load of a freshly started server: the side menu never lists the app's source files.

Streamlit shows its automatic "pages folder" menu (app, checkin, common, eval common, …) until app.py's
st.navigation has run; on a fresh server that first run takes seconds (opening the database, loading
the demo). A script injected before the page loads records every text the sidebar ever shows.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import StreamlitServer, wait_idle

pytestmark = pytest.mark.e2e

# Records every text shown in the sidebar from the first paint on (a MutationObserver started before
# Streamlit's own script runs).
RECORD_SIDEBAR = """
window.__sidebarTexts = [];
const seen = () => {
  // each link or line of the sidebar, without its icon (a Material icon's text is its name, like "home")
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  if (!sidebar) return;
  const lines = [];
  const walker = document.createTreeWalker(sidebar, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest('[aria-hidden="true"]')) continue;
    const t = n.textContent.trim();
    if (t) lines.push(t);
  }
  const t = lines.join('\\n');
  if (t && window.__sidebarTexts[window.__sidebarTexts.length - 1] !== t) window.__sidebarTexts.push(t);
};
new MutationObserver(seen).observe(document, {subtree: true, childList: true, characterData: true});
"""


def _source_file_names() -> set[str]:
    from tests.e2e.conftest import ROOT

    names = {p.stem.replace("_", " ") for p in (ROOT / "pages").glob("*.py") if p.stem != "__init__"}
    return names | {"app"}


def _raw_names_shown(texts: list[str]) -> set[str]:
    names = _source_file_names()
    return {line.strip() for t in texts for line in t.splitlines() if line.strip() in names}


@pytest.mark.parametrize("first_address", ["", "/check-in"])
def test_a_fresh_server_never_shows_source_file_names_in_the_menu(browser, tmp_path, first_address):
    srv = StreamlitServer(tmp_path / "app.duckdb")
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(RECORD_SIDEBAR)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(srv.url + first_address)
        wait_idle(page, timeout=60_000)
        nav = page.get_by_test_id("stSidebarNav")
        nav.get_by_role("link", name="Overview").wait_for()
        nav.get_by_role("link", name="Transparency").wait_for()
        wait_idle(page)
        texts = page.evaluate("window.__sidebarTexts")
        assert texts, "the recorder saw no sidebar at all"
        assert not _raw_names_shown(texts), f"the menu showed source files: {_raw_names_shown(texts)}"
        # A second visitor (a new session on the same server) sees the real menu too.
        second = context.new_page()
        second.goto(srv.url)
        wait_idle(second)
        second.get_by_test_id("stSidebarNav").get_by_role("link", name="Overview").wait_for()
        assert not _raw_names_shown(second.evaluate("window.__sidebarTexts"))
        context.close()
    finally:
        srv.stop()


@pytest.mark.parametrize("first_address, heading", [("/sign-in", "Sign in"), ("/sign-in?code=ABCD-2345", "Sign in")])
def test_a_fresh_servers_first_visit_by_a_link_opens_that_page_without_page_not_found(
    browser, tmp_path, first_address, heading
):
    """After a restart, the first person to open a link whose address is not a file name of pages/ (a
    volunteer reloading /check-in at the door, a member's /sign-in link) got Streamlit's "Page not found"
    box in front of the Overview: the server's first run goes through its old pages-folder mode."""
    srv = StreamlitServer(tmp_path / "app.duckdb", {"KLEROTERION_DEMO": "0"})
    try:
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(srv.url + first_address)
        wait_idle(page, timeout=60_000)
        page.get_by_role("heading", name=heading).first.wait_for()
        wait_idle(page, timeout=60_000)
        assert page.get_by_text("Page not found").count() == 0
        assert page.get_by_role("dialog").count() == 0
        assert page.url.split("?")[0] == srv.url + "/sign-in"  # still the page asked for
        context.close()
    finally:
        srv.stop()
