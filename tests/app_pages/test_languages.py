"""Languages on the member and public pages (lib/i18n.py, pages/language.py), through AppTest on app.py."""

from __future__ import annotations

import re as _re
import shutil as _shutil
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from lib import evaluation as ev
from lib.i18n import gettext
from lib.recruitment.signups.store import pool_frame
from tests.app_pages.helpers import assert_ok, goto, open_app, texts, visible

SURVEY = "pages/member_survey.py"
RESULTS = "pages/results.py"
QUESTIONS = "pages/member_questions.py"
WORDING = "pages/question_wording.py"
TRANSPARENCY = "pages/transparency.py"

E1_EN = "I had enough chances to say what I think."
E1_ES = "Tuve suficientes oportunidades para decir lo que pienso."


def database():
    from lib.resources import get_db

    return get_db()


def codes(n: int) -> list[str]:
    d = database()
    return list(ev.issue_codes(d, pool_frame(d)["person_id"].tolist()[:n]).values())


def button(at, label):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r} in {[b.label for b in at.button]}"
    return found[0]


def choose_language(at, lang: str):
    at.selectbox(key="_lang_picker").set_value(lang).run()
    return assert_ok(at)


def sign_in_member(at, code: str, open_label: str = "Open my pages"):
    at = goto(at, "pages/signin.py")
    [box] = [t for t in at.text_input if str(t.label).startswith(("Your access code", "Su código de acceso"))]
    box.input(code)
    button(at, open_label).click()
    at.run()
    assert at.session_state["role"] == "member", texts(at)
    return assert_ok(at)


def everything(at) -> str:
    return visible("\n".join([texts(at), *(str(b.label) for b in at.button), *(str(r.label) for r in at.radio),
                              *(o for r in at.radio for o in r.options), *(str(e.label) for e in at.expander)]))


def test_a_member_reads_the_survey_in_spanish_and_it_stays_spanish_on_another_device(app_env):
    at = open_app(None)
    [code] = codes(1)
    ev.open_wave(database(), "pulse", "Después de la sesión 1")
    choose_language(at, "es")
    at = sign_in_member(at, code, open_label="Abrir mis páginas")
    goto(at, SURVEY)
    page = everything(at)
    for spanish in ("Encuesta", "Sus respuestas son **anónimas**", E1_ES, "Muy de acuerdo", "Prefiero no responder",
                    "Enviar mis respuestas", "Cómo se mantienen anónimas sus respuestas"):
        assert spanish in page, spanish
    for english in ("Survey\n", "Your answers are", E1_EN, "Strongly agree", "Prefer not to say", "Send my answers",
                    "How your answers are kept anonymous", "questions. For each"):
        assert english not in page, english
    # the member's choice is remembered with their token: a new browser opens in Spanish after signing in
    other = sign_in_member(open_app(None), code)
    goto(other, SURVEY)
    assert E1_ES in everything(other) and "Enviar mis respuestas" in everything(other)


