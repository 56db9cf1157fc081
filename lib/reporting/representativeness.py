"""How representative is the assembly at each stage, compared with the community?

Stages (docs/INTERFACES.md): ``population`` (the targets), ``signups``, ``eligible``,
``selected``, ``confirmed``, ``attending:<session>``, ``completed``. Each stage is a frame
of (field, value, count, share), where share is the count over the stage's total for that
field (people whose answer is missing are left out of that field).

Measures, per value, against the community's share (the target):
- deviation in percentage points: ``(share − target) × 100``;
- representation ratio: ``share / target`` (1 = exactly as in the community, 0.5 = half
  as many as there should be); undefined when the target is 0;
and per field, the total variation distance ``TVD = ½ Σ |share − target|`` over the values:
the smallest fraction of the stage that would have to be swapped for other people to
look exactly like the community (0 = identical, 1 = nothing in common).

The pure functions take plain data; the ``*_stage``/``collect_stages`` helpers read the
store and the draw/participation modules (when they exist).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import pandas as pd

from lib import assembly
from lib.draws import records as draws
from lib.recruitment.categories import Field

STAGE_COLUMNS = ["field", "value", "count", "share"]
BASE_STAGES = ["population", "signups", "eligible", "selected", "confirmed", "completed"]
STAGE_LABELS = {
    "population": "Community (target)",
    "signups": "Signed up",
    "eligible": "Ready for the draw",
    "selected": "Selected",
    "confirmed": "Confirmed",
    "completed": "Completed",
}
ATTENDING_MARKS = ("present", "late", "late/partial", "partial")


def stage_label(stage: str) -> str:
    if stage.startswith("attending:"):
        return f"Attending {stage.split(':', 1)[1]}"
    return STAGE_LABELS.get(stage, stage)


# --- pure measures ---------------------------------------------------------------------------


def deviation_pp(share: float, target: float) -> float:
    """Percentage points above (+) or below (−) the community's share."""
    return (share - target) * 100.0


def representation_ratio(share: float, target: float) -> float | None:
    """share / target; None when the target is 0 (no meaningful ratio)."""
    if target is None or target <= 0:
        return None
    return share / target


def tvd(shares: Mapping[str, float], target: Mapping[str, float]) -> float:
    """Total variation distance ½ Σ |p − q| over the union of values (missing = 0)."""
    keys = set(shares) | set(target)
    return 0.5 * sum(abs(float(shares.get(k, 0.0)) - float(target.get(k, 0.0))) for k in keys)


def stage_from_counts(counts: Mapping[tuple[str, str], int], fields: Sequence[Field]) -> pd.DataFrame:
    """A stage frame from {(field, value): count}, with every known value (0 when absent)."""
    rows = []
    for f in fields:
        total = sum(int(counts.get((f.key, v), 0)) for v in f.values)
        for v in f.values:
            n = int(counts.get((f.key, v), 0))
            rows.append((f.key, v, n, n / total if total else 0.0))
    return pd.DataFrame(rows, columns=STAGE_COLUMNS)


def population_stage(targets: Iterable, fields: Sequence[Field]) -> pd.DataFrame:
    """The targets as a stage (count is missing: the community is not counted in people)."""
    shares = {(t.field, t.value): float(t.share) for t in targets}
    rows = []
    for f in fields:
        for v in f.values:
            if (f.key, v) in shares:
                rows.append((f.key, v, math.nan, shares[(f.key, v)]))
    return pd.DataFrame(rows, columns=STAGE_COLUMNS)


