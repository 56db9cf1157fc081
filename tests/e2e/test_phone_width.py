"""Every page fits a phone (390 × 844) for every role that sees it: nothing wider than the screen (no sideways
scroll of the page) and every tab label on the screen, in real Chromium against a real `streamlit run`.

Members may not be confident with computers: a tab pushed past the right edge of the screen (the sign-in
page's "I have an invitation", the Evaluation page's "You said, we did" and "Log") is a choice they never see.
Tables (data frames) scroll inside their own box, which a person sees; they are the one thing allowed to be
wider than their box. What a box on the screen cuts off (a progress bar's fill at 0%, moved a whole track to the
left) is not on the screen either.
"""

from __future__ import annotations

import pytest

from lib import evaluation as ev
from lib.access import auth
from lib.access.pages import PAGES
from lib.demo.load import load_demo
from lib.recruitment.signups.store import pool_frame
from lib.store.db import open_database
from tests.e2e.conftest import StreamlitServer, sign_in, wait_for_sign_in_cookie, wait_idle
from tests.e2e.test_member_journey import member_sign_in

pytestmark = pytest.mark.e2e

# What sticks out of the screen, and every tab's place: elements inside a table, a code block or the (folded)
# side menu scroll or hide on their own and are left out.
MEASURE = """() => {
    const d = document.documentElement, w = d.clientWidth;
    const own = '[data-testid="stDataFrame"], [data-testid="stTable"], [data-testid="stSidebar"], '
              + '[data-testid="stCode"], [data-testid="stSidebarCollapsedControl"]';
    const name = e => (e.getAttribute('data-testid') || e.tagName.toLowerCase()) + ' "'
                      + (e.textContent || '').trim().slice(0, 40) + '"';
    const out_of = r => r.right > w + 1 || r.left < -1;
    // cut off by a box of the page's content, itself on the screen, that hides what overflows it (a progress
    // bar's fill, moved left of its track by 100% at 0%): nobody sees the part outside. Only boxes inside the
    // main area count: the app's own frame also hides overflow, but what it cuts off is lost or scrolls
    const main = document.querySelector('[data-testid="stMain"]');
    const clipped = e => {
        for (let p = e.parentElement; p && p !== main; p = p.parentElement) {
            const o = getComputedStyle(p).overflowX;
            if ((o === 'hidden' || o === 'clip') && !out_of(p.getBoundingClientRect())) return true;
        }
        return false;
    };
    const out = [...document.querySelectorAll('[data-testid="stMain"] *')].filter(e => {
        if (e.closest(own)) return false;
        const r = e.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && out_of(r) && !clipped(e);
    }).map(e => name(e) + ' ' + Math.round(e.getBoundingClientRect().left) + '-'
                + Math.round(e.getBoundingClientRect().right));
    const tabs = [...document.querySelectorAll('[role="tab"]')].map(t => {
        const r = t.getBoundingClientRect();
        return {label: t.textContent.trim(), left: r.left, right: r.right};
    });
    return {scroll: d.scrollWidth, width: w, sticking_out: out.slice(0, 8), tabs};
}"""


@pytest.fixture(scope="module")
def assembly(tmp_path_factory):
    """The demo assembly with one member holding an access card."""
    path = tmp_path_factory.mktemp("phone_width") / "app.duckdb"
    db = open_database(path)
    load_demo(db)
    pid = pool_frame(db)["person_id"].tolist()[0]
    code = ev.issue_codes(db, [pid], "organiser")[pid]
    db.close()
    return path, code


def problems(page, where: str) -> list[str]:
    m = page.evaluate(MEASURE)
    out = []
    if m["scroll"] > m["width"]:
        out.append(f"{where}: the page scrolls sideways ({m['scroll']} px wide on a {m['width']}-px screen)")
    out += [f"{where}: sticks out of the screen: {e}" for e in m["sticking_out"]]
    out += [f"{where}: the tab {t['label']!r} is off the screen ({t['left']:.0f}-{t['right']:.0f} px)"
            for t in m["tabs"] if t["right"] > m["width"] + 1 or t["left"] < -1]
    return out


def visit_every_page(phone, url: str, role: str) -> list[str]:
    found = []
    for _section, _file, title, _icon, path, roles in PAGES:
        if role not in roles:
            continue
        phone.goto(f"{url}/{path}")                   # a typed address: the sign-in cookie keeps the role
        wait_idle(phone)
        phone.get_by_role("heading").first.wait_for()
        wait_idle(phone)
        found += problems(phone, f"{role} on {title!r}")
    return found


def phone_visits(browser, url: str, role: str, code: str) -> list[str]:
    """What does not fit on the pages ``role`` sees, each opened on a phone by its address."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.set_default_timeout(30_000)
    try:
        phone.goto(url)
        wait_idle(phone)
        if role == auth.MEMBER:
            member_sign_in(phone, url, code)
            wait_for_sign_in_cookie(phone)
        elif role != auth.PUBLIC:
            sign_in(phone, url, role)
        found = visit_every_page(phone, url, role)
        if role == auth.PUBLIC:                       # Spanish words are longer
            phone.goto(f"{url}/sign-in?lang=es")
            wait_idle(phone)
            phone.get_by_role("heading").first.wait_for()
            found += problems(phone, "a visitor on the sign-in page in Spanish")
        return found
    finally:
        context.close()


def test_every_page_fits_a_phone_for_every_role(assembly, browser):
    path, code = assembly
    srv = StreamlitServer(path)
    try:
        found = [p for role in (auth.PUBLIC, auth.MEMBER, auth.VOLUNTEER, auth.ORGANISER)
                 for p in phone_visits(browser, srv.url, role, code)]
    finally:
        srv.stop()
    assert not found, "\n".join(found)