def test_answers_given_in_spanish_and_in_english_count_together(app_env):
    d = database()
    open_app(None)
    five = codes(5)
    wave = ev.open_wave(d, "pulse", "After session 1")
    for i, (code, lang) in enumerate([(five[0], "es"), (five[1], "en")]):
        at = open_app(None)
        if lang == "es":
            choose_language(at, "es")
        at = goto(sign_in_member(at, code, "Abrir mis páginas" if lang == "es" else "Open my pages"), SURVEY)
        [e1] = [r for r in at.radio if (E1_ES if lang == "es" else E1_EN) in visible(r.label)]
        for radio in at.radio:
            if radio.key and radio.key.startswith("w"):     # every question of the survey: "Agree"
                radio.set_value(4)
        assert e1.value == 4
        button(at, gettext(lang, "Send my answers")).click()
        at.run()
        assert_ok(at)
    for code in five[2:]:
        ev.submit_answers(d, ev.member_sign_in(d, code), wave.wave_id, {"E1": 4})
    ev.close_wave(d, wave.wave_id)
    res = ev.results_frame(d, wave.wave_id).set_index("question_id")
    assert res.loc["E1", "answers"] == 5, res.loc["E1"].to_dict()
    assert res.loc["E1", "Agree"] == 5, res.loc["E1"].to_dict()   # one question, one count
    # and the results page shows them in Spanish, the same numbers
    at = goto(sign_in_member(choose_language(open_app(None), "es"), five[0], "Abrir mis páginas"), RESULTS)
    page = everything(at)
    assert "Resultados" in page and "Personas que respondieron: 5" in page, page
    assert "Results of the anonymous surveys" not in page and "People who answered" not in page
    tables = "\n".join(df.value.to_csv() for df in at.dataframe)
    assert E1_ES in tables and E1_EN not in tables         # the numbers behind the chart, in Spanish
    headings = [c for df in at.dataframe for c in df.value.columns]
    assert {"Pregunta", "De acuerdo", "Muy de acuerdo"} <= set(headings) and "Agree" not in headings
    [chart] = at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")
    spec = str(chart.proto.spec) + str([d for d in getattr(chart.proto, "datasets", [])])
    assert "Muy de acuerdo" in spec and "Respuesta" in spec and "Strongly agree" not in spec


def test_a_members_question_without_translation_says_so_until_an_organiser_translates_it(app_env):
    d = database()
    org = open_app("organiser")
    [code] = codes(1)
    qid = ev.propose_question(d, ev.member_sign_in(d, code), "The room was warm enough.", "Comfort")
    ev.check_question(d, qid, True)
    ev.questions_frame(d)           # core in place
    with d.cursor() as cur:          # adopted, as after an endorsement round
        cur.execute("UPDATE eval_questions SET status = 'adopted' WHERE question_id = ?", [qid])
    wave = ev.open_wave(d, "pulse")
    at = goto(sign_in_member(choose_language(open_app(None), "es"), code, "Abrir mis páginas"), SURVEY)
    [mine] = [r for r in at.radio if "The room was warm enough." in visible(r.label)]
    assert "Aún sin traducir: se muestra tal como se escribió." in texts(at)
    # the organiser translates it on the wording page
    goto(org, WORDING)
    assert "Not translated yet" in texts(org) and qid in texts(org)
    org.selectbox(key="translate_question").set_value(qid)
    org.selectbox(key="translate_lang").set_value("es")
    org.text_area(key="translate_text").input("")
    button(org, "Save the translation").click()
    org.run()
    assert "Please write the translation: it is empty." in texts(org)
    org.text_area(key="translate_text").input("La sala estaba bastante caliente.")
    button(org, "Save the translation").click()
    org.run()
    assert "Translation saved" in texts(org)
    # the frozen wave asks the same wording (version), so the member now reads it in Spanish
    at.run()
    assert any("La sala estaba bastante caliente." in visible(r.label) for r in at.radio)
    assert "Aún sin traducir" not in texts(at)
    assert ev.wave_questions_in(d, wave.wave_id, "en").set_index("question_id").loc[qid, "wording"] == \
        "The room was warm enough."
    del mine


def test_the_public_transparency_page_in_spanish_from_a_link(app_env):
    at = open_app(None)
    at.query_params["lang"] = "es"       # a shared link: ?lang=es
    at.run()
    goto(at, TRANSPARENCY)
    page = everything(at)
    for spanish in ("Transparencia", "Cómo se eligió a los miembros de la asamblea",
                    "El sorteo todavía no se ha hecho", "¿Hasta qué punto es representativa?"):
        assert spanish in page, spanish
    assert "Esta es la asamblea de demostración de Riverside" in page        # the demo's banner too
    for english in ("How the assembly's members were chosen", "The draw has not happened yet",
                    "How representative", "Transparency\n", "This is the Riverside demo assembly"):
        assert english not in page, english


