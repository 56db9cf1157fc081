"""Live sync: once a Google Sheet (or a published link) is connected, the server brings in new sign-ups
by itself every few minutes, so the quota board follows the form through the day.

* **Which sheet.** The source of the last successful sync from a Google Sheet or a published link
  (the ``live_source`` setting, written by ``sync_grid``); a successful sync from a file or the demo
  clears it, since an automatic sync would then undo what was brought in.
* **How often.** The ``live_sync`` setting: ``{"enabled": true, "seconds": 300}`` (default: on, every
  5 minutes; the Sign-ups page offers 1 minute or more; the library takes 1 second or more, for tests).
* **One thread per process** (``ensure_worker``), started lazily by lib/resources.py; **one sync at a
  time** for every session and process (lib/recruitment/signups/slot.py): the background sync skips its turn when
  another sync runs, a manual one waits or says so.
* **Back-off after failures:** after n failures in a row the next try waits ``interval × 2ⁿ`` (at most an
  hour, or the interval if that is longer); a success resets it. A failed sync changes nothing (it is one
  transaction) and is written to the sync log, as every sync is.
* **Confirmation.** A background sync that would retire more than the set share of the pool, or change
  it while a draw is being prepared, applies nothing: it records the numbers (``live_pending``) for the
  Sign-ups page to show with a yes/no. The same sheet is not asked about again (nor logged again) until
  it changes; after a "no" it waits for the sheet to change.
* **Never dies silently.** Every error in the thread is logged and the thread carries on (backing off);
  ``stop()`` ends it cleanly (tests, or the database being closed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import duckdb

from lib.store.db import Database
from lib.errors import UserError
from lib.store.settings import get_setting, set_setting
from lib.recruitment.signups.grid import Grid
from lib.recruitment.signups.mapping import load_mapping
from lib.recruitment.signups.slot import AUTO_ACTOR, SyncBusy, ago_words, busy_message, holder, running_words, sync_slot
from lib.recruitment.signups.sync import (
    LIVE_KINDS,
    LIVE_PENDING,
    LIVE_SOURCE,
    ConfirmationNeeded,
    SyncResult,
    draw_in_preparation,
    record_failed_sync,
    retire_share,
    sync_from,
)

log = logging.getLogger("kleroterion")

SETTING = "live_sync"
DEFAULT_SECONDS = 300.0
MIN_SECONDS = 1.0  # the library's floor (tests); the page offers whole minutes from 1
PAGE_MIN_MINUTES = 1
MAX_BACKOFF = 3600.0
LOOK_AGAIN = 10.0  # seconds between looks at the settings while idle
MANUAL_WAIT_SECONDS = 20.0  # a manual sync waits this long for a running one, then says so

__all__ = ["AUTO_ACTOR", "SyncBusy", "ago_words", "busy_message", "running_words"]


# --- settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveSettings:
    enabled: bool
    seconds: float

    @property
    def every_words(self) -> str:
        return every_words(self.seconds)


def live_settings(db: Database) -> LiveSettings:
    raw = get_setting(db, SETTING) or {}
    enabled = bool(raw.get("enabled", True)) if isinstance(raw, dict) else True
    try:
        seconds = float(raw.get("seconds", DEFAULT_SECONDS)) if isinstance(raw, dict) else DEFAULT_SECONDS
    except (TypeError, ValueError):
        seconds = DEFAULT_SECONDS
    if not seconds == seconds or seconds < MIN_SECONDS:  # NaN or too small
        seconds = MIN_SECONDS if seconds == seconds else DEFAULT_SECONDS
    return LiveSettings(enabled, min(seconds, 7 * 86400.0))


def save_live_settings(db: Database, *, enabled: bool, seconds: float, actor: str | None = None) -> LiveSettings:
    seconds = float(seconds)
    if not seconds == seconds or seconds < MIN_SECONDS:
        raise UserError(f"Choose how often to bring in new sign-ups: at least every {PAGE_MIN_MINUTES} minute.")
    set_setting(db, SETTING, {"enabled": bool(enabled), "seconds": seconds}, actor)
    worker = worker_for(db)
    if worker is not None:
        worker.wake()
    return live_settings(db)


def every_words(seconds: float) -> str:
    s = float(seconds)
    if s < 60:
        return "every second" if round(s) <= 1 else f"every {round(s)} seconds"
    if s < 3600:
        m = round(s / 60)
        return "every minute" if m == 1 else f"every {m} minutes"
    h = round(s / 3600, 1)
    return "every hour" if h == 1 else f"every {h:g} hours"


def connected_source(db: Database) -> dict | None:
    """The sheet the background sync reads, or None."""
    source = get_setting(db, LIVE_SOURCE)
    if not isinstance(source, dict) or source.get("kind") not in LIVE_KINDS:
        return None
    if source["kind"] == "google_sheet" and not str(source.get("spreadsheet") or "").strip():
        return None
    if source["kind"] == "published_csv" and not str(source.get("url") or "").strip():
        return None
    return source


def source_label(source: dict) -> str:
    """As the Sign-ups page labels a sync from this source in the log."""
    if source["kind"] == "google_sheet":
        return f"{source['spreadsheet']} / {source.get('worksheet') or ''}"
    return source["url"]


def source_words(source: dict | None) -> str:
    if not source:
        return "no sheet"
    if source["kind"] == "google_sheet":
        tab = source.get("worksheet")
        return f"the Google Sheet (tab “{tab}”)" if tab else "the Google Sheet"
    return "the published sheet link"


def fetch_source(source: dict, credentials: dict | None, client_options: dict | None = None) -> Grid:
    """Read the connected sheet (within the usual deadline and limits), or raise a ``UserError``."""
    from lib.recruitment.signups.sources import grid_from_google_sheet, grid_from_published_csv

    if source["kind"] == "google_sheet":
        if not credentials:
            raise UserError(
                "The Google Sheet could not be read: the app has no Google service account key "
                "(the [gcp_service_account] section of .streamlit/secrets.toml). docs/GOOGLE_SHEETS.md "
                "shows how to add one. Until then, upload the sheet as a file."
            )
        return grid_from_google_sheet(
            credentials, source["spreadsheet"], source.get("worksheet") or "", **dict(client_options or {})
        )
    return grid_from_published_csv(source["url"])


# --- the state people see -------------------------------------------------------------------------


@dataclass
class LiveStatus:
    source: dict | None
    settings: LiveSettings
    last_ok_seconds: float | None  # how long ago the last successful sync finished
    last_ok_kind: str | None
    failure: str | None  # the latest attempt's message, when it failed after the last success
    failure_seconds: float | None
    pending: dict | None  # a background sync waiting for an organiser (not declined)
    declined: dict | None  # the organiser said no; waiting for the sheet to change
    running: dict | None  # who is syncing now
    next_seconds: float | None  # when the background sync looks next (this process), if known
    failures_in_a_row: int

    @property
    def live(self) -> bool:
        return bool(self.source and self.settings.enabled)

    def synced_words(self) -> str:
        """ "Last synced 3 minutes ago." (or "Nothing has been brought in yet.")"""
        if self.last_ok_seconds is None:
            return "No sign-ups have been brought in yet."
        return f"Last synced {ago_words(self.last_ok_seconds)}."

    def failure_words(self, *, organiser: bool = True) -> str | None:
        """The last failure in plain words. Web addresses are left out for anyone but organisers: a sheet's
        address (or a published link) can be all it takes to read everybody's contact details."""
        if not self.failure:
            return None
        text = self.failure if organiser else _LINK.sub("(the sheet's address)", self.failure)
        return f"The last try, {ago_words(self.failure_seconds)}, did not work: {text}"


