"""Help with wording: volunteers (and organisers) suggest clearer wording for members' questions.
The member who proposed the question decides whether to use it; both versions are kept."""

from __future__ import annotations

import streamlit as st

from lib.access.auth import ORGANISER
from lib import evaluation as ev
from lib.plaintext import md
from pages.common import act, db, require, run_page, show_flashes
from pages.eval_common import actor, question_status


def translations_section() -> None:
    """Organisers: each question's wording in the other languages members read (migration 012). Members see
    a question in their language; without a translation, the wording as written, with a plain note."""
    from lib.i18n import LANGUAGES

    st.subheader("Translations")
    st.markdown(
        "Members choose their language (English / Español). Give each question its wording in the other "
        "languages; without one, members see the question as it was written, with a note that it is not "
        "translated yet. A translation belongs to one wording: a new wording needs a new translation. "
        "Answers count together whatever the language."
    )
    qs = ev.questions_frame(db())
    qs = qs[(qs["kind"] == "core") | (qs["check_state"] != "declined")]
    if qs.empty:
        return
    langs = list(LANGUAGES)
    missing = [
        (q.question_id, lang)
        for q in qs.itertuples()
        for lang in langs
        if lang != "en" and ev.translation_of(db(), q.question_id, lang) is None
    ]
    if missing:
        st.caption("Not translated yet: " + ", ".join(f"{md(q)} ({LANGUAGES[lang]})" for q, lang in missing))
    else:
        st.caption("Every question has its translations.")
    if st.session_state.pop("_translation_saved", False):
        st.session_state.pop("translate_text", None)  # saved: start the next one empty (an error keeps it)
    with st.form("translate"):
        by_id = qs.set_index("question_id")
        qid = st.selectbox(
            "Question",
            qs["question_id"].tolist(),
            key="translate_question",
            format_func=lambda i: f"{i}: {by_id.loc[i, 'wording']}",
        )
        lang = st.selectbox(
            "Language",
            [c for c in langs if c != "en"] + ["en"],
            format_func=LANGUAGES.get,
            key="translate_lang",
            help="English too, for a question a member wrote in another language.",
        )
        text = st.text_area("The question in that language", max_chars=ev.MAX_TEXT, key="translate_text")
        ok = st.form_submit_button("Save the translation", type="primary")
    if ok:
        act(
            lambda: ev.set_translation(db(), qid, lang, text, actor=actor("organiser")),
            lambda version: f"Translation saved: {qid} (wording {version}) in {LANGUAGES[lang]}.",
            before_rerun=lambda _v: st.session_state.update(_translation_saved=True),
        )


def body() -> None:
    st.title("Help with wording")
    show_flashes()
    if not require("question_wording", "This page is for organisers and volunteers only. Sign in first."):
        return
    st.markdown(
        "Members propose their own survey questions. If a question could be clearer (shorter words, one "
        "idea at a time, something people can agree or disagree with), suggest new wording. The member "
        "who proposed it chooses whether to use it."
    )
    if st.session_state.get("role") == ORGANISER:
        translations_section()
    qs = ev.questions_frame(db(), "member")
    if qs.empty:
        st.info("No member has proposed a question yet.")
        return
    for q in qs.itertuples():
        with st.container(border=True):
            st.markdown(f"**{q.question_id}.** {md(q.wording)}")
            st.caption(f"What they want to learn: {md(q.purpose)} · {question_status(q)}")
            if isinstance(q.suggestion, str):
                st.caption(f"Suggested wording waiting: “{md(q.suggestion)}”")
    can = qs[qs["status"].isin(["ready", "not_adopted"]) & (qs["check_state"] != "declined")]
    if can.empty:
        st.caption(
            "No question can take a suggestion right now (they are being endorsed, adopted, or already "
            "have a suggestion waiting)."
        )
        return
    with st.form("suggest", clear_on_submit=True):
        qid = st.selectbox(
            "Question",
            can["question_id"].tolist(),
            format_func=lambda i: f"{i}: {can.set_index('question_id').loc[i, 'wording']}",
        )
        text = st.text_area("Clearer wording", max_chars=ev.MAX_TEXT)
        ok = st.form_submit_button("Suggest this wording", type="primary")
    if ok:
        act(
            lambda: ev.suggest_wording(db(), qid, text, actor=actor("volunteer")),
            f"Suggestion sent. The member who proposed {qid} will see it on their page.",
        )


run_page(body)