def comparison(
    stages: Mapping[str, pd.DataFrame], fields: Sequence[Field], *, quotas: Iterable = (), panel_size: int | None = None
) -> pd.DataFrame:
    """One row per (field, value, stage) with share, target, deviation, ratio and the quota band.

    Columns: field, field_label, value, value_label, position, stage, stage_label, count, share,
    target, deviation_pp, ratio, band_min, band_max (the quota band as shares of the panel).
    """
    pop = stages.get("population")
    target = {} if pop is None else {(r.field, r.value): r.share for r in pop.itertuples()}
    band = {}
    quotas = list(quotas)
    seats = {(q.field, q.value): (q.min, q.max) for q in quotas}
    if panel_size:
        band = {(q.field, q.value): (q.min / panel_size, q.max / panel_size) for q in quotas}
    labels = {f.key: f.label for f in fields}
    vlabels = {(f.key, v): f.value_labels.get(v, v) for f in fields for v in f.values}
    pos = {(f.key, v): i for f in fields for i, v in enumerate(f.values)}
    out = []
    for stage, frame in stages.items():
        for r in frame.itertuples():
            key = (r.field, r.value)
            t = target.get(key)
            b = band.get(key, (math.nan, math.nan))
            out.append(
                {
                    "field": r.field,
                    "field_label": labels.get(r.field, r.field),
                    "value": r.value,
                    "value_label": vlabels.get(key, r.value),
                    "position": pos.get(key, 0),
                    "stage": stage,
                    "stage_label": stage_label(stage),
                    "count": r.count,
                    "share": r.share,
                    "target": math.nan if t is None else t,
                    "deviation_pp": math.nan if t is None or stage == "population" else deviation_pp(r.share, t),
                    "ratio": (
                        math.nan
                        if t is None or stage == "population"
                        else (representation_ratio(r.share, t) or math.nan)
                    ),
                    "band_min": b[0],
                    "band_max": b[1],
                    "quota_min": seats.get(key, (math.nan, math.nan))[0],
                    "quota_max": seats.get(key, (math.nan, math.nan))[1],
                }
            )
    cols = [
        "field",
        "field_label",
        "value",
        "value_label",
        "position",
        "stage",
        "stage_label",
        "count",
        "share",
        "target",
        "deviation_pp",
        "ratio",
        "band_min",
        "band_max",
        "quota_min",
        "quota_max",
    ]
    return pd.DataFrame(out, columns=cols)


def tvd_table(stages: Mapping[str, pd.DataFrame], fields: Sequence[Field]) -> pd.DataFrame:
    """Rows: fields; columns: each stage other than population; cells: TVD against the targets.

    A field without targets, or a stage with nobody in it, gets NaN.
    """
    pop = stages.get("population")
    rows = []
    for f in fields:
        target = {} if pop is None else {r.value: r.share for r in pop.itertuples() if r.field == f.key}
        row: dict[str, str | float] = {"field": f.key, "Field": f.label}
        for stage, frame in stages.items():
            if stage == "population":
                continue
            sub = frame[frame["field"] == f.key]
            if not target or sub["count"].sum() == 0:
                row[stage_label(stage)] = math.nan
            else:
                row[stage_label(stage)] = tvd(dict(zip(sub["value"], sub["share"])), target)
        rows.append(row)
    return pd.DataFrame(rows)


# --- the "who gets a chance" curve ---------------------------------------------------------

FAIR_LABEL = "Fair lottery (this draw)"
LEGACY_LABEL = "Old-style draw (for comparison)"


def chance_curve(
    probabilities: Mapping[str, float] | None, legacy: Mapping[str, float] | None = None, *, max_points: int = 400
) -> pd.DataFrame:
    """Every sign-up's chance, sorted from lowest to highest, for each method.

    Columns: method, position (0–100: where the person stands, % of sign-ups), probability.
    Long pools are thinned to ``max_points`` evenly spaced points per method (always
    keeping the lowest and the highest).
    """
    rows = []
    for label, probs in ((FAIR_LABEL, probabilities), (LEGACY_LABEL, legacy)):
        if not probs:
            continue
        values = sorted(float(p) for p in probs.values())
        n = len(values)
        if n > max_points:
            idx = sorted({round(i * (n - 1) / (max_points - 1)) for i in range(max_points)})
        else:
            idx = list(range(n))
        for i in idx:
            rows.append((label, 100.0 * i / (n - 1) if n > 1 else 0.0, values[i]))
    return pd.DataFrame(rows, columns=["method", "position", "probability"])


@dataclass
class ChanceSummary:
    people: int
    lowest: float
    median: float
    highest: float
    equal_share: float | None  # panel size / pool: everyone's chance if all were equal
    below_half_equal: int  # people whose chance is under half the equal share