_LINK = re.compile(r"(?:https?://|www\.|docs\.google\.com)[^\s“”\"'<>]*", re.IGNORECASE)

_LATEST_SQL = """
    SELECT status, message, source_kind, date_diff('millisecond', coalesce(finished_at, started_at), now()) / 1000.0
    FROM sync_log {where} ORDER BY sync_id DESC LIMIT 1"""


def live_status(db: Database) -> LiveStatus:
    latest = db.query(_LATEST_SQL.format(where=""))
    good = db.query(_LATEST_SQL.format(where="WHERE status = 'ok'"))
    pending = get_setting(db, LIVE_PENDING)
    pending = pending if isinstance(pending, dict) else None
    failure = failure_s = None
    if latest and latest[0][0] != "ok":
        failure, failure_s = str(latest[0][1] or "no reason was recorded."), float(latest[0][3])
    worker = worker_for(db)
    return LiveStatus(
        source=connected_source(db),
        settings=live_settings(db),
        last_ok_seconds=float(good[0][3]) if good else None,
        last_ok_kind=good[0][2] if good else None,
        failure=failure,
        failure_seconds=failure_s,
        pending=pending if pending and not pending.get("declined") else None,
        declined=pending if pending and pending.get("declined") else None,
        running=holder(db),
        next_seconds=worker.next_in() if worker else None,
        failures_in_a_row=worker.failures if worker else 0,
    )


