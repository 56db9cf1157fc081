"""The selected panel and the reserve list as tables (pseudonym, sheet row, answers), with names and
contacts only when an organiser asks for them (the exports)."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from lib.draws.records import DrawRecord
from lib.store.db import Database


def people_frame(
    db: Database, ids: Sequence[str], *, with_contacts: bool = False, order: str = "given"
) -> pd.DataFrame:
    """Pseudonym, sheet row and answers of ``ids`` (in the given order); names and contacts only on request."""
    from lib.recruitment.categories import load_fields

    ids = list(ids)
    fields = load_fields(db)
    if not ids:
        cols = (
            ["Pseudonym", "Sheet row"]
            + (["Name", "Email", "Phone"] if with_contacts else [])
            + [f.label for f in fields]
        )
        return pd.DataFrame(columns=cols)
    answers = ", ".join(f'max(v.value) FILTER (WHERE v.field = ?) AS "f{i}"' for i in range(len(fields)))
    df = db.query_df(
        f"""
        SELECT p.person_id, p.row_number, c.name, c.email, c.phone{", " + answers if answers else ""}
        FROM people p LEFT JOIN contacts c USING (person_id) LEFT JOIN person_values v USING (person_id)
        WHERE list_contains(?, p.person_id)
        GROUP BY ALL""",
        [f.key for f in fields] + [ids],
    )
    pos = {pid: i for i, pid in enumerate(ids)}
    df = df.assign(_pos=df["person_id"].map(pos)).sort_values("_pos")
    out = pd.DataFrame({"Pseudonym": df["person_id"].values, "Sheet row": df["row_number"].astype("Int64").values})
    if with_contacts:
        out["Name"] = df["name"].values
        out["Email"] = df["email"].values
        out["Phone"] = df["phone"].values
    for i, f in enumerate(fields):
        out[f.label] = df[f"f{i}"].values
    return out.reset_index(drop=True)


def selected_frame(db: Database, rec: DrawRecord, *, with_contacts: bool = False) -> pd.DataFrame:
    df = people_frame(db, rec.selected_ids, with_contacts=with_contacts)
    if rec.kind == "replacement" and rec.replaces:
        df.insert(1, "Replaces", (list(rec.replaces) + [""] * len(df))[: len(df)])
    return df


def reserve_frame(db: Database, rec: DrawRecord, *, with_contacts: bool = False) -> pd.DataFrame:
    df = people_frame(db, rec.reserve_ids, with_contacts=with_contacts)
    df.insert(0, "Reserve rank", range(1, len(df) + 1))
    return df
