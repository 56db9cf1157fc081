"""Languages: the app's own words in English and every language with a catalogue. Pure Python.

The English text in the code is the message id (gettext's usual way). Each other language has a
catalogue kept as text in the repository, ``lib/locale/<lang>/LC_MESSAGES/messages.po``, read with
Babel's ``read_po`` the first time the language is used and compiled in memory (so there is no
compiled file that could go stale). Plural forms follow each language's own rules (Babel's CLDR data
writes them into the catalogue's ``Plural-Forms`` header).

Extract the strings after changing the code with ``make messages`` (Babel's extractor: babel.cfg names
the files, keywords ``_``, ``N_`` and ``ngettext``), then translate the new entries in each .po file.
``tests/test_i18n.py`` fails while any string in the code has no translation.

Text people typed (names, questions, notes) is never translated here: members' questions have their
own translations, stored per wording (lib.evaluation.languages.set_translation, migration 012).
"""

from __future__ import annotations

import gettext as _gettext
import io
import threading
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DEFAULT = "en"
# Each language named in its own words, so anyone can find theirs.
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español"}

_lock = threading.Lock()
_cache: dict[str, _gettext.NullTranslations] = {}


def N_(message: str) -> str:
    """Marks a string for extraction without translating it (for module-level constants: translate
    them with ``gettext`` where they are shown)."""
    return message


def normalise(lang: object) -> str:
    """A supported language code from what a browser, a link or a stored preference says ("es",
    "ES", "es-MX", "es_ES"); English for anything else."""
    code = str(lang or "").strip().replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else DEFAULT


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(lang: str):
    """The Babel catalogue of a language, read from its .po file."""
    from babel.messages.pofile import read_po

    with open(po_path(lang), "rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def _compile(lang: str) -> _gettext.NullTranslations:
    from babel.messages.mofile import write_mo

    catalog = read_catalog(lang)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)  # a fuzzy (unchecked) translation is not used
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def translations(lang: str) -> _gettext.NullTranslations:
    """The translations for a language (English, or a missing catalogue: the text as written)."""
    lang = normalise(lang)
    with _lock:
        if lang not in _cache:
            if lang == DEFAULT or not po_path(lang).exists():
                _cache[lang] = _gettext.NullTranslations()
            else:
                _cache[lang] = _compile(lang)
        return _cache[lang]


def gettext(lang: str, message: str) -> str:
    """``message`` in ``lang``; the English text when the catalogue has no translation for it."""
    return translations(lang).gettext(message)


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    """The form of a message for ``n`` in ``lang`` (Spanish and English: one and other; Polish: one,
    few and many), falling back to English's own rule when there is no translation."""
    return translations(lang).ngettext(singular, plural, n)


class Translator:
    """``_`` and ``ngettext`` bound to one language, for code that writes a whole page or document."""

    def __init__(self, lang: str | None = None):
        self.lang = normalise(lang)

    def gettext(self, message: str) -> str:
        return gettext(self.lang, message)

    __call__ = gettext

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return ngettext(self.lang, singular, plural, n)


def language_label(lang: str) -> str:
    return LANGUAGES.get(normalise(lang), LANGUAGES[DEFAULT])


_LANGUAGE = N_("Language")


def picker_label() -> str:
    """The picker's label, readable in every language offered ("Language / Idioma")."""
    return " / ".join(gettext(code, _LANGUAGE) for code in LANGUAGES)


# --- messages written in English elsewhere (a refusal from lib, people's words inside it) --------------------

_PLACEHOLDER = __import__("re").compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_patterns: dict[str, list] = {}


def _message_patterns(lang: str) -> list:
    """(regex, msgid) for every message of the catalogue with named {placeholders}, longest first."""
    import re

    with _lock:
        if lang not in _patterns:
            found = []
            if lang != DEFAULT and po_path(lang).exists():
                for m in read_catalog(lang):
                    if isinstance(m.id, str) and m.string and not m.fuzzy and _PLACEHOLDER.search(m.id):
                        parts = _PLACEHOLDER.split(m.id)  # literal, name, literal, name, ...
                        seen: set[str] = set()
                        regex = ""
                        for i, part in enumerate(parts):
                            if i % 2 == 0:
                                regex += re.escape(part)
                            elif part in seen:
                                regex += f"(?P={part})"
                            else:
                                seen.add(part)
                                regex += f"(?P<{part}>.+?)"
                        if sum(len(p) for p in parts[::2]) >= 8:  # enough fixed words to be sure
                            found.append((re.compile(regex, re.S), m.id))
            found.sort(key=lambda pair: -len(pair[1]))
            _patterns[lang] = found
        return _patterns[lang]


def said(lang: str, message: str) -> str:
    """``message``, an English sentence made elsewhere (a refusal raised in lib), in ``lang``: the
    catalogue's translation when it is one of its messages, or one of its messages with its
    {placeholders} filled in (the values put back, each translated when it is a message itself:
    "Please write {what}: it is empty." with "your question"). Anything else stays as it is."""
    lang = normalise(lang)
    if lang == DEFAULT or not message:
        return message
    exact = gettext(lang, message)
    if exact != message:
        return exact
    for regex, msgid in _message_patterns(lang):
        m = regex.fullmatch(message)
        if m:
            values = {k: gettext(lang, v) for k, v in m.groupdict().items()}
            return gettext(lang, msgid).format(**values)
    return message
