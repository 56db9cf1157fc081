-- 013: a check-in is recorded once per person and session.
--
-- attendance_log stays the append-only record of every change of mark. attendance_now holds
-- the current mark per (session, person), written in the same transaction as the log row.
-- Its primary key is what makes a check-in idempotent under load: two volunteers (or a double
-- tap, or a rerun replaying a click) saving the same person for the same session at the same
-- moment both try to insert the same key, so one of them fails, retries, finds the mark
-- already there and records nothing. No foreign keys.
CREATE TABLE attendance_now (
    session_id   INTEGER NOT NULL,
    person_id    VARCHAR NOT NULL,
    mark         VARCHAR NOT NULL,
    mark_id      BIGINT NOT NULL,         -- the attendance_log row that set it
    recorded_at  TIMESTAMPTZ NOT NULL,
    actor        VARCHAR,
    PRIMARY KEY (session_id, person_id)
);

INSERT INTO attendance_now (session_id, person_id, mark, mark_id, recorded_at, actor)
SELECT session_id, person_id, arg_max(mark, mark_id), max(mark_id), arg_max(recorded_at, mark_id),
       arg_max(actor, mark_id)
FROM attendance_log GROUP BY session_id, person_id;
