-- 001: settings, stratification fields, targets, the sign-up store and the sync log.
-- No foreign keys anywhere: DuckDB cannot update rows that a foreign key points at.

-- Normalised form of a category spelling: lower case, accents removed, only letters,
-- digits and '+' kept. "Non-binary", "non binary" and "NonBinary" all become "nonbinary".
CREATE OR REPLACE MACRO kl_norm(x) AS
    regexp_replace(lower(strip_accents(nfc_normalize(coalesce(x, '')))), '[^a-z0-9+]', '', 'g');

CREATE TABLE settings (
    key         VARCHAR PRIMARY KEY,
    value       VARCHAR NOT NULL,           -- JSON text
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    updated_by  VARCHAR
);

-- The stratification fields (e.g. age band) and the values each may take.
CREATE TABLE strat_fields (
    field       VARCHAR PRIMARY KEY,        -- short key, e.g. 'age'
    label       VARCHAR NOT NULL,           -- plain words, e.g. 'Age band'
    question    VARCHAR,                    -- the sign-up form's question, helps auto-mapping
    position    INTEGER NOT NULL
);

CREATE TABLE strat_values (
    field       VARCHAR NOT NULL,
    value       VARCHAR NOT NULL,           -- canonical value, e.g. '16-24'
    label       VARCHAR NOT NULL,
    position    INTEGER NOT NULL,
    aliases     VARCHAR[] NOT NULL DEFAULT [],   -- other spellings accepted in the sheet
    PRIMARY KEY (field, value)
);

-- Population targets (shares of the community), versioned; a version is frozen before a draw.
CREATE TABLE target_versions (
    version     INTEGER PRIMARY KEY,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    created_by  VARCHAR,
    note        VARCHAR,
    panel_size  INTEGER,
    frozen_at   TIMESTAMPTZ,
    frozen_by   VARCHAR
);

CREATE TABLE targets (
    version     INTEGER NOT NULL,
    field       VARCHAR NOT NULL,
    value       VARCHAR NOT NULL,
    share       DOUBLE NOT NULL,            -- 0..1
    source      VARCHAR,                    -- e.g. 'Census 2021, table TS007'
    PRIMARY KEY (version, field, value)
);

-- The pseudonymous sign-up record used everywhere. Rows are never deleted: a person who
-- disappears from the sheet gets removed_sync set, so past draws keep their record.
CREATE SEQUENCE person_seq START 1;
CREATE TABLE people (
    person_id       VARCHAR PRIMARY KEY,    -- pseudonym, e.g. 'P-0042'
    source_key      VARCHAR NOT NULL UNIQUE,-- identity of the sheet row
    row_number      INTEGER,                -- row in the sheet at the last sync (header = 1)
    row_hash        VARCHAR NOT NULL,       -- content hash, to detect changed rows
    household_key   VARCHAR,                -- salted hash of the normalised address
    eligible        BOOLEAN NOT NULL,       -- false while the row has a blocking problem
    first_sync      INTEGER NOT NULL,
    removed_sync    INTEGER,                -- not null: no longer in the sheet since that sync
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

CREATE TABLE person_values (
    person_id   VARCHAR NOT NULL,
    field       VARCHAR NOT NULL,
    raw         VARCHAR NOT NULL,           -- as typed in the sheet
    value       VARCHAR                     -- recognised canonical value, null if not recognised
    -- (person_id, field) is unique by construction; no index, so a 50,000-row sync stays fast
);

-- Personal data, kept apart. Only organisers' screens and exports ever read this table.
CREATE TABLE contacts (
    person_id   VARCHAR PRIMARY KEY,
    name        VARCHAR,
    email       VARCHAR,
    phone       VARCHAR,
    address     VARCHAR,
    postcode    VARCHAR
);

CREATE SEQUENCE sync_seq START 1;
CREATE TABLE sync_log (
    sync_id         INTEGER PRIMARY KEY,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    source_kind     VARCHAR NOT NULL,       -- 'google_sheet', 'csv', 'excel', 'published_csv', 'demo'
    source_label    VARCHAR,
    status          VARCHAR NOT NULL,       -- 'ok' or 'failed'
    rows_read       INTEGER,
    blank_rows      INTEGER,
    added           INTEGER,
    changed         INTEGER,
    removed         INTEGER,
    restored        INTEGER,
    unchanged       INTEGER,
    problems        INTEGER,
    blocking        INTEGER,
    message         VARCHAR,
    actor           VARCHAR
);

CREATE TABLE sync_changes (
    sync_id     INTEGER NOT NULL,
    person_id   VARCHAR NOT NULL,
    change      VARCHAR NOT NULL,           -- 'added', 'changed', 'removed', 'restored'
    row_number  INTEGER
);

-- Problems found by the latest successful sync (older ones are replaced).
CREATE TABLE problems (
    sync_id     INTEGER NOT NULL,
    row_number  INTEGER,
    person_id   VARCHAR,
    column_name VARCHAR,
    value       VARCHAR,                    -- never a contact detail
    kind        VARCHAR NOT NULL,
    blocking    BOOLEAN NOT NULL,
    message     VARCHAR NOT NULL
);
