-- 012: languages (lib/i18n.py, lib/evaluation/survey.py, docs/EVALUATION.md).
--
-- A survey question's wording in other languages. A translation belongs to one accepted wording
-- (question_id, version): a wave asks a frozen version, so a new wording never shows an old
-- translation; the member then sees the original wording with a plain note until an organiser
-- translates it. Answers are stored by question and answer number (eval_responses), never by text or
-- language, so answers given in every language count together.
CREATE TABLE eval_wording_translations (
    question_id   VARCHAR NOT NULL,
    version       INTEGER NOT NULL,
    lang          VARCHAR NOT NULL,          -- 'es', 'en', ... (lib.i18n.LANGUAGES)
    wording       VARCHAR NOT NULL,
    translated_by VARCHAR,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (question_id, version, lang)
);

-- A member's chosen language, kept with a hash of their member token (never their name, never with
-- their answers): their pages open in it on any device.
CREATE TABLE member_languages (
    token_hash VARCHAR PRIMARY KEY,
    lang       VARCHAR NOT NULL
);

-- The core questionnaire's translations are written with the core itself (lib.evaluation.survey.ensure_core, from
-- the catalogues in lib/locale), not here: a new database stays empty until the app or the demo fills it.