def chance_summary(probabilities: Mapping[str, float], panel_size: int | None = None) -> ChanceSummary | None:
    if not probabilities:
        return None
    values = sorted(float(p) for p in probabilities.values())
    n = len(values)
    median = values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
    equal = panel_size / n if panel_size else None
    below = sum(1 for p in values if equal is not None and p < equal / 2)
    return ChanceSummary(n, values[0], median, values[-1], equal, below)


def chance_table(
    probabilities: Mapping[str, float] | None, legacy: Mapping[str, float] | None, panel_size: int | None = None
) -> pd.DataFrame:
    """The table beside the chance curve: lowest, median, highest chance per method."""
    rows = []
    for label, probs in ((FAIR_LABEL, probabilities), (LEGACY_LABEL, legacy)):
        s = chance_summary(probs or {}, panel_size)
        if s is None:
            continue
        rows.append(
            {
                "Method": label,
                "Lowest chance": _pct(s.lowest),
                "Middle (median)": _pct(s.median),
                "Highest chance": _pct(s.highest),
                "People under half the equal chance": s.below_half_equal,
            }
        )
    return pd.DataFrame(
        rows,
        columns=["Method", "Lowest chance", "Middle (median)", "Highest chance", "People under half the equal chance"],
    )


def _pct(p: float) -> str:
    return f"{p * 100:.2f}%" if p < 0.1 else f"{p * 100:.1f}%"


# --- reading the stages from the store ---------------------------------------------------------


def counts_sql(db, *, eligible_only: bool = False, person_ids: Sequence[str] | None = None) -> dict:
    """{(field, value): count} over current sign-ups, or over ``person_ids`` (any status)."""
    if person_ids is not None:
        if not person_ids:
            return {}
        rows = db.query(
            "SELECT v.field, v.value, count(*) FROM person_values v "
            "WHERE v.value IS NOT NULL AND v.person_id IN (SELECT unnest(?::VARCHAR[])) "
            "GROUP BY ALL",
            [list(person_ids)],
        )
    else:
        rows = db.query(
            "SELECT v.field, v.value, count(*) FROM person_values v JOIN people p USING (person_id) "
            "WHERE p.removed_sync IS NULL AND v.value IS NOT NULL"
            + (" AND p.eligible" if eligible_only else "")
            + " GROUP BY ALL"
        )
    return {(f, v): int(n) for f, v, n in rows}


def selected_ids(db) -> list[str] | None:
    """The current panel: the revealed draw's selection with replacements applied (None: no draw yet)."""
    try:
        if draws.revealed_draw(db) is None:
            return None
        return list(draws.current_panel(db))
    except Exception:  # noqa: BLE001 - the draws tables may not exist yet in an old database
        return None


def participation_groups(db) -> dict[str, list[str]]:
    """Stage -> person_ids from lib.assembly: confirmed, attending:<session>, completed."""
    out: dict[str, list[str]] = {}
    try:
        statuses = assembly.member_statuses(db)
        if statuses is not None and len(statuses):
            st = statuses.set_index("person_id")["status"]
            out["confirmed"] = [p for p, s in st.items() if s in ("confirmed", "active", "completed")]
            out["completed"] = [p for p, s in st.items() if s == "completed"]
        att = assembly.attendance_frame(db)
        if att is not None and len(att):
            att = att[att["mark"].astype(str).str.lower().isin(ATTENDING_MARKS)]
            for (sid, sdate), grp in att.groupby(["session_id", "session_date"], sort=True):
                out[f"attending:{str(sdate)[:10] or sid}"] = list(grp["person_id"])
    except Exception:  # noqa: BLE001 - participation may not be migrated yet
        return {k: v for k, v in out.items()}
    return {k: v for k, v in out.items() if v}


