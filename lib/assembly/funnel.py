"""The dropout funnel: how far each member got (selected, contacted, confirmed, attended, completed,
withdrawn), overall and by group, for the representativeness page.
"""

from __future__ import annotations

import pandas as pd

from lib.assembly.attendance import _CURRENT_MARKS
from lib.store.db import Database


def funnel_frame(db: Database) -> pd.DataFrame:
    """For the representativeness stages: one row per member, a column per status telling whether
    they ever reached it (confirmed includes anyone who later became active or completed)."""
    df = db.query_df("""
        SELECT person_id,
               bool_or(status = 'selected') AS selected,
               bool_or(status IN ('contacted', 'confirmed', 'active', 'completed')) AS contacted,
               bool_or(status IN ('confirmed', 'active', 'completed')) AS confirmed,
               bool_or(status IN ('active', 'completed')) AS active,
               bool_or(status = 'completed') AS completed,
               bool_or(status = 'withdrawn') AS withdrawn,
               bool_or(status = 'replaced') AS replaced
        FROM member_events GROUP BY person_id ORDER BY person_id""")
    return df


FUNNEL_STAGES = ("selected", "contacted", "confirmed", "attended", "completed", "withdrawn")


def funnel_by_group(db: Database) -> pd.DataFrame:
    """The dropout funnel by group, for the representativeness page: field, value, stage, count.

    Stages (each person counted in every stage they ever reached): selected (everyone enrolled),
    contacted, confirmed, attended (came to at least one session, present or late), completed,
    withdrawn. Values come from the sign-up answers (``person_values``)."""
    return db.query_df(f"""
        WITH f AS (
            SELECT person_id,
                   true AS selected,
                   bool_or(status IN ('contacted', 'confirmed', 'active', 'completed')) AS contacted,
                   bool_or(status IN ('confirmed', 'active', 'completed')) AS confirmed,
                   bool_or(status = 'completed') AS completed,
                   bool_or(status = 'withdrawn') AS withdrawn
            FROM member_events GROUP BY person_id),
        a AS (SELECT DISTINCT c.person_id FROM ({_CURRENT_MARKS}) c JOIN assembly_sessions s USING (session_id)
              WHERE c.mark IN ('present', 'late') AND s.cancelled_at IS NULL),
        long AS (
            UNPIVOT (SELECT f.*, a.person_id IS NOT NULL AS attended FROM f LEFT JOIN a USING (person_id))
            ON selected, contacted, confirmed, attended, completed, withdrawn INTO NAME stage VALUE reached)
        SELECT v.field, v.value, l.stage, count(*) FILTER (WHERE l.reached) AS count
        FROM long l JOIN person_values v USING (person_id)
        WHERE v.value IS NOT NULL
        GROUP BY v.field, v.value, l.stage
        ORDER BY v.field, v.value, list_position({list(FUNNEL_STAGES)}, l.stage)""")