def test_the_projector_in_spanish_before_the_draw(app_env):
    at = open_app(None)
    at.query_params["lang"] = "es"
    at.run()
    goto(at, "pages/projector.py")
    page = "\n".join([everything(at), *(str(m.value) for m in at.markdown)])
    for spanish in ("el sorteo, en directo", "El sorteo todavía no ha empezado",
                    "El compromiso aparecerá aquí en cuanto los organizadores lo publiquen"):
        assert spanish in page, spanish
    for english in ("the draw, live", "The draw has not started yet", "The commitment will appear here"):
        assert english not in page, english


def test_an_organiser_who_browsed_in_spanish_reads_english_after_signing_in(app_env):
    """Organiser pages are not translated and have no picker: the shared pages (Overview, Results,
    Transparency) must not stay in the Spanish the person chose as a visitor."""
    at = choose_language(open_app(None), "es")
    assert "Los pasos" in texts(at)
    at.session_state["role"] = "organiser"          # as after signing in
    goto(at, TRANSPARENCY)
    assert "How the assembly's members were chosen" in texts(at) and "Transparencia" not in texts(at)


def test_a_translation_carrying_a_link_or_an_image_shows_as_plain_text(app_env):
    from lib.plaintext import md

    d = database()
    open_app(None)
    [code] = codes(1)
    hostile = "Tuve tiempo [pincha aquí](http://malo.example) ![x](http://malo.example/x.png) <b>sí</b>"
    ev.questions_frame(d)
    ev.set_translation(d, "E1", "es", hostile, actor="organiser")
    ev.open_wave(d, "pulse")
    at = goto(sign_in_member(choose_language(open_app(None), "es"), code, "Abrir mis páginas"), SURVEY)
    labels = [str(r.label) for r in at.radio]
    assert any(md(hostile) in label for label in labels), labels       # shown, escaped
    assert not any(hostile in label for label in labels)               # never as Markdown


def test_the_side_menu_says_who_is_signed_in_in_the_members_language(app_env):
    [code] = codes(1)
    from streamlit.testing.v1 import AppTest

    from tests.app_pages.helpers import APP

    open_app(None)
    at = AppTest.from_file(APP, default_timeout=60)   # app.py's first run draws the side menu
    at.session_state["role"] = "member"
    at.session_state["member_session"] = ev.member_sign_in(database(), code)
    at.session_state["lang"] = "es"
    at.session_state["_lang_from"] = "chosen"
    at.run()
    side = [str(c.value) for c in at.sidebar.caption]
    assert "Ha entrado como **miembro de la asamblea**" in side, side
    assert [b.label for b in at.sidebar.button] == ["Salir"]


# --- no English left on any member or public page in Spanish ---------------------------------------------
#
# Every member and public page is walked in Spanish, in the states people reach (a draw revealed, a survey
# open, results published, bad input on the sign-in page and the survey), and every string the page shows
# (titles, text, labels, options, tabs, table headings and cells) is read. A string fails when it is an
# English message of the catalogue that has a Spanish translation (a word marked for translation but shown
# untranslated), when it matches such a message with its {placeholders} filled in, or when it holds a
# common English word (a sentence nobody marked for translation). Text people typed (the assembly's name,
# the organisers' questions and groups, survey names, members' questions) is theirs and stays as written.


ENGLISH_WORDS = {"the", "and", "you", "your", "with", "what", "this", "that", "have", "has", "was", "were",
                 "of", "is", "are", "to", "for", "not", "been", "will", "please", "who", "there", "here", "from",
                 "by", "an", "it", "on", "in", "or", "at", "draw", "sign", "survey", "question", "answers",
                 "password", "name", "step", "attending", "lottery", "round", "replacement", "continue",
                 "commitment", "published", "revealed", "organiser", "volunteer", "fewer", "than", "after",
                 "session", "before", "all", "baseline"}
_made_story: dict[str, object] = {}