def status_fingerprint(db: Database) -> tuple:
    """Cheap: changes whenever a sync is logged or a confirmation starts or stops waiting."""
    return tuple(
        db.query(
            "SELECT (SELECT max(sync_id) FROM sync_log), "
            "(SELECT max(updated_at) FROM settings WHERE key IN (?, ?))::VARCHAR",
            [LIVE_PENDING, LIVE_SOURCE],
        )[0]
    )


# --- one background sync --------------------------------------------------------------------------


def grid_fingerprint(grid: Grid, *extra) -> str:
    """SHA-256 of the sheet's cells (and ``extra``: what else decides the outcome of a sync)."""
    import pyarrow as pa

    h = hashlib.sha256(json.dumps([grid.headers, *extra], default=str, sort_keys=True).encode())
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, grid.table.schema) as writer:
        writer.write_table(grid.table)
    h.update(sink.getvalue().to_pybytes())
    return h.hexdigest()


def _now_text() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def background_sync(db: Database, source: dict, credentials: dict | None, client_options: dict | None = None) -> str:
    """One automatic sync of ``source``; the caller holds the sync slot. Returns "ok", "failed", "confirm"
    (numbers recorded for an organiser, nothing applied) or "waiting" (the sheet is the one an organiser
    is being asked about, or said no to: nothing done, nothing logged)."""
    kind, label = source["kind"], source_label(source)
    try:
        grid = fetch_source(source, credentials, client_options)
    except UserError as e:
        record_failed_sync(db, kind, label, str(e), actor=AUTO_ACTOR)
        return "failed"
    mapping = load_mapping(db)
    if mapping is None:
        record_failed_sync(
            db,
            kind,
            label,
            "The sheet was read, but no columns have been chosen for the questions "
            "yet, so nothing was brought in. An organiser can choose them on the Sign-ups page, "
            "under “Which column holds what”.",
            actor=AUTO_ACTOR,
        )
        return "failed"
    fingerprint = grid_fingerprint(grid, mapping.to_json(), retire_share(db), draw_in_preparation(db))
    pending = get_setting(db, LIVE_PENDING)
    if isinstance(pending, dict) and pending.get("fingerprint") == fingerprint:
        return "waiting"
    result = sync_from(db, lambda: grid, mapping, source_kind=kind, source_label=label, actor=AUTO_ACTOR, source=source)
    if result.confirmation is not None:
        _hold(db, result.confirmation, source, fingerprint)
        return "confirm"
    return result.status


def _hold(
    db: Database, ask: ConfirmationNeeded, source: dict, fingerprint: str, actor: str | None = AUTO_ACTOR
) -> None:
    set_setting(
        db,
        LIVE_PENDING,
        {
            "counts": list(ask.counts),
            "pool": ask.pool,
            "reason": ask.reason,
            "message": str(ask),
            "fingerprint": fingerprint,
            "at": _now_text(),
            "source": source,
            "declined": False,
        },
        actor,
    )


def pending_confirmation(db: Database) -> dict | None:
    pending = get_setting(db, LIVE_PENDING)
    return pending if isinstance(pending, dict) and not pending.get("declined") else None


def decline_pending(db: Database, actor: str | None) -> None:
    """The organiser said no: nothing changes, and the same sheet is not asked about again."""
    pending = pending_confirmation(db)
    if pending is None:
        return
    source = pending.get("source") or {}
    set_setting(
        db, LIVE_PENDING, {**pending, "declined": True, "declined_by": actor, "declined_at": _now_text()}, actor
    )
    record_failed_sync(
        db,
        source.get("kind", "google_sheet"),
        source_label(source) if source else "",
        "Not brought in: the organiser chose to keep the sign-ups as they were. The automatic sync "
        "will ask again when the sheet changes.",
        actor=actor,
    )


