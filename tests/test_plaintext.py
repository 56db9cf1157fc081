"""People's text is shown as plain text: no Markdown or HTML survives escaping."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from lib.plaintext import html, md

HOSTILE = ["![x](https://evil.example/t.png)", "[Click here](https://evil.example)", "**bold** _it_ # head",
           ":red[alarm] :material/warning:", "$x^2$", "<style>body{display:none}</style>",
           "www.evil.example", "https://evil.example/login", "a | b\n---|---", "O'Brien, Mary"]


def _page(texts):
    import streamlit as st

    from lib.plaintext import md

    for t in texts:
        st.markdown(md(t))


def test_markdown_escaping_keeps_the_text_and_drops_the_markup():
    at = AppTest.from_function(_page, args=(HOSTILE,))
    at.run()
    shown = [m.value for m in at.markdown]
    assert len(shown) == len(HOSTILE)
    for original, escaped in zip(HOSTILE, shown):
        # unescaping the backslashes (and the invisible word joiners before web addresses) gives back
        # exactly what the person typed
        assert escaped.replace("\\", "").replace("\u2060", "") == original.replace("\\", "")
        assert "](" not in escaped.replace("\\]\\(", "")


def test_html_escaping():
    assert html('<img src=x onerror="alert(1)">') == "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
    assert html(None) == "" and md(None) == ""


def _autolinks(markdown: str) -> list[str]:
    """The web addresses Streamlit's Markdown would still turn into working links: remark-gfm's
    autolink-literal transform (the regex and the check on the character before, as in Streamlit's
    StreamlitMarkdown bundle) runs on the text *after* backslash escapes are resolved, so escaping
    alone does not stop it. Found in a real browser: a member's question holding a bare address
    showed as a clickable link on the members' "Our questions" page."""
    import re
    import unicodedata

    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)     # what the escapes resolve to
    found = []
    for m in re.finditer(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", text, re.I | re.A):
        before = text[m.start() - 1] if m.start() else ""
        if not before or before.isspace() or unicodedata.category(before)[0] in "PS":
            found.append(m.group(0))
    # the e-mail rule of the same transform: a mailto: link
    for m in re.finditer(r"(?:(?<=^)|(?<=[\s!-/:-@\[-`{-~]))([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", text, re.A):
        found.append("mailto:" + m.group(0))
    return found


def test_bare_web_addresses_in_peoples_text_do_not_become_links():
    texts = ["https://evil.example/login", "Log in at www.evil.example now", "See (http://127.0.0.1:9/x)",
             "HTTPS://EVIL.EXAMPLE/A", "Is the bus free? http://evil.example/q.png", "two: www.a.example www.b.example",
             "Write to help@evil.example", "(support.desk+x@evil.example)", "a@b.example"]
    for t in texts:
        assert _autolinks(t), f"the check should see a link in {t!r}"          # so the test can fail
        assert _autolinks(md(t)) == [], f"{t!r} would show as a working link"
    # the text itself is unchanged to the eye: only escapes and invisible word joiners were added
    for t in texts:
        assert md(t).replace("\\", "").replace("\u2060", "") == t


def test_a_count_says_its_noun_in_the_singular_or_the_plural():
    from lib.plaintext import count

    assert count(1, "member") == "1 member"
    assert count(0, "member") == "0 members" and count(3, "paper card") == "3 paper cards"
    assert count(2, "person", "people") == "2 people"


def test_no_page_or_message_says_member_s_or_card_s():
    """Pages said "1 member(s) have endorsed", "3 card(s) made", and messages written in lib ("All 3 paper
    card(s) handed out ...", "1 seat(s) to refill") still did: a count says its noun right (count(), or
    ngettext on member and public pages)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    # the public bundle's README is checked byte for byte by the verifier: its wording is part of the
    # published format, and changing it would make every bundle published so far fail
    frozen = {("lib/sortition/audit/bundle.py", "public_readme")}
    found = []
    for path in sorted([*root.joinpath("pages").rglob("*.py"), *root.joinpath("lib").rglob("*.py"), root / "app.py"]):
        tree = ast.parse(path.read_text())
        rel = str(path.relative_to(root))
        skip: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                body = node.body
                if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                    skip.add(id(body[0].value))  # a docstring talks about the words, it does not show them
            if isinstance(node, ast.FunctionDef) and (rel, node.name) in frozen:
                skip.update(id(n) for n in ast.walk(node))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "(s)" in node.value:
                if id(node) not in skip:
                    found.append(f"{rel}:{node.lineno}: {node.value.strip()[:60]}")
    assert found == []
