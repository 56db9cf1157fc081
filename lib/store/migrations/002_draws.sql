-- 002: the draw ceremony's records (lib/draws/records.py) and the background computations behind them.
-- No foreign keys (DuckDB cannot update rows that a foreign key points at).

-- One row per prepared lottery: a main draw or a replacement round.
-- status: 'computed' (lottery ready, nothing published) -> 'committed' (commitment published)
--         -> 'revealed' (public number entered, panel chosen). Rows are never deleted.
CREATE SEQUENCE draw_seq START 1;
CREATE TABLE draws (
    draw_id         INTEGER PRIMARY KEY,
    kind            VARCHAR NOT NULL,           -- 'draw' | 'replacement'
    status          VARCHAR NOT NULL,           -- 'computed' | 'committed' | 'revealed'
    created_at      TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    created_by      VARCHAR,
    target_version  INTEGER,                    -- the frozen target version the quotas come from
    panel_size      INTEGER NOT NULL,           -- seats this lottery fills
    algorithm       VARCHAR NOT NULL,
    inputs_hash     VARCHAR NOT NULL,           -- SHA-256 of the frozen inputs: equal hash = same inputs
    options_hash    VARCHAR NOT NULL,           -- inputs + relaxation + M: equal hash = same lottery
    m               INTEGER NOT NULL,           -- number of listed panels
    pool_size       INTEGER NOT NULL,
    lottery         BLOB NOT NULL,              -- canonical frozen lottery (kleroterion-lottery-v1)
    probabilities   VARCHAR NOT NULL,           -- JSON {id: appearances / M}
    exact_probabilities VARCHAR,                -- JSON {id: exact LEXIMIN probability}
    legacy_probabilities VARCHAR,               -- JSON {id: estimate} or NULL
    legacy_draws    INTEGER,
    legacy_note     VARCHAR,
    min_probability DOUBLE,
    gini            DOUBLE,
    rounding_loss   DOUBLE,
    gap             DOUBLE,
    complete        BOOLEAN,
    seconds         DOUBLE,
    quotas          VARCHAR NOT NULL,           -- JSON [[field, value, min, max]] as frozen (before relaxation)
    relaxation      VARCHAR NOT NULL,           -- JSON list of accepted quota changes
    diagnosis       VARCHAR NOT NULL,           -- JSON list of sentences (why the quotas were relaxed)
    committed_at    TIMESTAMPTZ,
    committed_by    VARCHAR,
    commitment      VARCHAR,
    revealed_at     TIMESTAMPTZ,
    revealed_by     VARCHAR,
    public_number   VARCHAR,
    draw_hash       VARCHAR,
    panel_index     INTEGER,
    selected_ids    VARCHAR[] NOT NULL DEFAULT [],
    reserve_ids     VARCHAR[] NOT NULL DEFAULT [],
    panel_after     VARCHAR[] NOT NULL DEFAULT [],  -- the whole panel once this draw is revealed
    bundle          BLOB,
    rerun_of        INTEGER,
    replaces        VARCHAR[] NOT NULL DEFAULT [],  -- replacement: the dropouts
    excluded        VARCHAR[] NOT NULL DEFAULT [],  -- replacement: kept out of the reserve pool
    round           INTEGER NOT NULL DEFAULT 0,     -- 0 for a draw, 1, 2, ... for replacement rounds
    parent_id       INTEGER,                        -- replacement: the draw (or round) it continues
    root_id         INTEGER,                        -- replacement: the original draw
    note            VARCHAR
);

-- Long computations run in the background; their progress is kept here so that a page
-- reload (or another organiser) sees it.
CREATE SEQUENCE draw_job_seq START 1;
CREATE TABLE draw_jobs (
    job_id          INTEGER PRIMARY KEY,
    kind            VARCHAR NOT NULL,           -- 'draw' | 'replacement'
    status          VARCHAR NOT NULL,           -- 'running' | 'done' | 'failed'
    started_at      TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    finished_at     TIMESTAMPTZ,
    started_by      VARCHAR,
    progress        DOUBLE NOT NULL DEFAULT 0,
    message         VARCHAR,
    error           VARCHAR,
    draw_id         INTEGER
);

-- Where the selected panel and reserve list were written (Google Sheet worksheets, CSV).
CREATE TABLE draw_exports (
    draw_id         INTEGER NOT NULL,
    exported_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    exported_by     VARCHAR,
    target          VARCHAR NOT NULL,           -- e.g. 'google_sheet'
    detail          VARCHAR
);
