"""Languages (lib/i18n.py): plural forms, fallbacks, and the proof that every language is complete."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import pytest

from lib import i18n

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}   # as in the Makefile's `messages` target


def _code_dirs(path: str) -> bool:
    """Only the app's own folders are walked (babel.cfg names app.py, pages/ and lib/)."""
    rel = Path(os.path.relpath(path, ROOT)).parts      # not resolve(): .venv may be a link elsewhere
    rel = () if rel == (".",) else rel
    return not rel or rel[0] in ("pages", "lib")


@lru_cache(maxsize=1)
def code_messages() -> dict:
    """Every translatable string in the code, found by Babel's extractor with the project's babel.cfg."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=_code_dirs):
        found.setdefault(message, f"{filename}:{lineno}")
    return found


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{([^{}]*)\}", text))


# --- plural forms --------------------------------------------------------------------------------------

def test_spanish_plural_forms_follow_spanish_rules():
    one, many = "You left {n} question blank; that is fine.", "You left {n} questions blank; that is fine."
    assert i18n.ngettext("es", one, many, 1) == "Dejó {n} pregunta sin responder; no pasa nada."
    for n in (0, 2, 5, 21, 1_000_000):
        assert i18n.ngettext("es", one, many, n) == "Dejó {n} preguntas sin responder; no pasa nada.", n


def test_english_plural_forms_and_language_codes():
    one, many = "You left {n} question blank; that is fine.", "You left {n} questions blank; that is fine."
    assert i18n.ngettext("en", one, many, 1) == one
    assert i18n.ngettext("en", one, many, 0) == many
    assert i18n.normalise("ES") == i18n.normalise("es-MX") == i18n.normalise("es_ES") == "es"


# --- fallbacks -----------------------------------------------------------------------------------------

def test_a_string_missing_from_the_catalogue_stays_in_english():
    assert i18n.gettext("es", "A sentence nobody has translated yet.") == "A sentence nobody has translated yet."
    assert i18n.ngettext("es", "{n} new thing", "{n} new things", 1) == "{n} new thing"
    assert i18n.ngettext("es", "{n} new thing", "{n} new things", 3) == "{n} new things"


def test_an_unknown_language_falls_back_to_english():
    assert i18n.normalise("xx") == "en"
    assert i18n.gettext("xx", "Survey") == "Survey"
    assert i18n.gettext("", "Survey") == "Survey"
    assert i18n.gettext("es", "Survey") == "Encuesta"


def test_the_picker_reads_in_every_language():
    assert i18n.picker_label() == "Language / Idioma"
    assert [i18n.language_label(c) for c in i18n.LANGUAGES] == ["English", "Español"]


def test_a_fuzzy_translation_is_not_used(tmp_path, monkeypatch):
    """An entry marked fuzzy (a guess nobody checked, as `pybabel update` leaves them) shows English."""
    po = i18n.po_path("es").read_text(encoding="utf-8")
    po = po.replace('msgid "Survey"\nmsgstr "Encuesta"', '#, fuzzy\nmsgid "Survey"\nmsgstr "Encuesta"')
    assert "#, fuzzy\nmsgid \"Survey\"" in po
    (tmp_path / "es" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "es" / "LC_MESSAGES" / "messages.po").write_text(po, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    monkeypatch.setattr(i18n, "_cache", {})
    assert i18n.gettext("es", "Survey") == "Survey"
    assert i18n.gettext("es", "Results") == "Resultados"


# --- complete languages ---------------------------------------------------------------------------------

def test_the_extractor_finds_the_member_and_public_pages():
    found = code_messages()
    for msg in ("Send my answers", "Transparency", "Strongly agree", "Open my pages",
                "Keep this card to yourself. Your survey answers are never linked to your name."):
        assert msg in found, msg


@pytest.mark.parametrize("lang", [code for code in i18n.LANGUAGES if code != i18n.DEFAULT])
def test_every_string_in_the_code_is_translated(lang):
    """A new English string in the code without a translation fails here (run `make messages`, then
    translate the new entries in lib/locale/<lang>/LC_MESSAGES/messages.po)."""
    catalog = i18n.read_catalog(lang)
    entries = {m.id: m for m in catalog if m.id}
    problems = []
    for msgid, where in code_messages().items():
        m = entries.get(msgid)
        forms = list(m.string) if m is not None and isinstance(m.string, (list, tuple)) else \
            [m.string if m is not None else ""]
        if m is None:
            problems.append(f"not in the catalogue ({where}): {msgid!r}")
        elif m.fuzzy or not all(forms):
            problems.append(f"not translated ({where}): {msgid!r}")
        else:
            wanted = set().union(*(placeholders(s) for s in (msgid if isinstance(msgid, tuple) else (msgid,))))
            for form in forms:
                if placeholders(form) != wanted:
                    problems.append(f"placeholders differ ({where}): {msgid!r} -> {form!r}")
    assert not problems, "\n".join(problems)
    in_code = code_messages()
    stale = [m for m in entries if m not in in_code]
    assert not stale, f"entries no longer in the code (run `make messages`): {stale}"


# --- access cards ------------------------------------------------------------------------------------------

def test_access_cards_print_in_spanish_and_their_link_opens_the_sign_in_page_in_spanish():
    from lib.assembly.access_cards import cards_html, sign_in_link

    page = cards_html({"P-0001": "ABCD-EFGH-JK"}, "https://assembly.example.org", "Riverside", "es")
    assert '<html lang="es">' in page
    for spanish in ("Su código de acceso personal a las páginas de los miembros:",
                    "Guarde esta tarjeta para usted.", "Para repartir: P-0001", "Escanee el cuadrado",
                    "Imprima esta página"):
        assert spanish in page, spanish
    for english in ("Your personal access code", "Keep this card", "For handing out", "Scan the square",
                    "Print this page"):
        assert english not in page, english
    assert sign_in_link("https://assembly.example.org/", "ABCD", "es") == \
        "https://assembly.example.org/sign-in?code=ABCD&lang=es"
    english = cards_html({"P-0001": "ABCD-EFGH-JK"}, "https://assembly.example.org", "Riverside")
    assert '<html lang="en">' in english and "Keep this card to yourself." in english
    assert sign_in_link("https://assembly.example.org", "ABCD") == "https://assembly.example.org/sign-in?code=ABCD"


# --- no text built in SQL ----------------------------------------------------------------------------------

EVALUATION_MODULES = ("vocabulary", "access_codes", "answers", "settings", "event_log", "questions", "endorsements",
                      "surveys", "paper", "results", "languages")
TRANSLATED_MODULES = [*(f"lib/evaluation/{m}.py" for m in EVALUATION_MODULES),
                      "lib/evaluation/report.py", "lib/reporting/transparency.py",
                      "lib/reporting/representativeness.py", "lib/assembly/access_cards.py", "lib/i18n.py"]


def sql_strings(path: Path) -> list[str]:
    """Every string constant in a module that reads as SQL (the pieces of a query written across lines are
    joined by Python, so each piece is checked)."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if re.search(r"\b(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b", text):
            out.append(text)
    return out


@pytest.mark.parametrize("module", TRANSLATED_MODULES)
def test_no_words_for_people_are_built_in_sql(module):
    """Words people read come from Python (and gettext), never from a query: a query that glues text
    together (`'…' || x`) or answers with a sentence (`THEN 'Must fix'`) could not be translated."""
    found = sql_strings(ROOT / module)
    assert found or module not in ("lib/evaluation/answers.py", "lib/reporting/representativeness.py")
    for sql in found:
        assert not re.search(r"'[^']*'\s*\|\||\|\|\s*'[^']*'", sql), f"{module}: text glued in SQL: {sql}"
        assert not re.search(r"\b(THEN|ELSE)\s+'[^']*[A-Za-z]{2,}[^']*'", sql), f"{module}: words in SQL: {sql}"


def test_the_sql_check_sees_words_built_in_sql(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('Q = "SELECT CASE WHEN blocking THEN \'Must fix\' ELSE \'Check\' END FROM x"\n'
                   'R = f"SELECT \'draw \' || {1} FROM y"\n', encoding="utf-8")
    found = sql_strings(bad)
    assert any(re.search(r"\b(THEN|ELSE)\s+'[^']*[A-Za-z]{2,}[^']*'", q) for q in found)
    assert any(re.search(r"'[^']*'\s*\|\||\|\|\s*'[^']*'", r) for r in found)


# --- refusals written in English in lib, shown in the reader's language (i18n.said) --------------------------

def test_a_refusal_from_lib_is_shown_in_spanish_with_its_values_put_back():
    assert i18n.said("es", "Please write your question: it is empty.") == "Escriba su pregunta: el espacio está vacío."
    too_long = "Your question is too long (612 characters); please keep it under 500."
    assert i18n.said("es", too_long) == "Su pregunta: el texto es demasiado largo (612 caracteres); no pase de 500."
    assert i18n.said("es", "Tick at least one question to endorse it.") == "Marque al menos una pregunta para apoyarla."


def test_a_refusal_keeps_what_people_typed_and_unknown_sentences_stay_english():
    # a value that is not a message of the catalogue (somebody's words) is put back as it was, braces and all
    assert i18n.said("es", "Please write {x} <b>: it is empty.") == "Escriba {x} <b>: el espacio está vacío."
    assert i18n.said("es", "Something nobody has translated.") == "Something nobody has translated."
    assert i18n.said("en", "Please write your question: it is empty.") == "Please write your question: it is empty."
    assert i18n.said("es", "") == ""


def test_every_member_refusal_listed_for_translation_is_one_lib_really_raises():
    """pages/language.py lists lib's refusals members can meet: each must still be written so in lib (a
    changed sentence in lib would silently show in English again)."""
    import ast

    listed = ast.parse((ROOT / "pages" / "language.py").read_text(encoding="utf-8"))
    [refusals] = [n.value for n in ast.walk(listed) if isinstance(n, ast.Assign)
                  and getattr(n.targets[0], "id", "") == "_MEMBER_REFUSALS"]
    source = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "lib" / "evaluation").glob("*.py")))
    joined = re.sub(r'"\s*\n\s*f?"', "", source)          # sentences written across lines, joined
    for node in refusals.elts:
        text = node.args[0].value
        if text[0].islower() or text.startswith(("Your question", "What you want", "Your reason")):
            assert text.lower() in joined.lower(), text       # the words put into a sentence
            continue
        fixed = max(re.split(r"\{[^{}]*\}", text), key=len)
        assert fixed in joined, text