def _story_file(base):
    """The demo a few weeks after the draw ("Skip ahead"), with its first survey published and a second one
    open: made once per test session, copied per test."""
    if "file" not in _made_story:
        from lib import assembly as part
        from lib.demo.load import load_demo
        from lib.demo.story import fast_forward
        from lib.store.db import open_database

        path = base / "story_demo.duckdb"
        d = open_database(path)
        load_demo(d)
        fast_forward(d, time_limit=5)
        statuses = part.member_statuses(d)
        member, other = statuses[statuses["status"] != "withdrawn"]["person_id"].tolist()[:2]
        codes = ev.issue_codes(d, [member, other], "organiser", replace=True)
        code = codes[member]
        # members' questions in each state a member meets: one to endorse in an open round, one of theirs with
        # a wording suggestion waiting for their answer
        theirs = ev.propose_question(d, ev.member_sign_in(d, codes[other]), "The room was warm enough.", "Comfort")
        ev.check_question(d, theirs, True)
        mine = ev.propose_question(d, ev.member_sign_in(d, code), "I could follow what the experts said.", "Clarity")
        ev.check_question(d, mine, True)
        ev.suggest_wording(d, mine, "I could follow what the experts told us.")
        ev.open_round(d, datetime.now(timezone.utc) + timedelta(days=3))
        [first] = [w for w in ev.waves(d) if w.status == "closed"]
        ev.publish_wave(d, first.wave_id)
        ev.open_wave(d, "pulse")                 # left unnamed: the app names it ("After a session (short)")
        d.close()
        _made_story["file"], _made_story["code"] = path, code
    return _made_story["file"], _made_story["code"]


def _strings(at) -> list[tuple[str, str]]:
    """(kind, text) of everything the page shows, main area and side menu."""
    out: list[tuple[str, str]] = []

    def walk(node) -> None:
        kind = type(node).__name__
        if kind == "Code":               # commands and fingerprints, the same in every language
            return
        for attr in ("label", "value", "body", "placeholder", "help"):
            if attr == "value" and kind in ("TextInput", "TextArea", "Radio", "Selectbox", "Checkbox"):
                continue                  # what the person typed or chose, not the page's words
            try:
                v = getattr(node, attr, None)
            except Exception:  # noqa: BLE001 - an element without that property
                v = None
            if isinstance(v, str) and v:
                out.append((kind, v))
        options = getattr(node, "options", None)
        if isinstance(options, (list, tuple)):
            out.extend((kind, str(o)) for o in options)
        if kind == "Dataframe":
            frame = node.value
            out.extend(("heading", str(c)) for c in frame.columns)
            out.extend(("cell", v) for c in frame.columns for v in frame[c].tolist() if isinstance(v, str))
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)

    walk(at._tree)
    return out


def _plain(text: str) -> str:
    text = _re.sub(r"<style.*?</style>", " ", text, flags=_re.S)
    text = _re.sub(r"<[^>]+>", " ", text)
    text = _re.sub(r"`[^`]*`", " ", text)             # code (a password, a command) is not words
    text = visible(text).replace("**", "")
    return " ".join(text.split())


@lru_cache(maxsize=1)
def _catalogue():
    """English messages whose Spanish differs, and the same with placeholders as patterns."""
    from lib.i18n import read_catalog

    exact, patterns = set(), []
    for m in read_catalog("es"):
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        for msgid in ids:
            if not msgid or not all(forms) or msgid in forms:
                continue
            plain = _plain(msgid)
            exact.add(plain)
            if "{" in plain:
                literal = _re.split(r"\{[^{}]*\}", plain)
                if sum(len(p) for p in literal) >= 8:
                    patterns.append(_re.compile(".+?".join(_re.escape(p) for p in literal)))
    return exact, patterns


def english_left(at, allowed: set[str]) -> list[str]:
    return english_in(_strings(at), allowed)


def english_in(strings, allowed: set[str]) -> list[str]:
    """The English left in (kind, text) pairs: a catalogue message shown untranslated, or a common English
    word outside people's own text (``allowed``)."""
    exact, patterns = _catalogue()
    found = []
    for kind, raw in strings:
        text = _plain(raw)
        if not text or text in allowed or text.startswith("Language / Idioma"):
            continue
        pieces = [text, *(p.strip() for p in _re.split(r"(?<=[.:!?])\s+", text))]
        if any(p in exact for p in pieces) or any(pat.fullmatch(p) for pat in patterns for p in pieces):
            found.append(f"{kind}: {text!r} (an English message with a translation)")
            continue
        words = set(_re.findall(r"[^\W\d_]+", text.lower()))     # whole words: "anónimas" is not "an"
        rest = text
        for a in sorted(allowed, key=len, reverse=True):      # people's text inside a sentence
            rest = rest.replace(a, " ")
        english = words & ENGLISH_WORDS & set(_re.findall(r"[^\W\d_]+", rest.lower()))
        if english:
            found.append(f"{kind}: {text!r} (English words: {sorted(english)})")
    return sorted(set(found))


