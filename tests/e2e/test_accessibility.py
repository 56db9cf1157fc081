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
    from lib import evaluation as ev
    from lib import assembly as part
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
        ev.open_wave(db, "pulse", "After session 2")     # a survey to answer: its questions are checked too
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


MAIN = '[data-testid="stMain"]'


def _settle(pg) -> None:
    wait_idle(pg, SLOW)
    pg.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=SLOW)


def _open_expanders(pg) -> int:
    """Open every visible, closed expander of the page; how many were opened."""
    closed = pg.locator(f'{MAIN} [data-testid="stExpander"] details:not([open]) > summary')
    opened = 0
    for i in range(closed.count() - 1, -1, -1):          # from the last: opening one does not shift the others
        summary = closed.nth(i)
        if summary.is_visible():
            summary.click()
            opened += 1
    if opened:
        _settle(pg)
    return opened


def explore(pg, title: str, role: str) -> list[tuple[str, str, str, str, axe.AxeResult]]:
    """The states people reach on a page without changing anything: each of its tabs, with the expanders
    in it opened. (The first view was checked already.)"""
    rows = []
    _settle(pg)                     # the whole page drawn before its tabs and expanders are counted
    tabs = pg.locator(f'{MAIN} [role="tab"]')
    names = [tabs.nth(i).inner_text().strip() for i in range(tabs.count())]
    if not names:
        if _open_expanders(pg):
            rows.append((title, role, "desktop", "expanders opened", axe.check(pg)))
        return rows
    for i, name in enumerate(names):
        tab = tabs.nth(i)
        if tab.get_attribute("aria-selected") != "true":
            tab.click()
            pg.wait_for_function("(el) => el.getAttribute('aria-selected') === 'true'", arg=tab.element_handle(),
                                 timeout=SLOW)
            _settle(pg)
        opened = _open_expanders(pg)
        rows.append((title, role, "desktop", f"tab “{name}”" + (", expanders opened" if opened else ""),
                     axe.check(pg)))
    return rows


def report(rows: list[tuple[str, str, str, str, axe.AxeResult]], seconds: float) -> str:
    lines = ["# Accessibility check: axe-core on every page", "",
             f"axe-core {axe.version()} (npm, pinned in tests/e2e/axe-core), WCAG 2.1 A and AA rules "
             f"({', '.join(axe.WCAG_TAGS)}), run by tests/e2e/test_accessibility.py on the demo assembly after "
             "'Skip ahead'. Counts are elements failing a rule, by impact. \"Excluded\": elements drawn by "
             "Streamlit itself that fail a rule we cannot fix from the app (listed below the table).", "",
             f"{len(rows)} page views checked in {seconds:.0f} s (one server, one browser; the demo's "
             f"'Skip ahead' before it not counted; load average {os.getloadavg()[0]:.1f} on "
             f"{os.cpu_count()} processors at the end).", "",
             "| Page | Seen as | Screen | State | Critical | Serious | Moderate | Minor | Excluded |",
             "|---|---|---|---|---:|---:|---:|---:|---:|"]
    for title, role, size, state, res in rows:
        c = res.counts()
        lines.append(f"| {title} | {role} | {size} | {state} | {c['critical']} | {c['serious']} | "
                     f"{c['moderate']} | {c['minor']} | {sum(len(v['nodes']) for v in res.excluded)} |")
    if axe.JOURNEY_ROWS.is_file():
        import json

        lines += ["", "States reached inside the browser journeys (tests/e2e/test_projector_journey.py and others, "
                  "checked with tests.e2e.axe.assert_accessible in the journey's own browser; rows kept in "
                  "bench/results/accessibility-journeys.json from their last run with KLEROTERION_A11Y_REPORT=1):", "",
                  "| Page | Seen as | Screen | State | Critical | Serious | Moderate | Minor | Excluded |",
                  "|---|---|---|---|---:|---:|---:|---:|---:|"]
        for key, c in sorted(json.loads(axe.JOURNEY_ROWS.read_text()).items()):
            lines.append(f"| {key} | {c['critical']} | {c['serious']} | {c['moderate']} | {c['minor']} | "
                         f"{c['excluded']} |")
    lines += ["", "Streamlit's own elements left out, each for one rule only:", ""]
    lines += [f"- `{rule}` on `{css}`: {why}" for rule, css, why in axe.STREAMLIT_EXCLUSIONS]
    return "\n".join(lines) + "\n"


def test_every_page_has_no_serious_accessibility_violation(browser, assembly, tmp_path):
    path, code = assembly
    pages = app_pages()
    srv = StreamlitServer(path)
    started = time.monotonic()
    rows: list = []
    try:
        first = browser.new_context(viewport=SIZES["desktop"])
        warm = first.new_page()
        warm.set_default_timeout(SLOW)
        warm.goto(srv.url)                   # a fresh server's first run is slow
        wait_idle(warm, SLOW)
        first.close()
        explored: set[tuple[str, bool]] = set()
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
                        checked = [(title, role, size, "first view", axe.check(pg))]
                        if size == "desktop" and (title, role == "public") not in explored:
                            explored.add((title, role == "public"))   # each page's tabs once (and the sign-in page)
                            checked += explore(pg, title, role)
                        rows += checked
                if role == "public":
                    rows += after_bad_input_as_visitor(d, p, srv.url)
                if role == "member":
                    rows += after_bad_input_as_member(d, p, srv.url, code)
                if role == "organiser":
                    rows += reissuing_a_card(d, srv.url)
            finally:
                desktop.close()
                phone.close()
    finally:
        srv.stop()
    problems = [f"{t} (as {r}, {s}, {st}):\n{res.describe()}" for t, r, s, st, res in rows if res.serious()]
    text = report(rows, time.monotonic() - started)
    (tmp_path / "accessibility.md").write_text(text)
    print(text)
    if os.environ.get("KLEROTERION_A11Y_REPORT") == "1":
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(text)
    unchecked = [f"{t} (as {r}, {s}, {st})" for t, r, s, st, res in rows if res.rules_passed < 5]
    assert not unchecked, f"axe found almost nothing to check on: {unchecked}"
    assert not problems, "serious or critical accessibility violations:\n\n" + "\n\n".join(problems)


