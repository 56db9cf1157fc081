-- 004: participation. Members' status timeline, sessions and attendance, support needs,
-- the contact log and stipend payments. Pseudonyms (person_id) only: names stay in contacts.
-- Every change is an appended row; nothing is overwritten. No foreign keys.

-- The status timeline: one row per change (selected, contacted, confirmed, active,
-- completed, withdrawn, replaced). The latest row per person is their status.
CREATE SEQUENCE member_event_seq START 1;
CREATE TABLE member_events (
    event_id     BIGINT PRIMARY KEY DEFAULT nextval('member_event_seq'),
    person_id    VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL,
    actor        VARCHAR,
    reason       VARCHAR,              -- why (required for 'withdrawn')
    draw_id      INTEGER,              -- the draw that selected them ('selected' rows)
    replaces     VARCHAR,              -- 'selected' rows of a replacement: whom they replace
    replaced_by  VARCHAR               -- 'replaced' rows: who replaced them
);

-- Current status per member: a projection of member_events, updated in the same
-- transaction as each appended event, so that two people changing the same member at
-- once conflict (and one retries against the new status) instead of both succeeding.
CREATE TABLE members (
    person_id    VARCHAR PRIMARY KEY,
    status       VARCHAR NOT NULL,
    since        TIMESTAMPTZ NOT NULL,
    enrolled_at  TIMESTAMPTZ NOT NULL,
    draw_id      INTEGER,
    replaces     VARCHAR,
    replaced_by  VARCHAR,
    last_event   BIGINT NOT NULL
);

CREATE SEQUENCE session_seq START 1;
CREATE TABLE assembly_sessions (
    session_id   INTEGER PRIMARY KEY DEFAULT nextval('session_seq'),
    title        VARCHAR NOT NULL,
    starts_at    TIMESTAMP NOT NULL,   -- local wall-clock time of the venue
    place        VARCHAR,
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   VARCHAR,
    cancelled_at TIMESTAMPTZ,
    cancelled_by VARCHAR
);

-- Attendance marks, append-only: the latest row per (session, person) is the mark.
-- Two volunteers saving at once both get a row; the later one wins, nothing is lost.
CREATE SEQUENCE attendance_seq START 1;
CREATE TABLE attendance_log (
    mark_id      BIGINT PRIMARY KEY DEFAULT nextval('attendance_seq'),
    session_id   INTEGER NOT NULL,
    person_id    VARCHAR NOT NULL,
    mark         VARCHAR NOT NULL,     -- present, late, excused, absent
    recorded_at  TIMESTAMPTZ NOT NULL,
    actor        VARCHAR,
    source       VARCHAR NOT NULL      -- 'door' (check-in), 'sheet' (typed in from paper), 'organiser'
);

-- Support needs, append-only: 'raised', 'resolved' or 'reopened' per (person, need).
CREATE SEQUENCE support_seq START 1;
CREATE TABLE support_events (
    event_id     BIGINT PRIMARY KEY DEFAULT nextval('support_seq'),
    person_id    VARCHAR NOT NULL,
    need         VARCHAR NOT NULL,     -- childcare, travel, access, language, technology
    action       VARCHAR NOT NULL,
    note         VARCHAR,
    recorded_at  TIMESTAMPTZ NOT NULL,
    actor        VARCHAR
);

CREATE SEQUENCE contact_seq START 1;
CREATE TABLE contact_log (
    contact_id   BIGINT PRIMARY KEY DEFAULT nextval('contact_seq'),
    person_id    VARCHAR NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL,
    actor        VARCHAR,
    channel      VARCHAR NOT NULL,     -- phone, text, email, letter, in person
    outcome      VARCHAR NOT NULL,     -- no answer, left a message, sent, they replied, spoke with them
    note         VARCHAR
);

CREATE SEQUENCE payment_seq START 1;
CREATE TABLE stipend_payments (
    payment_id   BIGINT PRIMARY KEY DEFAULT nextval('payment_seq'),
    person_id    VARCHAR NOT NULL,
    amount       DECIMAL(12, 2) NOT NULL,
    paid_at      TIMESTAMPTZ NOT NULL,
    actor        VARCHAR,
    method       VARCHAR,
    note         VARCHAR
);