def collect_stages(db, fields: Sequence[Field], targets: Iterable) -> dict[str, pd.DataFrame]:
    """Every stage that has data, in order: population, signups, eligible, selected, then participation."""
    stages: dict[str, pd.DataFrame] = {}
    targets = list(targets)
    if targets:
        stages["population"] = population_stage(targets, fields)
    stages["signups"] = stage_from_counts(counts_sql(db), fields)
    stages["eligible"] = stage_from_counts(counts_sql(db, eligible_only=True), fields)
    sel = selected_ids(db)
    if sel:
        stages["selected"] = stage_from_counts(counts_sql(db, person_ids=sel), fields)
    groups = participation_groups(db)
    for stage in ["confirmed"] + sorted(k for k in groups if k.startswith("attending:")) + ["completed"]:
        if groups.get(stage):
            stages[stage] = stage_from_counts(counts_sql(db, person_ids=groups[stage]), fields)
    return stages


def latest_chances(db):
    """(draw record, probabilities, legacy probabilities) of the draw to show: the live commitment of the
    main draw, else the revealed main draw, else the latest draw with probabilities; (None, None, None)
    when there is none."""
    try:
        # a live commitment is newer than any reveal of its slot: it is the draw people wait for
        rec = draws.live_commitment(db) or draws.revealed_draw(db) or draws.latest_draw(db)
    except Exception:  # noqa: BLE001
        return None, None, None
    if rec is None:
        return None, None, None
    return rec, dict(rec.probabilities or {}), (dict(rec.legacy_probabilities) if rec.legacy_probabilities else None)


def quota_pins(stage: str, qmin, qmax) -> bool:
    """True when the group's published quota leaves only one count between 1 and 4 at this stage, so that
    "fewer than 5" would give the exact count away (the panel meets its quota; the pool holds at least
    the minimum; confirmed, attending and completed are part of the panel). Such a cell is "not shown"
    whatever its count, so that hiding it says nothing either. Quotas are public (and follow from the
    published targets), so they cannot be hidden instead."""
    from lib.privacy import SMALL_GROUP

    if qmin is None or qmax is None or pd.isna(qmin) or pd.isna(qmax) or stage == "population":
        return False
    if stage == "selected":
        lo, hi = int(qmin), int(qmax)
    elif stage in ("signups", "eligible"):
        lo, hi = int(qmin), SMALL_GROUP
    else:
        lo, hi = 0, int(qmax)
    return len([n for n in range(1, SMALL_GROUP) if lo <= n <= hi]) == 1


def public_table(comp: pd.DataFrame, *, organiser: bool = False) -> pd.DataFrame:
    """A wide table for people: one row per value, a share column per stage; counts under 5 are
    hidden for non-organisers, and so is their share (it would give the count away). A group whose
    quota would pin a hidden count (``quota_pins``) is "not shown" at that stage whatever its count.
    When only one value of a field is hidden, the next smallest is "not shown" too, so it cannot be
    worked out by subtracting the others from the total."""
    from lib.privacy import SMALL_GROUP

    def pinned(r) -> bool:
        return not organiser and quota_pins(r.stage, getattr(r, "quota_min", None), getattr(r, "quota_max", None))

    also_hidden: set = set()
    pins: set = set()
    for (field, stage), grp in comp[comp["stage"] != "population"].groupby(["field", "stage"], sort=False):
        counts = {v: (0 if pd.isna(n) else int(n)) for v, n in zip(grp["value"], grp["count"])}
        pins |= {(field, stage, r.value) for r in grp.itertuples() if pinned(r)}
        primary = {v for v, n in counts.items() if (not organiser and 0 < n < SMALL_GROUP) or (field, stage, v) in pins}
        if len(primary) == 1 and not organiser:
            others = sorted((n, str(v)) for v, n in counts.items() if v not in primary and n > 0)
            if others:
                also_hidden.add((field, stage, next(v for v in counts if str(v) == others[0][1])))
    rows: dict[tuple, dict] = {}
    for r in comp.sort_values(["position"]).itertuples():
        row = rows.setdefault((r.field, r.value), {"Group": r.value_label})
        if r.stage == "population":
            row["Community"] = f"{r.share * 100:.0f}%"
            continue
        n = 0 if pd.isna(r.count) else int(r.count)
        hidden = not organiser and 0 < n < SMALL_GROUP
        label = stage_label(r.stage)
        if (r.field, r.stage, r.value) in pins:
            row[label] = "not shown"
        elif hidden:
            row[label] = "fewer than 5"
        elif (r.field, r.stage, r.value) in also_hidden:
            row[label] = "not shown"
        else:
            row[label] = f"{r.share * 100:.0f}% ({n})"
    table = pd.DataFrame(list(rows.values()))
    # One column order for every table, whichever group comes first (a first group without a target, or
    # stages listed in another order, moved "Community" after the stages in one table and not the next):
    # the group, the community, then the stages as people go through them.
    order = ["Group", "Community"] + [stage_label(s) for s in stage_order(comp["stage"])]
    return table[[c for c in order if c in table.columns] + [c for c in table.columns if c not in order]]


