-- 011: a group's own assembly, set up in the app (pages/setup.py, lib/recruitment/assembly_setup.py).

-- A blank answer to a question may count as one of its answers (e.g. 'Prefer not to say');
-- NULL: a blank answer is a problem to fix, as before.
ALTER TABLE strat_fields ADD COLUMN blank_value VARCHAR;

-- Seats per group given directly (an imported quota table, e.g. the Sortition Foundation's
-- categories.csv) instead of worked out from the community's shares. A target version with
-- rows here uses exactly these quotas; the shares in `targets` are then only the middle of
-- each band, for the charts. min_flex / max_flex are kept as the file gave them.
CREATE TABLE target_quotas (
    version     INTEGER NOT NULL,
    field       VARCHAR NOT NULL,
    value       VARCHAR NOT NULL,
    min_seats   INTEGER NOT NULL,
    max_seats   INTEGER NOT NULL,
    min_flex    INTEGER,
    max_flex    INTEGER,
    source      VARCHAR,                    -- the file it came from
    PRIMARY KEY (version, field, value)
);

-- The demo marker (lib/demo/load.py): a database created as the demo says so in `settings`. A
-- database that already held the demo before this migration gets the marker too.
INSERT INTO settings (key, value, updated_by)
SELECT 'demo_database', '{"since": "before migration 011"}', 'migration 011'
FROM settings
WHERE key = 'assembly' AND try_cast(json_extract(value, '$.demo') AS BOOLEAN) IS TRUE
ON CONFLICT (key) DO NOTHING;
