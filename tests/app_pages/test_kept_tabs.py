"""Tabs stay on the tab the person chose after a save (issue 15: they jumped back to the first tab).

A save shows a message above the tabs and reruns the page; the browser then draws the tabs anew and
opens the tab the server names. These tests read that tab from what the server sends after the save.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.app_pages.helpers import assert_ok, goto, open_app, texts
from tests.app_pages.participation_fixtures import demo_file, enrol_demo_panel, fast_app_env, session_today  # noqa: F401


def open_tab(at, label: str) -> str:
    """The tab the browser is told to show, of the tab set that has a tab called ``label``."""
    def walk(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    for node in walk(at._tree):
        proto = getattr(node, "proto", None)
        if type(proto).__name__ != "Block" or not proto.HasField("tab_container"):
            continue
        labels = [c.label for c in node.children.values()]
        if label in labels:
            return labels[proto.tab_container.default_tab_index]
    raise AssertionError(f"no tabs with {label!r}")


def choose_tab(at, key: str, label: str) -> None:
    """What a click on a tab sends to the server."""
    at.session_state[key] = label
    at.run()
    assert_ok(at)


def test_the_paper_sheet_tab_stays_open_after_saving_the_sheet(fast_app_env):
    at = open_app("volunteer")
    d, ids = enrol_demo_panel(6)
    sid = session_today(d)
    goto(at, "pages/checkin.py")
    assert open_tab(at, "Paper sheet") == "At the door"
    choose_tab(at, "checkin_tab", "Paper sheet")
    assert open_tab(at, "Paper sheet") == "Paper sheet"
    {r.key: r for r in at.radio}[f"sheet_{sid}_{ids[0]}"].set_value("Present")
    [b for b in at.button if b.label == "Save the sheet"][0].click().run()
    assert_ok(at)
    assert "Saved 1 mark from the paper sheet." in texts(at)
    assert open_tab(at, "Paper sheet") == "Paper sheet"


def test_the_support_needs_tab_stays_open_after_saving_a_need(fast_app_env):
    at = open_app()
    d, ids = enrol_demo_panel(6, now=datetime.now(timezone.utc) - timedelta(days=5))
    goto(at, "pages/support.py")
    choose_tab(at, "support_tab", "Support needs")
    at.selectbox(key="need_member").set_value(ids[1])
    at.selectbox(key="need_kind").set_value("childcare")
    [b for b in at.button if b.label == "Save the need"][0].click().run()
    assert_ok(at)
    assert f"Childcare need recorded for {ids[1]}." in texts(at)
    assert open_tab(at, "Support needs") == "Support needs"
    # and another tab chosen afterwards is the one kept
    choose_tab(at, "support_tab", "Stipends")
    assert open_tab(at, "Support needs") == "Stipends"