def _people_text() -> set[str]:
    """What organisers and members typed: shown as written, in any language."""
    from lib.recruitment.categories import load_fields
    from lib.store.settings import get_setting

    d = database()
    allowed = {(get_setting(d, "assembly", {}) or {}).get("name", ""), "Riverside", "Kleroterion"}
    for f in load_fields(d):
        allowed.add(f.label)
        allowed.update(f.value_labels.values())
        allowed.update(f.values)
    allowed.update(w.label for w in ev.waves(d) if w.label not in ev.WAVE_KINDS.values())   # typed names
    rnd = ev.open_round_now(d)
    if rnd is not None:        # the endorsement round's public seed: hashed exactly as written, like a command
        allowed.add(str(rnd.lot_seed))
    qs = ev.questions_frame(d, "member")
    for column in ("wording", "purpose", "suggestion", "suggested_wording"):
        if column in qs.columns:
            allowed.update(qs[column].dropna().astype(str))
    return {_plain(a) for a in allowed if a}


def _walk(at, pages, allowed, where: str) -> list[str]:
    problems = []
    for p in pages:
        goto(at, p)
        problems += [f"{where} {p}: {x}" for x in english_left(at, allowed)]
    return problems


PUBLIC_PAGES = ["pages/home.py", "pages/transparency.py", "pages/projector.py", "pages/results.py",
                "pages/signin.py"]
MEMBER_PAGES = ["pages/home.py", "pages/member_questions.py", "pages/member_survey.py", "pages/results.py",
                "pages/transparency.py", "pages/projector.py"]


def test_no_english_sentence_left_on_any_member_or_public_page_in_spanish(app_env, tmp_path_factory):
    from lib.access.pages import PAGES, VISITORS, MEMBERS

    src, code = _story_file(tmp_path_factory.getbasetemp())
    _shutil.copyfile(src, app_env / "app.duckdb")
    # every page a visitor or a member may open is walked (a new page must be added here)
    shown = {path for _s, path, _t, _i, _u, roles in PAGES if roles & (VISITORS | MEMBERS)}
    assert shown == set(PUBLIC_PAGES) | set(MEMBER_PAGES), shown
    at = open_app(None)
    at.query_params["lang"] = "es"
    at.run()
    allowed = _people_text()
    problems = _walk(at, PUBLIC_PAGES, allowed, "visitor")
    # bad input on the sign-in page: a wrong member code, a wrong staff password, a wrong invitation code
    goto(at, "pages/signin.py")
    [box] = [t for t in at.text_input if str(t.label).startswith("Su código de acceso")]
    box.input("WRONG-CODE-1")
    button(at, "Abrir mis páginas").click()
    at.run()
    assert "No reconocemos ese código." in texts(at), texts(at)
    problems += [f"visitor with a wrong access code: {x}" for x in english_left(at, allowed)]
    [password] = [t for t in at.text_input if str(t.label) in ("Password", "Contraseña")]
    password.input("not-the-password")
    [staff] = [b for b in at.button if b.label in ("Sign in", "Entrar")]
    staff.click()
    at.run()
    assert "Esa contraseña no es correcta." in texts(at), texts(at)
    problems += [f"visitor with a wrong password: {x}" for x in english_left(at, allowed)]
    [invitation] = [t for t in at.text_input if "invitation" in str(t.label) or "invitación" in str(t.label)]
    invitation.input("ABCD-EFGH-JKLM-NPQR")
    [go] = [b for b in at.button if b.label in ("Continue", "Continuar")]
    go.click()
    at.run()
    assert "Ese código de invitación no sirve" in texts(at), texts(at)
    problems += [f"visitor with a wrong invitation code: {x}" for x in english_left(at, allowed)]
    # a member
    at = sign_in_member(at, code, "Abrir mis páginas")
    problems += _walk(at, MEMBER_PAGES, allowed, "member")
    # a question proposed with nothing written; the survey sent with questions unanswered
    goto(at, QUESTIONS)
    button(at, "Proponer esta pregunta").click()
    at.run()
    assert "Escriba su pregunta: el espacio está vacío." in texts(at), texts(at)
    problems += [f"member proposing nothing: {x}" for x in english_left(at, allowed)]
    goto(at, SURVEY)
    [radio for radio in at.radio if radio.key and radio.key.startswith("w")][0].set_value(4)
    button(at, "Enviar mis respuestas").click()
    at.run()
    assert "Enviar de todos modos" in everything(at) or "Send anyway" in everything(at), everything(at)
    problems += [f"member sending with questions unanswered: {x}" for x in english_left(at, allowed)]
    assert not problems, "English left in Spanish:\n" + "\n".join(problems)


