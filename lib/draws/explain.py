"""What the Draw page says about a draw, worked out here so that the page only draws it: the
plain sentences (chances, why the computer stopped, re-runs, the number's spelling rule) and the
tables (relaxed quotas, counts per group, the two lotteries side by side, every draw so far).

Pure functions of a DrawRecord and its numbers: no database, no Streamlit. People's text (a
public number, a re-run's reason, a name) goes through lib.plaintext.md, as the page shows it
as Markdown.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from lib.access.auth import actor_in_words
from lib.draws.chances import chance_text, fairness_summary
from lib.draws.compute import OBJECTIVE_LABELS
from lib.draws.records import DrawRecord
from lib.plaintext import md

# (kind, text): kind is the Streamlit call the page uses ("success", "info", "warning", "error", "caption").
Notice = tuple[str, str]

STATUS_WORDS = {
    "computed": "computed (not published)",
    "committed": "commitment published",
    "revealed": "revealed",
    "withdrawn": "commitment withdrawn",
}


# --- the chances ----------------------------------------------------------------------------------


def greedy_min_text(summary: Mapping[str, Any]) -> str:
    """The smallest chance under the greedy draw, for its metric."""
    n, low = summary["legacy_draws"], summary["legacy_min"]
    if low is None:
        return "not measured"
    if low <= 0:
        return f"never picked in {n:,} trials"
    return chance_text(low)


def trials_sentence(summary: Mapping[str, Any]) -> str | None:
    """The greedy draw's trial runs beside the fair lottery, in one Markdown sentence (None: not measured)."""
    if summary["legacy_never"] is None:
        return None
    n = summary["legacy_draws"]
    line = (
        f"In {n:,} trial runs of the greedy draw many groups use, **{summary['legacy_never']}** of the "
        f"{summary['people']} sign-ups were never picked"
    )
    if summary["legacy_almost_none"] is not None:
        line += (
            f", and **{summary['legacy_almost_none']}** had a chance below 1 in 1,000 (in the fair lottery: "
            f"**{summary['fair_almost_none']}**)"
        )
    return line + f". In the fair lottery, **{summary['fair_none']}** have no chance at all."


def trials_caveat(summary: Mapping[str, Any]) -> str | None:
    n = summary["legacy_draws"]
    if summary["legacy_never"] is None or n >= 200:
        return None
    return f"Only {n} trial runs fitted in the time allowed, so the greedy draw's figures are rough."


def zero_chance_notice(rec: DrawRecord) -> Notice | None:
    """Sign-ups with no chance at all: why (out of time, or no valid panel can hold them)."""
    zero = sum(1 for p in rec.probabilities.values() if p <= 0)
    if not zero:
        return None
    who = f"{zero} sign-up{'s have' if zero != 1 else ' has'} no chance at all in this lottery"
    if rec.complete is False:
        return (
            "warning",
            f"{who}, because the computer ran out of time before finishing. Before publishing, press "
            "“Start again” and let it run longer (the time limit is the setting "
            "KLEROTERION_DRAW_TIME_LIMIT, in seconds).",
        )
    return (
        "info",
        f"{who}: no panel that meets the quotas can include them, or their chance is smaller than 1 in {rec.m}.",
    )


def stop_note(rec: DrawRecord) -> str | None:
    """How long the computer took and, for an unfinished lottery, why it stopped (None: not known)."""
    seconds = f"{rec.seconds or 0:.0f}"
    if rec.complete is True and rec.seconds is not None:
        if rec.algorithm == "goldilocks":
            return f"The computer finished the most balanced lottery in {seconds} seconds."
        return (
            f"The computer finished the fairest lottery in {seconds} seconds: nobody's chance can be raised "
            "without lowering the chance of someone who has less."
        )
    if rec.complete is not False:
        return None
    if rec.algorithm == "goldilocks":
        return (
            f"The computer stopped improving the lottery after {seconds} seconds. Every panel "
            f"meets the quotas; its balance is proven within {100 * (rec.gap or 0):.2f}% of the best possible."
        )
    gap = rec.gap or 0
    if gap <= 1e-6:
        outcome = (
            "Every panel meets the quotas and the smallest chance is already the highest possible; with more "
            "time, the chances just above it could have been evened out a little further."
        )
        why = "once the smallest chance was proven the best possible, or when you stopped it"
    else:
        outcome = (
            "Every panel still meets the quotas; with more time the smallest chance might be up to "
            f"{gap * 100:.2f} percentage points higher."
        )
        why = "at its time limit"
    return f"The computer stopped improving the lottery after {seconds} seconds ({why}). {outcome}"


def chances_table(rec: DrawRecord) -> pd.DataFrame:
    """The numbers behind the chart: each pseudonym's chance, smallest first."""
    df = pd.DataFrame({"Pseudonym": list(rec.probabilities), "Chance (fair lottery)": list(rec.probabilities.values())})
    if rec.legacy_probabilities:
        df["Chance (greedy draw, estimate)"] = df["Pseudonym"].map(rec.legacy_probabilities)
    return df.sort_values("Chance (fair lottery)")


def chances(rec: DrawRecord) -> dict[str, Any]:
    """Everything the page says about a lottery's chances, in one place."""
    s = fairness_summary(rec)
    return {
        "fair_min": chance_text(s["fair_min"]),
        "greedy_min": greedy_min_text(s),
        "trials": trials_sentence(s),
        "caveat": trials_caveat(s),
        "zero": zero_chance_notice(rec),
        "stop": stop_note(rec),
    }