def stage_order(stages: Iterable[str]) -> list[str]:
    """Stages in the order people go through them: the community, sign-ups, ready, selected, confirmed,
    completed, then each session's attendance (in the order given); any other stage after those."""
    seen = list(dict.fromkeys(stages))

    def key(s: str):
        if s in BASE_STAGES:
            return (0, BASE_STAGES.index(s))
        return (1 if s.startswith("attending:") else 2, seen.index(s))

    return sorted(seen, key=key)


def detail_table(comp: pd.DataFrame) -> pd.DataFrame:
    """The table beside one field's chart (organisers): each stage's share and count, and for the
    furthest stage the deviation in percentage points and the representation ratio."""
    stages = [s for s in dict.fromkeys(comp["stage"]) if s != "population"]
    last = stages[-1] if stages else None
    rows = []
    for (_pos, _value), grp in comp.sort_values("position").groupby(["position", "value"], sort=True):
        by = {r.stage: r for r in grp.itertuples()}
        any_r = next(iter(by.values()))
        row = {"Group": any_r.value_label}
        if "population" in by:
            row["Community"] = f"{by['population'].share * 100:.1f}%"
        for s in stages:
            if s in by:
                r = by[s]
                n = 0 if pd.isna(r.count) else int(r.count)
                row[stage_label(s)] = f"{r.share * 100:.1f}% ({n})"
        if last and last in by and "population" in by:
            r = by[last]
            row[f"Points off ({stage_label(last)})"] = f"{r.deviation_pp:+.1f}"
            row[f"Ratio ({stage_label(last)})"] = "–" if pd.isna(r.ratio) else f"{r.ratio:.2f}"
        rows.append(row)
    return pd.DataFrame(rows)


def funnel_table(funnel: pd.DataFrame, field: Field, stage_order: Sequence[str]) -> pd.DataFrame:
    """One field's dropout funnel (from ``lib.assembly.funnel_by_group``): a row per group, a
    column per stage, and the share of those selected who are still on board (selected minus withdrawn)."""
    sub = funnel[funnel["field"] == field.key]
    if sub.empty:
        return pd.DataFrame()
    wide = sub.pivot_table(index="value", columns="stage", values="count", aggfunc="sum", fill_value=0)
    cols = [s for s in stage_order if s in wide.columns]
    wide = wide.reindex([v for v in field.values if v in wide.index])[cols]
    out = pd.DataFrame({"Group": [field.value_labels.get(v, v) for v in wide.index]})
    for c in cols:
        out[c.capitalize()] = wide[c].astype(int).to_numpy()
    if "selected" in cols and "withdrawn" in cols:
        sel = wide["selected"].to_numpy()
        kept = sel - wide["withdrawn"].to_numpy()
        out["Still on board"] = [f"{k / s * 100:.0f}%" if s else "–" for k, s in zip(kept, sel)]
    return out


def funnel(db) -> tuple[pd.DataFrame | None, tuple]:
    """(funnel frame, stage order) from lib.assembly; (None, ()) before anyone is tracked."""
    try:
        df = assembly.funnel_by_group(db)
    except Exception:  # noqa: BLE001 - participation tables may not exist in an old database
        return None, ()
    if df is None or df.empty or int(df["count"].sum()) == 0:
        return None, ()
    return df, tuple(assembly.FUNNEL_STAGES)