def test_the_public_record_cells_and_the_members_printable_report_in_spanish(app_env, tmp_path_factory, monkeypatch):
    """The cells named in issue 15 (the record's "What happened" and "For", the two ways of drawing, the
    sessions' columns) and the printable results report a member downloads, in Spanish."""
    from lib.evaluation import report

    src, code = _story_file(tmp_path_factory.getbasetemp())
    _shutil.copyfile(src, app_env / "app.duckdb")
    made: list[str] = []
    plain = report.report_html
    monkeypatch.setattr(report, "report_html", lambda *a, **k: made.append(plain(*a, **k)) or made[-1])
    at = open_app(None)
    at.query_params["lang"] = "es"
    at.run()
    goto(at, TRANSPARENCY)
    [record] = [df.value for df in at.dataframe if "Qué pasó" in df.value.columns]
    assert record["Qué pasó"].tolist() == ["Compromiso publicado: sorteo 1",
                                           "Revelado con el número aleatorio público: sorteo 1"]
    assert record["Para"].tolist() == ["el sorteo", "el sorteo"]
    cells = {v for df in at.dataframe for c in df.value.columns for v in df.value[c].tolist() if isinstance(v, str)}
    assert {"Sorteo justo (este sorteo)", "Sorteo a la antigua (para comparar)"} <= cells
    headings = {c for df in at.dataframe for c in df.value.columns}
    assert any(h.startswith("Asistieron el ") for h in headings) and not any("Attending" in h for h in headings)
    at = goto(sign_in_member(at, code, "Abrir mis páginas"), RESULTS)
    assert made, "the results page made no printable report"
    page = made[-1]
    assert '<html lang="es">' in page
    for spanish in ("Resultados de la evaluación", "Las respuestas son anónimas", "Muy de acuerdo", "<th>Pregunta</th>",
                    "Respuestas", "Ustedes dijeron, nosotros hicimos", "Integridad del diseño del proceso",
                    "Nos explicaron con claridad el propósito"):
        assert spanish in page, spanish
    for english in ("Evaluation results", "Answers are anonymous", "Strongly agree", "<th>Question</th>",
                    "You said, we did", "Integrity of the process design"):
        assert english not in page, english


def _broken_page_in_spanish():
    import streamlit as st

    from pages.common import run_page

    st.session_state["lang"], st.session_state["_lang_from"] = "es", "chosen"

    def body():
        raise RuntimeError("a bug in the page")

    run_page(body)


