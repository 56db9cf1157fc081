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
        # unescaping the backslashes gives back exactly what the person typed
        assert escaped.replace("\\", "") == original.replace("\\", "")
        assert "](" not in escaped.replace("\\]\\(", "")


def test_html_escaping():
    assert html('<img src=x onerror="alert(1)">') == "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
    assert html(None) == "" and md(None) == ""
