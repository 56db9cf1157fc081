"""Every page of the app, as each role sees it, on a desktop (1366×900) and a phone (390×844), checked with
axe-core's WCAG 2.1 A and AA rules (tests/e2e/axe.py): no serious or critical violation anywhere.

The pages come from app.py's own page list, so a new page is checked without changing this file. The
database is the demo a few weeks after the draw ("Skip ahead": a panel, sessions, a closed survey with
answers), so the pages show their real content rather than their empty states.

One server and one browser; each role signs in once and visits its pages in turn. The counts per page
go into the test's output, and into bench/results/accessibility.md when KLEROTERION_A11Y_REPORT=1
(a test run does not rewrite files in the repository otherwise).
"""

from __future__ import annotations

import os
import time

import pytest

from tests.e2e import axe
from tests.e2e.conftest import ROOT, StreamlitServer, leave_sign_in_page, sign_in, wait_for_sign_in_cookie, wait_idle

pytestmark = pytest.mark.e2e

ROLES = ("public", "member", "volunteer", "organiser")
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
REPORT = ROOT / "bench" / "results" / "accessibility.md"
SLOW = 90_000   # ms: the machine is shared; a busy moment must not fail the check


def app_pages() -> list[tuple[str, str, set[str]]]:
    """(title, url path, roles) for every page in the app's page list (lib/access/pages.py)."""
    from lib.access.pages import PAGES

    return [(title, url, set(roles)) for _s, path, title, _i, url, roles in PAGES if (ROOT / path).exists()]


@pytest.fixture(scope="module")
def assembly(tmp_path_factory):
    """The demo after "Skip ahead", and an access code for one member of the panel."""
    from lib.evaluation import survey as ev
    from lib.assembly import participation as part
    from lib.store.db import open_database
    from lib.demo.load import load_demo
    from lib.demo.story import fast_forward

    path = tmp_path_factory.mktemp("a11y") / "app.duckdb"
    db = open_database(path)
    try:
        load_demo(db)
        fast_forward(db, time_limit=5)
        statuses = part.member_statuses(db)
        member = statuses[statuses["status"] != "withdrawn"]["person_id"].tolist()[0]
        code = ev.issue_codes(db, [member], "organiser", replace=True)[member]   # a new card: the story's is not kept
    finally:
        db.close()
    return path, code


def _sign_in(page, url: str, role: str, code: str) -> None:
    if role in ("organiser", "volunteer"):
        sign_in(page, url, role)
    elif role == "member":
        page.goto(f"{url}/sign-in?code={code}")          # the card's QR link fills the code in
        wait_idle(page)
        page.get_by_role("tab", name="Assembly member").click()
        page.get_by_role("button", name="Open my pages").click()
        page.get_by_text("Signed in as Assembly member").wait_for()
        leave_sign_in_page(page)
        wait_for_sign_in_cookie(page)


def _open(page, base: str, title: str, url: str, *, by_menu: bool) -> None:
    """Open a page as a person would: through the side menu on a desktop, by its address on a phone
    (where the menu is folded away; the sign-in cookie keeps the person signed in)."""
    if by_menu:
        link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).first
        deadline = time.monotonic() + SLOW / 1000
        while not link.is_visible():          # the menu may still be redrawing after signing in
            more = page.get_by_test_id("stSidebarNavViewButton")
            if more.count() and "more" in more.first.inner_text().lower():
                more.first.click()            # "View more" on a long menu
            if time.monotonic() > deadline:
                raise AssertionError(f"the menu never showed a link to {title!r}")
            page.wait_for_timeout(200)
        link.click()
        page.wait_for_url(lambda u: u.rstrip("/").split("/")[-1] == (url or base.split("/")[-1]))
    else:
        page.goto(f"{base}/{url}")
    wait_idle(page, SLOW)
    page.locator('[data-testid="stMain"] h1').first.wait_for()
    wait_idle(page, SLOW)
    # Streamlit answers an address it does not know with the start page under a "Page not found" box:
    # that would be checked in place of the page
    assert page.get_by_role("dialog").filter(has_text="Page not found").count() == 0, f"{title}: page not found"


def report(rows: list[tuple[str, str, str, axe.AxeResult]], seconds: float) -> str:
    lines = ["# Accessibility check: axe-core on every page", "",
             f"axe-core {axe.version()} (npm, pinned in tests/e2e/axe-core), WCAG 2.1 A and AA rules "
             f"({', '.join(axe.WCAG_TAGS)}), run by tests/e2e/test_accessibility.py on the demo assembly after "
             "'Skip ahead'. Counts are elements failing a rule, by impact. \"Excluded\": elements drawn by "
             "Streamlit itself that fail a rule we cannot fix from the app (listed below the table).", "",
             f"{len(rows)} page views checked in {seconds:.0f} s (one server, one browser; the demo's "
             f"'Skip ahead' before it not counted; load average {os.getloadavg()[0]:.1f} on "
             f"{os.cpu_count()} processors at the end).", "",
             "| Page | Seen as | Screen | Critical | Serious | Moderate | Minor | Excluded |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for title, role, size, res in rows:
        c = res.counts()
        lines.append(f"| {title} | {role} | {size} | {c['critical']} | {c['serious']} | {c['moderate']} | "
                     f"{c['minor']} | {sum(len(v['nodes']) for v in res.excluded)} |")
    lines += ["", "Streamlit's own elements left out, each for one rule only:", ""]
    lines += [f"- `{rule}` on `{css}`: {why}" for rule, css, why in axe.STREAMLIT_EXCLUSIONS]
    return "\n".join(lines) + "\n"


def test_every_page_has_no_serious_accessibility_violation(browser, assembly, tmp_path):
    path, code = assembly
    pages = app_pages()
    srv = StreamlitServer(path)
    started = time.monotonic()
    rows, problems = [], []
    try:
        first = browser.new_context(viewport=SIZES["desktop"])
        warm = first.new_page()
        warm.set_default_timeout(SLOW)
        warm.goto(srv.url)                   # a fresh server's first run is slow
        wait_idle(warm, SLOW)
        first.close()
        for role in ROLES:
            desktop = browser.new_context(viewport=SIZES["desktop"])
            phone = browser.new_context(viewport=SIZES["phone"], device_scale_factor=2, is_mobile=True,
                                        has_touch=True)
            try:
                d = desktop.new_page()
                d.set_default_timeout(SLOW)
                d.goto(srv.url)
                wait_idle(d, SLOW)
                _sign_in(d, srv.url, role, code)
                phone.add_cookies(desktop.cookies())                # the same person on their phone
                p = phone.new_page()
                p.set_default_timeout(SLOW)
                for title, url, roles in pages:
                    if role not in roles:
                        continue
                    for size, pg in (("desktop", d), ("phone", p)):
                        _open(pg, srv.url, title, url, by_menu=size == "desktop")
                        res = axe.check(pg)
                        rows.append((title, role, size, res))
                        if res.serious():
                            problems.append(f"{title} (as {role}, {size}):\n{res.describe()}")
            finally:
                desktop.close()
                phone.close()
    finally:
        srv.stop()
    text = report(rows, time.monotonic() - started)
    (tmp_path / "accessibility.md").write_text(text)
    print(text)
    if os.environ.get("KLEROTERION_A11Y_REPORT") == "1":
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(text)
    unchecked = [f"{t} (as {r}, {s})" for t, r, s, res in rows if res.rules_passed < 5]
    assert not unchecked, f"axe found almost nothing to check on: {unchecked}"
    assert not problems, "serious or critical accessibility violations:\n\n" + "\n\n".join(problems)
