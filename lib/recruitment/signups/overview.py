"""What the Sign-ups page says, worked out here so that the page only draws it: the banner at the top
(last sync, failures, what the automatic sync does), the labels of the confirmation buttons, the
problems' summary, the preview's pages, the first rows of an upload. Pure functions, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

import pandas as pd

from lib.plaintext import md
from lib.recruitment.signups.grid import Grid
from lib.recruitment.signups.live import LiveStatus, source_words
from lib.recruitment.signups.mapping import Mapping, check_mapping, suggest_mapping
from lib.recruitment.signups.slot import ago_words, running_words
from lib.recruitment.signups.store import PREVIEW_PAGE
from lib.recruitment.signups.sync import LIVE_KINDS

# A file's kind (lib.recruitment.signups.sources.upload_kind) -> the source kind its sync is logged under.
FILE_KINDS = {"csv": "csv", "xlsx": "excel", "ods": "ods"}
NOT_USED = "— not in the sheet —"

Notice = tuple[str, str]  # (kind, Markdown): "success", "info", "running", "pending", "error", "caption"


# --- the banner -----------------------------------------------------------------------------------


def when(row: dict) -> str:
    return row["started_at"].strftime("%d %b %Y at %H:%M")


def in_words(seconds: float) -> str:
    """When something happens next: "in less than a minute", "in about 4 minutes"."""
    if seconds < 60:
        return "in less than a minute"
    minutes = round(seconds / 60)
    return "in about a minute" if minutes == 1 else f"in about {minutes} minutes"


def age_seconds(text: Any, now: datetime | None = None) -> float | None:
    """Seconds since an ISO time written by the automatic sync (None when it cannot be read)."""
    try:
        then = datetime.fromisoformat(str(text))
        return ((now or datetime.now(timezone.utc)) - then).total_seconds()
    except (TypeError, ValueError):
        return None


def banner(status: LiveStatus, last: dict | None, good: dict | None) -> list[Notice]:
    """The top of the page, in order. ("pending", "") stands for the held sync's box."""
    if last is None:
        return [("info", "No sign-ups have been brought in yet. Choose where they come from below.")]
    out: list[Notice] = []
    if good is not None:
        text = f"Last synced {ago_words(status.last_ok_seconds)} (on {when(good)}): {md(good['message'])}"
        out.append(("success" if last["status"] == "ok" else "info", text))
    if status.running:
        out.append(("running", md(running_words(status.running))))
    if status.pending:
        out.append(("pending", ""))
    elif last["status"] != "ok":
        still = (
            f" The sign-ups from {ago_words(status.last_ok_seconds)} are still here, unchanged."
            if good is not None
            else ""
        )
        out.append(("error", md(status.failure_words()) + still))
    if status.declined:
        out.append(
            (
                "caption",
                "You chose to keep the sign-ups as they were. The automatic sync asks again when the sheet changes.",
            )
        )
    return out


def live_line(status: LiveStatus) -> str | None:
    """What the automatic sync does, in one line (None: nothing to say). The "Sync now" button goes with it
    when ``status.live``."""
    if status.live:
        line = (
            f"New sign-ups are brought in from {md(source_words(status.source))} by themselves, "
            f"{status.settings.every_words}."
        )
        if status.failures_in_a_row:
            line += (
                " After a failed try it waits longer each time (up to an hour), and goes back to "
                f"{status.settings.every_words} after a try that works."
            )
        if status.next_seconds is not None and not status.running:
            line += f" Next look {in_words(status.next_seconds)}."
        return line
    if status.source:
        return (
            f"Bringing in new sign-ups from {md(source_words(status.source))} by themselves is "
            "switched off (see “Automatic updates” below)."
        )
    if status.last_ok_kind and status.last_ok_kind not in LIVE_KINDS:
        where = "are the demo's" if status.last_ok_kind == "demo" else "came from a file"
        return (
            f"These sign-ups {where}, so nothing is brought in by itself. Bring them in from a Google Sheet "
            "or a published link and they will be kept up to date automatically."
        )
    return None