# --- states reached after an action: error messages, confirmations, Spanish on a phone -------------------------

def _visit(pg, base: str, url: str, lang: str | None = None) -> None:
    pg.goto(f"{base}/{url}" + (f"?lang={lang}" if lang else ""))
    _settle(pg)
    pg.locator(f'{MAIN} h1').first.wait_for()
    _settle(pg)


def after_bad_input_as_visitor(desktop, phone, base: str) -> list:
    """The sign-in page with a wrong password (desktop, English) and with a wrong access code (phone, Spanish)."""
    from playwright.sync_api import expect

    rows = []
    _visit(desktop, base, "sign-in")
    # the check sees a real fault in a state like these: a button with no name, put into the page for a moment
    desktop.evaluate("""() => { const b = document.createElement('button'); b.id = 'kl-unnamed';
                               document.querySelector('[data-testid="stMain"] h1').after(b); }""")
    faulty = axe.check(desktop)
    desktop.evaluate("() => document.getElementById('kl-unnamed').remove()")
    assert any(v["id"] == "button-name" for v in faulty.serious()), faulty.describe()
    desktop.get_by_text("Volunteer", exact=True).click()
    desktop.locator("input[type=password]").fill("not the password")
    desktop.get_by_role("button", name="Sign in", exact=True).click()
    expect(desktop.get_by_text("That password is not right")).to_be_visible(timeout=SLOW)
    _settle(desktop)
    rows.append(("Sign in", "public", "desktop", "a wrong password", axe.check(desktop)))
    _visit(phone, base, "sign-in", "es")
    rows.append(("Sign in", "public", "phone", "Spanish", axe.check(phone)))
    phone.get_by_role("tab", name="Miembro de la asamblea").click()
    phone.get_by_label("Su código de acceso (en su tarjeta)").fill("WRONG-CODE")
    phone.get_by_role("button", name="Abrir mis páginas").click()
    expect(phone.get_by_text("No reconocemos ese código.")).to_be_visible(timeout=SLOW)
    _settle(phone)
    rows.append(("Sign in", "public", "phone", "Spanish, a wrong access code", axe.check(phone)))
    _visit(phone, base, "transparency", "es")
    rows.append(("Transparency", "public", "phone", "Spanish", axe.check(phone)))
    return rows


def after_bad_input_as_member(desktop, phone, base: str, code: str) -> list:
    """A member on their phone in Spanish: the survey sent with questions unanswered (the "send anyway?"
    question), a question proposed with nothing written (its error), the results."""
    from playwright.sync_api import expect

    rows = []
    _visit(phone, base, "survey", "es")
    rows.append(("Survey", "member", "phone", "Spanish", axe.check(phone)))
    phone.get_by_role("radiogroup").first.get_by_text("De acuerdo", exact=True).click()
    phone.get_by_role("button", name="Enviar mis respuestas").click()
    expect(phone.get_by_role("button", name="Enviar de todos modos")).to_be_visible(timeout=SLOW)
    _settle(phone)
    rows.append(("Survey", "member", "phone", "Spanish, asking “send anyway?” with questions unanswered",
                 axe.check(phone)))
    _visit(phone, base, "our-questions", "es")
    phone.get_by_role("button", name="Proponer esta pregunta").click()
    expect(phone.get_by_text("Escriba su pregunta: el espacio está vacío.")).to_be_visible(timeout=SLOW)
    _settle(phone)
    rows.append(("Our questions", "member", "phone", "Spanish, a question proposed empty", axe.check(phone)))
    _visit(phone, base, "results", "es")
    rows.append(("Results", "member", "phone", "Spanish", axe.check(phone)))
    return rows


def reissuing_a_card(desktop, base: str) -> list:
    """The organiser prints a member's card again: the new card, ready to download."""
    from playwright.sync_api import expect

    _open(desktop, base, "Evaluation", "evaluation", by_menu=True)
    _settle(desktop)                            # a click on a page still running its last rerun can be lost
    main = desktop.locator(MAIN)
    main.get_by_role("tab", name="Access cards").click()
    make = main.get_by_role("button", name="Make a new card (the old code stops working)")
    if not make.is_visible():                   # the expander may have been left open by explore()
        main.get_by_text("Print a member's card again (lost or never printed)").click()
    expect(make).to_be_visible(timeout=SLOW)
    _settle(desktop)
    make.click()
    expect(desktop.get_by_text("made. Download and print them now")).to_be_visible(timeout=SLOW)
    _settle(desktop)
    return [("Evaluation", "organiser", "desktop", "a member's card made again", axe.check(desktop))]