def test_a_visitor_reading_spanish_is_told_of_a_broken_page_in_spanish(monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KLEROTERION_STRICT", "0")
    at = AppTest.from_function(_broken_page_in_spanish)
    try:
        at.run()
    except AssertionError:
        pass                      # the suite's guard looks for the English words only; the page is what matters here
    shown = [str(e.value) for e in at.error]
    assert any("Algo ha fallado por nuestra parte" in e for e in shown), shown
    assert not any("Something went wrong" in e for e in shown), shown
    assert not at.exception


def test_the_chance_chart_on_the_transparency_page_speaks_spanish(app_env, tmp_path_factory):
    # Its title, axes, legend and notes stayed English on the Spanish page (?lang=es).
    import json

    from tests.app_pages.drawn_demo import use_drawn_demo

    use_drawn_demo(app_env, tmp_path_factory)
    at = open_app(None)
    at.query_params["lang"] = "es"
    at.run()
    goto(at, TRANSPARENCY)
    [chart] = at.get("vega_lite_chart")
    words = json.dumps(json.loads(chart.proto.spec), ensure_ascii=False)   # the data is inline in the spec
    for english in ("Who gets a chance", "Chance of being picked", "lowest to highest chance",
                    "Look at the left end", "Dotted line", "Fair lottery (this draw)",
                    "Old-style draw (for comparison)", "Everyone equal"):
        assert english not in words, english
    assert gettext("es", "Fair lottery (this draw)") in words


def _story_with_a_closed_round(app_env, tmp_path_factory):
    """The story's database with its open endorsement round closed and counted: (database, a member's code)."""
    src, code = _story_file(tmp_path_factory.getbasetemp())
    _shutil.copyfile(src, app_env / "app.duckdb")
    d = database()
    [rnd] = [r for r in ev.rounds(d) if r.status == "open"]
    ev.close_round(d, rnd.round_id)
    return d, code


def test_the_decisions_of_a_closed_round_read_in_spanish(app_env, tmp_path_factory):
    # "Round 1, closed …: 2 endorsement(s) needed (50% of …)" and the table's headings stayed English.
    _d, code = _story_with_a_closed_round(app_env, tmp_path_factory)
    at = goto(sign_in_member(choose_language(open_app(None), "es"), code, "Abrir mis páginas"), QUESTIONS)
    assert_ok(at)
    page = texts(at)
    assert "Decisiones" in page or gettext("es", "Decisions") in page
    assert "endorsement(s)" not in page, page
    assert "Round " not in page, page
    [table] = [df.value for df in at.dataframe if len(df.value.columns) >= 3]
    assert not {"Question", "Endorsements", "Decision"} & set(table.columns), list(table.columns)
    assert not [v for v in table.iloc[:, -1].tolist() if v in ("Adopted", "Not adopted")]
    assert english_left(at, _people_text()) == []


def test_the_questions_to_object_to_are_offered_in_the_members_language(app_env, tmp_path_factory):
    # "Object to a decision" listed the decided questions as written, though an organiser had translated them.
    d, code = _story_with_a_closed_round(app_env, tmp_path_factory)
    qs = ev.questions_frame(d, "member")
    decided = qs[qs["status"].isin(["adopted", "not_adopted"])]
    assert not decided.empty
    for qid in decided["question_id"]:
        ev.set_translation(d, qid, "es", f"Pregunta traducida {qid}")
    at = goto(sign_in_member(choose_language(open_app(None), "es"), code, "Abrir mis páginas"), QUESTIONS)
    assert_ok(at)
    [box] = [s for s in at.selectbox if s.label == gettext("es", "Question")]
    assert sorted(box.options) == sorted(f"Pregunta traducida {q}" for q in decided["question_id"])


def test_after_the_draw_the_overview_counts_the_panel_not_sign_ups_to_fix(app_env, tmp_path_factory):
    # A visitor's Overview still showed "Sign-ups with a problem to fix" weeks after the panel was drawn.
    from lib.draws.records import current_panel

    src, _code = _story_file(tmp_path_factory.getbasetemp())
    _shutil.copyfile(src, app_env / "app.duckdb")
    panel = current_panel(database())
    assert panel
    at = open_app(None)
    assert_ok(at)
    metrics = {m.label: m.value for m in at.metric}
    assert "Sign-ups with a problem to fix" not in metrics
    assert metrics["On the panel"] == str(len(panel))
    es = choose_language(open_app(None), "es")
    assert {m.label: m.value for m in es.metric}[gettext("es", "On the panel")] == str(len(panel))
