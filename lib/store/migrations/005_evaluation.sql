-- 005: member-designed evaluation (lib/evaluation/survey.py).
--
-- Anonymity by design: WHO has answered a survey wave (eval_answered) is kept apart from
-- WHAT was answered (eval_responses). The two share no key, no time stamp and no order:
--   * eval_answered holds ONE row per wave with a SORTED list of hashes, so it keeps no
--     insertion order and no time;
--   * eval_responses rows carry a random response id, the wave, the channel and the answer,
--     never a time, a member token or the order in which questions were shown.
-- Endorsements (eval_endorsements) work the same way, with voters in eval_round_voters.
-- No foreign keys (DuckDB cannot update rows that a foreign key points at).

CREATE SEQUENCE eval_log_seq START 1;
CREATE SEQUENCE eval_round_seq START 1;
CREATE SEQUENCE eval_wave_seq START 1;
CREATE SEQUENCE eval_member_q_seq START 1;
CREATE SEQUENCE eval_said_seq START 1;

-- Personal access codes. Only a hash of the code is kept, so reading the database does not
-- let anyone sign in as a member. The member token stays the same when a lost card is
-- replaced, so a member still answers each wave once.
CREATE TABLE eval_access_codes (
    code_hash   VARCHAR PRIMARY KEY,        -- SHA-256 of the normalised code
    person_id   VARCHAR NOT NULL,
    token       VARCHAR NOT NULL,           -- the member's opaque token (random, per person)
    issued_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    issued_by   VARCHAR,
    revoked_at  TIMESTAMPTZ
);

-- Questions: the fixed core (kind 'core') and members' own questions (kind 'member').
CREATE TABLE eval_questions (
    question_id   VARCHAR PRIMARY KEY,      -- 'D1', 'E3', 'I2' (core) or 'M1', 'M2' (members)
    kind          VARCHAR NOT NULL,         -- 'core' | 'member'
    stage         VARCHAR,                  -- core: 'design' | 'deliberation' | 'impact'
    position      INTEGER NOT NULL,
    waves         VARCHAR[] NOT NULL DEFAULT [],  -- core: the wave kinds it belongs to
    purpose       VARCHAR,                  -- what we want to learn from it
    proposer_hash VARCHAR,                  -- members' questions: hash of the proposer's token
    status        VARCHAR NOT NULL,         -- core | ready | awaiting_proposer | in_round | adopted | not_adopted
    round_id      INTEGER,                  -- the round it is in, or was last decided in
    created_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

-- Every wording a question ever had (nothing is overwritten).
CREATE TABLE eval_wordings (
    question_id VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    wording     VARCHAR NOT NULL,
    author      VARCHAR NOT NULL,           -- 'proposer' | 'volunteer' | 'organiser' | 'core'
    state       VARCHAR NOT NULL,           -- 'accepted' | 'suggested' | 'declined'
    created_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    decided_at  TIMESTAMPTZ,
    PRIMARY KEY (question_id, version)
);

-- Endorsement rounds for members' questions.
CREATE TABLE eval_rounds (
    round_id     INTEGER PRIMARY KEY,
    opened_at    TIMESTAMPTZ NOT NULL,
    closes_at    TIMESTAMPTZ NOT NULL,
    opened_by    VARCHAR,
    order_salt   VARCHAR NOT NULL,          -- public: each member's order of the options
    lot_seed     VARCHAR NOT NULL,          -- public, fixed before any endorsement: breaks ties
    share        DOUBLE NOT NULL,           -- agreed share of the base needed to adopt
    max_adopted  INTEGER NOT NULL,          -- limit on members' questions in the survey
    status       VARCHAR NOT NULL,          -- 'open' | 'closed'
    closed_at    TIMESTAMPTZ,
    closed_by    VARCHAR,
    base         INTEGER,                   -- the number the share is taken of
    base_source  VARCHAR,                   -- plain words: where the base came from
    needed       INTEGER                    -- endorsements needed to be adopted
);

CREATE TABLE eval_round_questions (
    round_id     INTEGER NOT NULL,
    question_id  VARCHAR NOT NULL,
    version      INTEGER NOT NULL,          -- the wording members endorsed
    endorsements INTEGER,                   -- filled in when the round closes
    lot_key      VARCHAR,                   -- SHA-256(lot_seed | question_id), when closed
    by_lot       BOOLEAN,                   -- the lot decided this question's fate
    outcome      VARCHAR,                   -- 'adopted' | 'not_enough' | 'no_room'
    PRIMARY KEY (round_id, question_id)
);

-- Who has endorsed in a round: one row per round, a sorted list of hashes (no order, no time).
CREATE TABLE eval_round_voters (
    round_id  INTEGER PRIMARY KEY,
    voters    VARCHAR[] NOT NULL DEFAULT []
);

-- What was endorsed: no voter, no time.
CREATE TABLE eval_endorsements (
    round_id    INTEGER NOT NULL,
    question_id VARCHAR NOT NULL
);

CREATE TABLE eval_objections (
    round_id    INTEGER,
    question_id VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

-- Survey waves.
CREATE TABLE eval_waves (
    wave_id             INTEGER PRIMARY KEY,
    kind                VARCHAR NOT NULL,   -- baseline | pulse | end | followup3 | followup12
    label               VARCHAR NOT NULL,
    status              VARCHAR NOT NULL,   -- 'open' | 'closed'
    opened_at           TIMESTAMPTZ NOT NULL,
    opened_by           VARCHAR,
    closed_at           TIMESTAMPTZ,
    members_first_until TIMESTAMPTZ,        -- members see the results alone until then
    published_at        TIMESTAMPTZ,
    published_by        VARCHAR
);

CREATE TABLE eval_wave_questions (
    wave_id     INTEGER NOT NULL,
    question_id VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    PRIMARY KEY (wave_id, question_id)
);

-- Who has answered a wave: one row per wave, a sorted list of hashes (no order, no time, no channel).
CREATE TABLE eval_answered (
    wave_id  INTEGER PRIMARY KEY,
    hashes   VARCHAR[] NOT NULL DEFAULT []
);

-- What was answered: a random response id, never a member token, time or display order.
-- answer: 1 strongly disagree … 5 strongly agree, 0 prefer not to say.
CREATE TABLE eval_responses (
    response_id VARCHAR NOT NULL,
    wave_id     INTEGER NOT NULL,
    channel     VARCHAR NOT NULL,           -- 'online' | 'paper'
    question_id VARCHAR NOT NULL,
    answer      TINYINT NOT NULL
);

-- "You said, we did".
CREATE TABLE eval_you_said (
    entry_id    INTEGER PRIMARY KEY,
    wave_id     INTEGER,
    question_id VARCHAR,
    you_said    VARCHAR NOT NULL,
    we_did      VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    created_by  VARCHAR
);

-- Everything that happens, in plain words. Never a member's identity, never a ballot or an answer.
CREATE TABLE eval_log (
    event_id    INTEGER PRIMARY KEY,
    logged_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    actor       VARCHAR NOT NULL,
    event       VARCHAR NOT NULL,
    question_id VARCHAR,
    round_id    INTEGER,
    wave_id     INTEGER,
    detail      VARCHAR
);