def confirm_pending(
    db: Database,
    credentials: dict | None,
    actor: str | None,
    *,
    wait: float | None = None,
    client_options: dict | None = None,
) -> SyncResult:
    """The organiser said yes: read the sheet again and apply it if the numbers are the ones they saw.
    If the sheet changed meanwhile, the new numbers are held instead (``result.confirmation``)."""
    pending = pending_confirmation(db)
    if pending is None:
        raise UserError(
            "There is no automatic sync waiting for a confirmation any more: it may have been "
            "answered in another window. The sign-ups shown are the latest."
        )
    source = connected_source(db) or pending.get("source")
    counts = tuple(int(n) for n in pending.get("counts") or ())
    return sync_connected_now(
        db, credentials, actor, wait=wait, client_options=client_options, confirmed=counts, source=source
    )


def sync_connected_now(
    db: Database,
    credentials: dict | None,
    actor: str | None,
    *,
    wait: float | None = None,
    client_options: dict | None = None,
    confirmed=None,
    source: dict | None = None,
) -> SyncResult:
    """ "Sync now": bring in the connected sheet at once (waiting up to ``wait`` seconds for a running
    sync, then ``SyncBusy``). A sync that needs confirmation is held as the background one would be."""
    source = source or connected_source(db)
    if source is None:
        raise UserError(
            "No Google Sheet or published link is connected yet: bring in sign-ups from one first "
            "(below), then they are brought in automatically."
        )
    mapping = load_mapping(db)
    if mapping is None:
        raise UserError("Choose which column holds what first (below, under “Which column holds what”).")
    kind, label = source["kind"], source_label(source)
    seconds = MANUAL_WAIT_SECONDS if wait is None else wait
    with sync_slot(db, actor or "an organiser", wait=seconds):
        box: dict = {}

        def fetch() -> Grid:
            box["grid"] = fetch_source(source, credentials, client_options)
            return box["grid"]

        result = sync_from(
            db, fetch, mapping, source_kind=kind, source_label=label, actor=actor, confirmed=confirmed, source=source
        )
        if result.confirmation is not None and "grid" in box:
            _hold(
                db,
                result.confirmation,
                source,
                grid_fingerprint(box["grid"], mapping.to_json(), retire_share(db), draw_in_preparation(db)),
                actor,
            )
    worker = worker_for(db)
    if worker is not None:
        worker.note_manual(result.status == "ok")
    return result


# --- the background thread ------------------------------------------------------------------------


def backoff_seconds(interval: float, failures: int) -> float:
    """How long to wait after ``failures`` failed tries in a row (0: the interval)."""
    if failures <= 0:
        return interval
    return min(interval * (2 ** min(failures, 40)), max(MAX_BACKOFF, interval))