# --- confirmations --------------------------------------------------------------------------------


def confirm_label(held: dict) -> str:
    """The yes button of a sync held on this page."""
    what = "file" if held["kind"] in FILE_KINDS.values() else "sheet"
    if held["reason"] == "retire":
        return f"Yes, bring in the {what} and retire them"
    return f"Yes, bring in the {what} with these changes"


def pending_label(pending: dict) -> str:
    """The yes button of a sync the automatic sync holds."""
    counts = pending.get("counts") or [0, 0, 0, 0]
    if pending.get("reason") == "retire":
        return f"Yes, bring them in ({counts[2]} no longer in the sheet)"
    return "Yes, bring in these changes"


def pending_found(pending: dict, now: datetime | None = None) -> str:
    return (
        f"Found {ago_words(age_seconds(pending.get('at'), now))} in {md(source_words(pending.get('source')))}. "
        "The sheet is read again when you answer, so the numbers are checked once more."
    )


# --- problems and the preview ---------------------------------------------------------------------


def problems_summary(problems: pd.DataFrame) -> str:
    must = int((problems["Importance"] == "Must fix").sum())
    return (
        f"{must} must be fixed before those people can be in the draw; "
        f"{len(problems) - must} are worth a check. Nothing has been left out: every row is kept."
    )


def must_fix_only(problems: pd.DataFrame) -> pd.DataFrame:
    return problems[problems["Importance"] == "Must fix"]


@dataclass(frozen=True)
class PreviewPage:
    pages: int  # how many pages the matching sign-ups fill (at least 1)
    page: int  # the page to show: the one asked for, or 1 when it no longer exists

    @property
    def offset(self) -> int:
        return (self.page - 1) * PREVIEW_PAGE


def preview_page(total: int, asked: Any) -> PreviewPage:
    pages = max(1, -(-total // PREVIEW_PAGE))
    try:
        page = int(asked or 1)
    except (TypeError, ValueError):
        page = 1
    return PreviewPage(pages, page if 1 <= page <= pages else 1)


def preview_caption(total: int, start: int, shown: int, search: str) -> tuple[str, str]:
    """(kind, text) above the preview table; kind "info" when nothing matches."""
    found = f" matching “{md(search.strip())}”" if search.strip() else ""
    if not shown:
        if found:
            return "info", f"No sign-up{found}. Search by pseudonym (like P-0042) or by the row number in the sheet."
        return "info", "No sign-ups yet."
    if total > shown:
        return "caption", (
            f"Showing sign-ups {start + 1}–{start + shown} of {total}{found}. Choose another page, "
            "or search by pseudonym or row number."
        )
    return "caption", f"Showing all {total} sign-ups{found}."


def first_rows(grid: Grid, n: int = 5) -> pd.DataFrame:
    """An upload's first rows as Kleroterion reads them."""
    part = grid.table.slice(0, n)
    return pd.DataFrame({h: part.column(f"c{i}").to_pylist() for i, h in enumerate(grid.headers)})


# --- the column choices ---------------------------------------------------------------------------


def mapping_headers(pending_headers: Sequence[str] | None, mapping: Mapping | None) -> list[str]:
    """The columns to choose from: the waiting sheet's, else the ones chosen last time."""
    if pending_headers is not None:
        return list(pending_headers)
    return sorted(set(mapping.columns.values() if mapping else []))


def mapping_start(mapping: Mapping | None, headers: list[str], fields: list, *, waiting: bool) -> Mapping:
    """The choices the form starts from: the saved ones, unless a waiting sheet does not fit them."""
    if mapping and not (waiting and check_mapping(mapping, headers, fields)):
        return mapping
    return suggest_mapping(headers, fields)


def chosen_mapping(chosen: dict[str, str]) -> Mapping:
    return Mapping({r: c for r, c in chosen.items() if c != NOT_USED})