def lotteries_table(rec: DrawRecord, alternatives: Mapping[str, DrawRecord]) -> pd.DataFrame:
    """Both kinds of lottery side by side: smallest and largest chance, people nearly sure to be picked."""
    rows = []
    for key, label in OBJECTIVE_LABELS.items():
        r = alternatives.get(key)
        probs = list(r.probabilities.values()) if r is not None else []
        rows.append(
            {
                "Lottery": label + (" (shown above)" if key == rec.algorithm else ""),
                "Smallest chance": chance_text(min(probs)) if probs else "not computed yet",
                "Largest chance": chance_text(max(probs)) if probs else "not computed yet",
                "People with more than a 50% chance": str(sum(1 for p in probs if p > 0.5)) if probs else "",
            }
        )
    return pd.DataFrame(rows)


# --- the quotas -----------------------------------------------------------------------------------

Labels = tuple[Mapping[str, str], Mapping[tuple[str, str], str]]


def relaxation_table(changes: Sequence, labels: Labels) -> pd.DataFrame:
    """The suggested smallest change to the quotas, by the organisers' own labels, for editing."""
    fl, vl = labels
    return pd.DataFrame(
        [
            {
                "Field": fl.get(c.feature, c.feature),
                "Group": vl.get((c.feature, c.value), c.value),
                "Now at least": c.old_min,
                "Now at most": c.old_max,
                "New at least": c.new_min,
                "New at most": c.new_max,
            }
            for c in changes
        ]
    )


def relaxation_from_table(changes: Sequence, edited: pd.DataFrame) -> list[dict]:
    """The relaxation to compute with: each suggested change, with the minimum and maximum as edited."""
    return [
        {
            "feature": c.feature,
            "value": c.value,
            "old_min": c.old_min,
            "old_max": c.old_max,
            "new_min": int(row["New at least"]),
            "new_max": int(row["New at most"]),
        }
        for c, (_, row) in zip(changes, edited.iterrows())
    ]


def counts_table(raw: pd.DataFrame, labels: Labels) -> pd.DataFrame:
    """chances.group_counts in words: each group's count on the panel against its quota."""
    fl, vl = labels
    return pd.DataFrame(
        {
            "Field": raw["field"].map(lambda f: fl.get(f, f)),
            "Group": [vl.get((f, v), v) for f, v in zip(raw["field"], raw["value"])],
            "On the panel": raw["selected"],
            "Quota": [f"{lo}–{hi}" if lo != hi else str(lo) for lo, hi in zip(raw["min"], raw["max"])],
            "Within quota": raw["within quota"].map({"yes": "✓ yes", "no": "✗ no"}),
        }
    )


# --- the ceremony's words -------------------------------------------------------------------------


def rerun_warning(rec: DrawRecord) -> str | None:
    if not rec.rerun_of:
        return None
    return (
        f"⚠ This is a **re-run**: draw {rec.rerun_of} was already done on the same sign-ups and quotas. "
        "Both are kept and shown." + (f" Reason given: “{md(rec.note)}”." if rec.note else "")
    )


def earlier_draw_notice(earlier: DrawRecord, same_inputs: bool) -> Notice:
    """Before a new draw, when an earlier one was already published: a re-run, or a separate draw."""
    done = "revealed" if earlier.is_revealed else "published"
    if same_inputs:
        return (
            "warning",
            f"Draw {earlier.draw_id} on these same sign-ups and quotas was already {done}. A new draw "
            "will be recorded as a **re-run** and shown as such to everyone, next to the first one.",
        )
    return (
        "info",
        f"Draw {earlier.draw_id} was already {done}, but the sign-ups or the quotas have changed "
        "since. The new draw is recorded as a separate draw; the earlier one stays on record.",
    )


def withdrawn_text(rec: DrawRecord, live: DrawRecord | None) -> str:
    return f"The commitment of draw {rec.draw_id} was withdrawn in public, so it can never be revealed." + (
        f" The live commitment is draw {live.draw_id}'s." if live else " Start a new draw below."
    )


def number_rule(engine_version: str | None) -> str:
    """How the public number is read, under the rule the lottery was committed with (its engine version)."""
    if engine_version == "1.0":
        return (
            "Type it exactly as announced, with the same spaces and punctuation: this draw was committed before "
            "spaces stopped mattering, so “12 07 33” and “120733” would be different numbers."
        )
    return (
        "Type it as announced. Spaces, commas, dots and dashes between the groups do not matter "
        "(“17 23 05”, “17-23-05” and “172305” are the same number), but every digit does, zeros included."
    )


def number_problem(number: str, sure: bool) -> str | None:
    """What is missing before the panel can be revealed (None: nothing)."""
    if not number.strip():
        return "Type the public random number first."
    if not sure:
        return "Tick the box to confirm that the number was drawn in public after the commitment."
    return None


def export_name(rec: DrawRecord) -> str:
    """The start of every downloaded file's name: draw-7, replacement-round-2-draw-9."""
    kind = "draw" if rec.kind == "draw" else f"replacement-round-{rec.round}-draw"
    return f"{kind}-{rec.draw_id}"


def history_table(records: Iterable[DrawRecord]) -> pd.DataFrame:
    """Every draw so far, one row each: status in words, the commitment's start, re-runs."""
    return pd.DataFrame(
        [
            {
                "Draw": r.draw_id,
                "Kind": "replacement round " + str(r.round) if r.kind == "replacement" else "draw",
                "Status": STATUS_WORDS.get(r.status, r.status),
                "Created": f"{r.created_at:%d %b %Y %H:%M}",
                "By": actor_in_words(r.created_by),
                "Commitment": (r.commitment or "")[:16] + ("…" if r.commitment else ""),
                "Public number": r.public_number or "",
                "Re-run of": r.rerun_of or "",
                "Note": r.note or "",
            }
            for r in records
        ]
    )