class LiveSync:
    """The background sync of one database, in one daemon thread."""

    def __init__(
        self,
        db: Database,
        *,
        credentials: dict | None = None,
        client_options: dict | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.db = db
        self.credentials = credentials
        self.client_options = dict(client_options or {})
        self.clock = clock
        self.failures = 0  # failed tries in a row
        self.last_try: float | None = None  # clock() of the last background or manual try
        self.runs = 0  # background syncs started
        self.outcomes: list[str] = []  # the last outcomes, newest last (for the page and tests)
        self.errors = 0  # unexpected errors caught in the thread
        self._due: float | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> "LiveSync":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kleroterion-live-sync", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the thread (after the sync it may be running). True when it has ended."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def wake(self) -> None:
        """Look at the settings again now (they changed)."""
        self._wake.set()

    def next_in(self) -> float | None:
        if self._due is None:
            return None
        return max(0.0, self._due - self.clock())

    def note_manual(self, ok: bool) -> None:
        """A manual sync of the connected sheet just ran: count it like a background one."""
        self.last_try = self.clock()
        self.failures = 0 if ok else self.failures + 1

    # one look
    def due_at(self, interval: float) -> float:
        if self.last_try is None:  # first look in this process: count from the last successful sync
            rows = self.db.query(
                "SELECT date_diff('millisecond', max(coalesce(finished_at, started_at)), now()) "
                "/ 1000.0 FROM sync_log WHERE status = 'ok'"
            )
            age = rows[0][0] if rows else None
            if age is None:
                return self.clock()
            self.last_try = self.clock() - max(0.0, float(age))
        return self.last_try + backoff_seconds(interval, self.failures)

    def tick(self) -> float:
        """Sync if it is time. Returns how many seconds to wait before looking again."""
        settings = live_settings(self.db)
        source = connected_source(self.db)
        if not settings.enabled or source is None:
            self._due = None
            return min(settings.seconds, LOOK_AGAIN)
        due = self.due_at(settings.seconds)
        self._due = due
        now = self.clock()
        if now < due:
            return min(due - now, LOOK_AGAIN)
        try:
            with sync_slot(self.db, AUTO_ACTOR, wait=0):
                self.runs += 1
                outcome = background_sync(self.db, source, self.credentials, self.client_options)
        except SyncBusy:
            return min(settings.seconds, LOOK_AGAIN)  # another sync runs now: look again soon
        except Exception:
            self._record("error", ok=False)
            raise
        self._record(outcome, ok=outcome != "failed")
        self._due = self.due_at(settings.seconds)
        return max(0.0, min(self._due - self.clock(), LOOK_AGAIN))

    def _record(self, outcome: str, *, ok: bool) -> None:
        self.last_try = self.clock()
        self.failures = 0 if ok else self.failures + 1
        self.outcomes = (self.outcomes + [outcome])[-50:]

    def _run(self) -> None:
        log.info("Kleroterion: the automatic sync of %s has started", self.db.path)
        try:
            while not self._stop.is_set():
                try:
                    wait = self.tick()
                except (duckdb.ConnectionException, duckdb.InvalidInputException) as e:
                    if "closed" in str(e).lower():
                        log.info("Kleroterion: the database was closed; the automatic sync stops")
                        return
                    self.errors += 1
                    log.exception("Kleroterion: the automatic sync ran into an error; it carries on")
                    wait = LOOK_AGAIN
                except Exception:  # noqa: BLE001 - never die silently: log and carry on (backing off)
                    self.errors += 1
                    log.exception("Kleroterion: the automatic sync ran into an unexpected error; it carries on")
                    wait = LOOK_AGAIN
                if self._wake.wait(max(0.05, wait)):
                    self._wake.clear()
        finally:
            log.info("Kleroterion: the automatic sync of %s has stopped", self.db.path)


_WORKERS: dict[str, LiveSync] = {}
_WORKERS_LOCK = threading.Lock()


def worker_for(db: Database) -> LiveSync | None:
    with _WORKERS_LOCK:
        worker = _WORKERS.get(db.path)
    return worker if worker is not None and worker.db is db and worker.alive() else None


def ensure_worker(db: Database, *, credentials: dict | None = None, client_options: dict | None = None) -> LiveSync:
    """The background sync of ``db`` in this process, started if needed (one thread per database).
    ``credentials`` (the Google service account key), when given, replace the ones it has."""
    with _WORKERS_LOCK:
        worker = _WORKERS.get(db.path)
        if worker is None or worker.db is not db or not worker.alive():
            if worker is not None:
                worker.stop(timeout=0)
            worker = LiveSync(db, credentials=credentials, client_options=client_options)
            _WORKERS[db.path] = worker
            worker.start()
    if credentials:
        worker.credentials = dict(credentials)
    if client_options is not None:
        worker.client_options = dict(client_options)
    return worker


def start_if_connected(db: Database, *, credentials: dict | None = None) -> LiveSync | None:
    """Start the background sync when a sheet is connected (the app's first use of a database);
    refresh its key when it runs already."""
    worker = worker_for(db)
    if worker is not None:
        if credentials:
            worker.credentials = dict(credentials)
        return worker
    if connected_source(db) is None:
        return None
    return ensure_worker(db, credentials=credentials)


def stop_all(timeout: float = 30.0) -> None:
    """Stop every background sync of this process (tests)."""
    with _WORKERS_LOCK:
        workers = list(_WORKERS.values())
        _WORKERS.clear()
    for worker in workers:
        worker.stop(timeout)
