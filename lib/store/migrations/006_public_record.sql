-- 006: the public record of the draw (lib/sortition/audit/record.py): every commitment, withdrawal
-- and reveal, in a hash chain. Append-only: rows are never changed or deleted.
-- A draw whose commitment was replaced before any reveal gets draws.status = 'withdrawn'.
CREATE TABLE draw_events (
    seq             INTEGER PRIMARY KEY,        -- 1, 2, 3 … with none missing
    at_utc          VARCHAR NOT NULL,           -- UTC, YYYY-MM-DDTHH:MM:SSZ (as hashed)
    kind            VARCHAR NOT NULL,           -- 'commitment' | 'withdrawal' | 'reveal'
    slot            VARCHAR NOT NULL,           -- 'draw' | 'replacement:<parent draw_id>'
    draw_id         INTEGER NOT NULL,
    commitment      VARCHAR NOT NULL,
    public_number   VARCHAR NOT NULL DEFAULT '',
    reason          VARCHAR NOT NULL DEFAULT '',
    prev_hash       VARCHAR NOT NULL,
    hash            VARCHAR NOT NULL,
    actor           VARCHAR                     -- who did it (organisers' record; not in the public file)
);
