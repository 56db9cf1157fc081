"""First names for the door (the only contact-derived data volunteers see): the first name in a name as
people type it, or nothing when none can be shown safely.
"""

from __future__ import annotations

import unicodedata

# --- first names for the door (the only contact-derived data volunteers see) ------------------

_TITLES = frozenset(
    """mr mrs ms miss mx master dr doctor prof professor rev revd reverend fr father sr sra srta
    sir dame lord lady cllr councillor hon herr frau fräulein mme mlle mevr dhr med dipl ing""".split()
)
_SUFFIXES = frozenset("jr jnr junior sr snr senior ii iii iv phd md mbe obe esq".split())
_EDGE_PUNCTUATION = "\"'“”‘’«»„‚()[]{}<>.,;:!?*/\\|_~`^#"
NO_NAME = "(no name given)"


def _name_words(text: str) -> list[str]:
    words = []
    for w in text.split():
        w = w.strip(_EDGE_PUNCTUATION)
        if not w or "@" in w or any(c.isdigit() or c.isnumeric() for c in w):
            continue  # part of an email address or a phone number: never shown
        if not any(c.isalpha() for c in w):
            continue
        words.append(w)
    return words


def _drop_titles(words: list[str]) -> list[str]:
    i = 0
    while i < len(words) and words[i].casefold().rstrip(".") in _TITLES:
        i += 1
    return words[i:]


def first_name(full_name: str | None) -> str:
    """The first name in a name as people type it, or "" when none can be shown safely.

    'Rosa Thị Minh' -> 'Rosa'; 'O'Brien, Mary' -> 'Mary' (the register's "Surname, First");
    'Mrs Mary Smith' -> 'Mary'; 'Mary Smith, Jr.' -> 'Mary'; 'Łukasz Nowak' -> 'Łukasz'. Nothing
    from an email address or a phone number is ever returned ('mary.smith@example.org' -> ''),
    nor a word with a digit in it, so a contact detail typed in the name column stays hidden."""
    text = unicodedata.normalize("NFC", str(full_name or ""))
    # odd spaces and control characters split words; joiners (ZWJ, ZWNJ: part of Persian or Indic names) stay
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Zs", "Zl", "Zp") else c for c in text)
    if "," in text:
        before, after = text.split(",", 1)
        after_words = _drop_titles(_name_words(after.replace(",", " ")))
        if after_words and not all(w.casefold().rstrip(".") in _SUFFIXES for w in after_words):
            return after_words[0]  # "Surname, First"
        text = before
    words = _drop_titles(_name_words(text))
    return words[0] if words else ""


def first_name_or_placeholder(full_name: str | None) -> str:
    """:func:`first_name`, or "(no name given)" when there is none to show."""
    return first_name(full_name) or NO_NAME


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text or "")).casefold()
    return "".join(c for c in text if not unicodedata.combining(c))
