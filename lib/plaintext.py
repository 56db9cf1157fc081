"""Text that people typed, shown as plain text.

Names, member-proposed questions, "you said, we did" notes, the assembly's name and public
numbers come from people. Streamlit renders most strings as Markdown (images, links, colours,
icons, maths) and ``unsafe_allow_html`` renders HTML, so such text must be escaped wherever it is
put inside Markdown or HTML; otherwise a sign-up named ``![x](https://evil.example/t.png)`` loads an
image on the volunteers' screens. Use :func:`md` for text inside Markdown (st.markdown,
st.write, st.info, captions, labels, table cells rendered as Markdown) and :func:`html` for text
inside HTML that the app builds itself (printable pages, unsafe_allow_html blocks).
"""

from __future__ import annotations

import html as _html
import re
import string

_PUNCTUATION = frozenset(string.punctuation)
# Streamlit's Markdown (remark-gfm) turns bare web addresses into links *after* backslash escapes are
# resolved, so escaping cannot stop it: an invisible word joiner (U+2060) just before "http://",
# "https://" or "www." can (the address then does not start after a space or punctuation). The same
# transform turns a bare e-mail address into a "mailto:" link: a joiner just before "@" stops that (the
# part before "@" must end right there).
_WEB_ADDRESS = re.compile(r"(?=https?://|www\.|@)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def md(text: object) -> str:
    """``text`` escaped for Markdown: every ASCII punctuation character gets a backslash (CommonMark
    allows escaping any of them), so no link, image, emphasis, heading, list, table, maths, colour
    or icon syntax survives. Bare web and e-mail addresses get an invisible word joiner (in front, or
    before the "@"), so they are not turned into links either (the text looks the same). Line breaks stay."""
    if text is None:
        return ""
    out = []
    for ch in _WEB_ADDRESS.sub(WORD_JOINER, str(text)):
        if ch in _PUNCTUATION:
            out.append("\\" + ch)
        elif ch == "\r":
            continue
        else:
            out.append(ch)
    return "".join(out)


def html(text: object) -> str:
    """``text`` escaped for HTML (quotes too, so it is safe inside attributes)."""
    return "" if text is None else _html.escape(str(text), quote=True)


def count(n: int, singular: str, plural: str | None = None) -> str:
    """ "1 member", "3 members": a number with its noun, for English-only (organiser) pages instead of
    "member(s)". Member and public pages use ngettext (lib.i18n), which also knows other languages."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"