# --- the printable transparency report a visitor downloads ----------------------------------------------------

def test_the_printable_transparency_report_reads_in_spanish(tmp_path_factory, tmp_path):
    import shutil

    from lib.reporting.transparency import gather, public_view, report_html
    from lib.store.db import open_database
    from tests.app_pages.drawn_demo import drawn_demo_file

    shutil.copyfile(drawn_demo_file(tmp_path_factory.getbasetemp()), tmp_path / "drawn.duckdb")
    db = open_database(tmp_path / "drawn.duckdb")
    try:
        data = public_view(gather(db))
        spanish = report_html(data, tr=i18n.Translator("es"))
        english = report_html(data)
    finally:
        db.close()
    assert "<html lang='es'>" in spanish and "<html lang='en'>" in english
    for words in ("Informe de transparencia", "1. Cómo es la comunidad", "Compromiso publicado: sorteo",
                  "Sorteo justo (este sorteo)", "Mínimo de plazas", "el sorteo", "todos iguales:",
                  "No contiene nombres ni datos de contacto"):
        assert words in spanish, words
    for words in ("Transparency report", "What the community looks like", "Commitment published", "Fewest seats",
                  "Fair lottery (this draw)", "everyone equal", "It holds no names", "the draw</td>"):
        assert words not in spanish, words
        assert words in english, words
