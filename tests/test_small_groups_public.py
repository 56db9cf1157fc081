"""Issue 13, point 2/4: a quota published beside "fewer than 5" must not give the exact count away.

The quotas are public (the transparency report lists them, and anybody can work them out from the
published targets), so the public tables must never show "fewer than 5" where the quota leaves only
one possible count between 1 and 4: e.g. a group with a quota of 4–5 seats whose panel count is
shown as "fewer than 5" must hold exactly 4. Checked on a skewed pool like real recruitment gives,
and on the demo with its real draw.
"""

from __future__ import annotations

import re

import pandas as pd

from lib.recruitment.categories import Field
from lib.recruitment.quotas import QuotaRow
from lib.reporting.representativeness import comparison, public_table, stage_from_counts

SMALL = 5


def possible_counts(stage: str, q: QuotaRow | None) -> set[int]:
    """Counts 1–4 consistent with the published quota at this stage (the panel meets its quota; the
    pool holds at least the minimum; later stages are part of the panel)."""
    if q is None:
        return set(range(1, SMALL))
    if stage == "selected":
        lo, hi = q.min, q.max
    elif stage in ("signups", "eligible"):
        lo, hi = q.min, 10**9
    else:   # confirmed, attending, completed: part of the panel
        lo, hi = 0, q.max
    return {n for n in range(1, SMALL) if lo <= n <= hi}


STAGE_OF = {"Signed up": "signups", "Ready for the draw": "eligible", "Selected": "selected",
            "Confirmed": "confirmed", "Completed": "completed"}


def pinned_cells(comp: pd.DataFrame, fields: list[Field], quotas: list[QuotaRow]) -> list[str]:
    """Cells shown as "fewer than 5" although the quota leaves one possible count; and exact counts 1–4."""
    by = {(q.field, q.value): q for q in quotas}
    out = []
    for f in fields:
        table = public_table(comp[comp["field"] == f.key])
        for _, row in table.iterrows():
            value = next(v for v in f.values if f.value_labels.get(v, v) == row["Group"])
            for col, text in row.items():
                stage = STAGE_OF.get(col) or ("attending" if str(col).startswith("Attending") else None)
                if stage is None:
                    continue
                if text == "fewer than 5" and len(possible_counts(stage, by.get((f.key, value)))) < 2:
                    out.append(f"{f.key}={value} {col}: 'fewer than 5' with quota "
                               f"{by[(f.key, value)].min}-{by[(f.key, value)].max} gives the exact count")
                m = re.search(r"\((\d+)\)$", str(text))
                if m and 0 < int(m.group(1)) < SMALL:
                    out.append(f"{f.key}={value} {col}: exact count {m.group(1)}")
    return out


def skewed():
    fields = [Field("disability", "Disability", values=["yes", "no"]),
              Field("age", "Age", values=["16-24", "25-44", "45-64", "65+"]),
              Field("ethnicity", "Ethnicity", values=["a", "b", "c"])]
    quotas = [QuotaRow("disability", "yes", 0.15, 4.5, 4, 5), QuotaRow("disability", "no", 0.85, 25.5, 25, 26),
              QuotaRow("age", "16-24", 0.12, 3.6, 3, 4), QuotaRow("age", "25-44", 0.3, 9, 9, 9),
              QuotaRow("age", "45-64", 0.3, 9, 9, 9), QuotaRow("age", "65+", 0.28, 8.4, 8, 9),
              QuotaRow("ethnicity", "a", 0.9, 27, 27, 28), QuotaRow("ethnicity", "b", 0.03, 0.9, 1, 1),
              QuotaRow("ethnicity", "c", 0.07, 2.1, 2, 3)]
    stages = {
        # recruitment gives few disabled people (exactly the minimum, 4) and few young people
        "signups": stage_from_counts({("disability", "yes"): 4, ("disability", "no"): 296, ("age", "16-24"): 6,
                                      ("age", "25-44"): 60, ("age", "45-64"): 110, ("age", "65+"): 124,
                                      ("ethnicity", "a"): 290, ("ethnicity", "b"): 3, ("ethnicity", "c"): 7}, fields),
        "eligible": stage_from_counts({("disability", "yes"): 4, ("disability", "no"): 290, ("age", "16-24"): 6,
                                       ("age", "25-44"): 58, ("age", "45-64"): 108, ("age", "65+"): 122,
                                       ("ethnicity", "a"): 285, ("ethnicity", "b"): 2, ("ethnicity", "c"): 7}, fields),
        "selected": stage_from_counts({("disability", "yes"): 4, ("disability", "no"): 26, ("age", "16-24"): 4,
                                       ("age", "25-44"): 9, ("age", "45-64"): 9, ("age", "65+"): 8,
                                       ("ethnicity", "a"): 27, ("ethnicity", "b"): 1, ("ethnicity", "c"): 2}, fields),
        "confirmed": stage_from_counts({("disability", "yes"): 3, ("disability", "no"): 25, ("age", "16-24"): 3,
                                        ("age", "25-44"): 9, ("age", "45-64"): 8, ("age", "65+"): 8,
                                        ("ethnicity", "a"): 26, ("ethnicity", "b"): 1, ("ethnicity", "c"): 1}, fields),
    }
    return fields, quotas, stages


def test_quotas_cannot_pin_a_fewer_than_5_count_on_a_skewed_pool():
    fields, quotas, stages = skewed()
    comp = comparison(stages, fields, quotas=quotas, panel_size=30)
    assert pinned_cells(comp, fields, quotas) == []
    # the groups whose count would have been pinned are simply not shown, whatever their count
    table = public_table(comp[comp["field"] == "disability"]).set_index("Group")
    assert table.loc["yes", "Ready for the draw"] == "not shown"
    assert table.loc["yes", "Selected"] == "not shown"
    ethnicity = public_table(comp[comp["field"] == "ethnicity"]).set_index("Group")
    assert ethnicity.loc["b", "Selected"] == "not shown" and ethnicity.loc["b", "Confirmed"] == "not shown"
    # and nothing hidden can be worked out by subtracting the others from the total
    for f in fields:
        t = public_table(comp[comp["field"] == f.key])
        for col in [c for c in t.columns if c in STAGE_OF]:
            hidden = [x for x in t[col] if x in ("fewer than 5", "not shown")]
            assert len(hidden) != 1, (f.key, col)


def test_organisers_still_see_every_count():
    fields, quotas, stages = skewed()
    comp = comparison(stages, fields, quotas=quotas, panel_size=30)
    table = public_table(comp[comp["field"] == "disability"], organiser=True).set_index("Group")
    assert table.loc["yes", "Selected"].endswith("(4)")


def test_quotas_cannot_pin_a_count_on_the_demo_after_its_draw(app_env, tmp_path_factory):
    from lib.recruitment.categories import load_fields
    from lib.resources import get_db
    from lib.reporting.transparency import gather
    from tests.app_pages.drawn_demo import use_drawn_demo

    use_drawn_demo(app_env, tmp_path_factory)
    data = gather(get_db())
    assert data.quotas and "selected" in set(data.comp["stage"])
    assert pinned_cells(data.comp, load_fields(get_db()), data.quotas) == []
