-- 003: the rules that turn a target version into quotas (panel size lives in target_versions),
-- and a plain summary of what changed from the version before. One row per target version;
-- a version without a row uses the defaults (no slack, a seat for any group whose fair
-- share is at least half a seat).
CREATE TABLE target_rules (
    version                 INTEGER PRIMARY KEY,
    slack                   INTEGER NOT NULL DEFAULT 0,
    small_group_threshold   DOUBLE NOT NULL DEFAULT 0.5,
    changes                 VARCHAR
);
