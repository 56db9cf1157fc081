"""Languages on the member and public pages (lib/i18n.py, pages/language.py), through AppTest on app.py."""

from __future__ import annotations

from lib.evaluation import survey as ev
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
