"""Google Sheets through the real gspread client: read sign-ups, write results back.

* ``make_client(credentials_info, api_base=None, timeout=30, retries=4)`` builds a
  gspread ``Client`` for a service account. Every request has a timeout, and a request
  that Google refuses for now (429 "too many requests", 408, any 5xx) or that does not
  get through (connection refused, timed out) is tried again at most ``retries`` times,
  waiting ``backoff``, 2×``backoff``, 4×``backoff`` … seconds (at most ``max_wait`` each,
  or what the server asks for in ``Retry-After`` if that is shorter). gspread's own
  ``BackOffHTTPClient`` is not used: it retries for ever.
* ``api_base`` (e.g. ``http://127.0.0.1:8765``) sends every Sheets API request there
  instead of ``https://sheets.googleapis.com``; a service-account key whose token address
  is Google's own then gets its access token from ``{api_base}/token`` too. Tests use it to
  point the real client at the fake Sheets server in ``tests/fakesheets``.
* ``fetch_values(client, ref)`` is ``get_all_values()``: every cell as the text shown in
  the sheet (``FORMATTED_VALUE``), so "01234" keeps its leading zero.
* ``write_worksheet(client, ref, title, header, rows)`` creates the worksheet ``title``
  (or empties it) and writes the header and rows as plain text (``RAW``: a cell that
  starts with "=" is never run as a formula).

Every failure becomes a ``SheetsError`` (a ``lib.errors.UserError``) whose text says, in
plain words, what happened and what to do.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Callable, Sequence

import gspread
import requests
from gspread.exceptions import APIError, SpreadsheetNotFound, WorksheetNotFound
from gspread.http_client import HTTPClient

from lib.errors import UserError

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
GOOGLE_SHEETS_BASE = "https://sheets.googleapis.com"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
SECRETS_SECTION = "gcp_service_account"     # the table in .streamlit/secrets.toml
RETRY_STATUSES = frozenset({HTTPStatus.REQUEST_TIMEOUT, HTTPStatus.TOO_MANY_REQUESTS, 500, 502, 503, 504})


# --- errors ---------------------------------------------------------------------------

class SheetsError(UserError):
    """Any problem reading or writing a Google Sheet; ``str()`` is the message to show."""


class BadAddressError(SheetsError):
    pass


class SpreadsheetNotFoundError(SheetsError):
    pass


class WorksheetMissingError(SheetsError):
    pass


class CredentialsError(SheetsError):
    pass


class NetworkError(SheetsError):
    pass


class RateLimitedError(SheetsError):
    pass


class GoogleUnavailableError(SheetsError):
    pass


class EmptySheetError(SheetsError):
    pass


# --- the sheet a group uses -------------------------------------------------------------

_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{20,}$")


@dataclass(frozen=True)
class SheetRef:
    """A spreadsheet (its web address or its key) and a worksheet (tab) title; None = the first tab."""
    spreadsheet: str
    worksheet: str | None = None

    @property
    def key(self) -> str:
        text = (self.spreadsheet or "").strip()
        if not text:
            raise BadAddressError("Paste the Google Sheet's web address first "
                                  "(it looks like https://docs.google.com/spreadsheets/d/…).")
        if _KEY_RE.match(text):
            return text
        try:
            return gspread.utils.extract_id_from_url(text)
        except gspread.exceptions.NoValidUrlKeyFound:
            raise BadAddressError(
                f"“{text}” does not look like the address of a Google Sheet. Open the sheet in your browser "
                "and copy the whole address from the address bar (it contains /spreadsheets/d/).") from None


# --- the client -------------------------------------------------------------------------

class BoundedRetryHTTPClient(HTTPClient):
    """gspread's HTTP client with a configurable API base, a timeout and a bounded retry."""

    api_base: str | None = None
    retries: int = 4
    backoff: float = 1.0
    max_wait: float = 16.0
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:
        if self.api_base:
            endpoint = endpoint.replace(GOOGLE_SHEETS_BASE, self.api_base, 1)
        attempt = 0
        while True:
            try:
                return super().request(method, endpoint, *args, **kwargs)
            except APIError as err:
                status = err.response.status_code
                if status not in RETRY_STATUSES or attempt >= self.retries:
                    raise
                wait = self._wait(attempt, err.response.headers.get("Retry-After"))
            except (requests.ConnectionError, requests.Timeout):
                if attempt >= self.retries:
                    raise
                wait = self._wait(attempt, None)
            attempt += 1
            self.sleep(wait)

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        wait = self.backoff * (2 ** attempt)
        if retry_after:
            try:
                wait = max(wait, float(retry_after))     # the server knows best, within max_wait
            except ValueError:
                pass
        return max(0.0, min(wait, self.max_wait))


def _credentials(info: dict, api_base: str | None):
    from google.oauth2.service_account import Credentials

    info = dict(info or {})
    missing = [k for k in ("client_email", "private_key", "token_uri") if not str(info.get(k) or "").strip()]
    if missing:
        raise CredentialsError(
            "The Google service account key in .streamlit/secrets.toml (the [gcp_service_account] section) "
            f"is incomplete: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing. Copy every "
            "line of the key file you downloaded from Google into that section (docs/GOOGLE_SHEETS.md shows how).")
    if api_base and info["token_uri"].rstrip("/") == GOOGLE_TOKEN_URI:
        info["token_uri"] = api_base.rstrip("/") + "/token"
    try:
        return Credentials.from_service_account_info(info, scopes=list(SCOPES))
    except (ValueError, TypeError, KeyError) as e:
        raise CredentialsError(
            "The private key of the Google service account in .streamlit/secrets.toml (the [gcp_service_account] "
            f"section) could not be read ({type(e).__name__}). Paste the private_key exactly as it is in the key "
            "file, between triple quotes, including the BEGIN and END lines.") from None


def make_client(credentials_info: dict, *, api_base: str | None = None, timeout: float = 30,
                retries: int = 4, backoff: float = 1.0, max_wait: float = 16.0) -> gspread.Client:
    """The real gspread client for a service account, with a timeout and a bounded retry."""
    creds = _credentials(credentials_info, api_base)
    base = api_base.rstrip("/") if api_base else None
    cls = type("KleroterionHTTPClient", (BoundedRetryHTTPClient,),
               {"api_base": base, "retries": max(0, int(retries)), "backoff": float(backoff),
                "max_wait": float(max_wait)})
    client = gspread.Client(auth=creds, http_client=cls)
    client.set_timeout(timeout)
    client.service_account_email = creds.service_account_email     # for messages
    client.kl_timeout = timeout
    return client


def service_account_email(client: gspread.Client) -> str:
    return getattr(client, "service_account_email", None) or "the service account's email address"


# --- turning failures into plain words --------------------------------------------------

def _translate(err: BaseException, client: gspread.Client, ref: SheetRef, doing: str) -> SheetsError:
    from google.auth import exceptions as gexc

    email = service_account_email(client)
    if isinstance(err, SheetsError):
        return err
    if isinstance(err, (SpreadsheetNotFound, PermissionError)):
        status = 404 if isinstance(err, SpreadsheetNotFound) else 403
        return _not_found(ref, email, status)
    if isinstance(err, gexc.RefreshError):
        return CredentialsError(
            f"Google did not accept the service account key in .streamlit/secrets.toml ({email}): "
            "the key may have been deleted or replaced, or copied incompletely. Create a new key for the "
            "service account, put it in the [gcp_service_account] section, restart the app and try again.")
    if isinstance(err, (requests.Timeout,)) or (isinstance(err, gexc.TransportError) and "timed out" in str(err).lower()):
        return NetworkError(
            f"Google Sheets did not answer within {getattr(client, 'kl_timeout', 30):g} seconds while {doing}. "
            "Check the internet connection and try again in a minute.")
    if isinstance(err, (requests.ConnectionError, gexc.TransportError)):
        return NetworkError(
            f"Kleroterion could not reach Google Sheets while {doing}: the computer seems to have no internet "
            "connection, or Google cannot be reached from it. Check the connection and try again.")
    if isinstance(err, APIError):
        status = err.response.status_code
        if status == 429:
            return RateLimitedError(
                "Google Sheets is refusing requests because too many were made (429) — wait a minute and sync "
                "again; your last good data is kept.")
        if status == 404:
            return _not_found(ref, email, 404)
        if status == 403:
            return _not_found(ref, email, 403)
        if status == 401:
            return CredentialsError(
                f"Google did not accept the service account's sign-in ({email}). Check the "
                "[gcp_service_account] section of .streamlit/secrets.toml, restart the app and try again.")
        if status >= 500 or status == 408:
            return GoogleUnavailableError(
                f"Google Sheets had a problem on its side (error {status}) several times in a row while {doing}. "
                "This usually passes: try again in a few minutes.")
        return SheetsError(f"Google Sheets refused the request while {doing} (error {status}: "
                           f"{err.error.get('message', '')}).")
    raise err


def _not_found(ref: SheetRef, email: str, status: int) -> SpreadsheetNotFoundError:
    what = "cannot be found" if status == 404 else "is not shared with Kleroterion"
    return SpreadsheetNotFoundError(
        f"The spreadsheet {ref.spreadsheet.strip()} {what}. Check the address, and share the sheet with "
        f"{email} (in Google Sheets: Share, paste that address, choose Viewer — or Editor if the draw results "
        "are to be written back).")


def _open(client: gspread.Client, ref: SheetRef) -> gspread.Spreadsheet:
    return client.open_by_key(ref.key)


def _find_worksheet(sh: gspread.Spreadsheet, title: str | None) -> gspread.Worksheet:
    sheets = sh.worksheets()
    if not sheets:
        raise WorksheetMissingError(f"The spreadsheet “{sh.title}” has no tabs at all.")
    if not title or not title.strip():
        return sheets[0]
    for ws in sheets:
        if ws.title == title:
            return ws

    def norm(s: str) -> str:
        return " ".join(s.split()).casefold()

    close = [ws for ws in sheets if norm(ws.title) == norm(title)]
    if len(close) == 1:   # "Form responses 1" vs "Form Responses 1"
        return close[0]
    names = ", ".join(f"“{ws.title}”" for ws in sheets)
    raise WorksheetMissingError(
        f"The spreadsheet “{sh.title}” has no tab called “{title}”. Its tabs are: {names}. "
        "Type the tab's name exactly as it is shown at the bottom of the sheet.")


def _guard(client: gspread.Client, ref: SheetRef, doing: str, fn: Callable[[], Any]) -> Any:
    from google.auth import exceptions as gexc

    try:
        return fn()
    except (SheetsError, SpreadsheetNotFound, PermissionError, APIError, requests.RequestException,
            gexc.GoogleAuthError) as e:
        raise _translate(e, client, ref, doing) from None
    except WorksheetNotFound:   # pragma: no cover - _find_worksheet looks tabs up itself
        raise WorksheetMissingError(f"The spreadsheet has no tab called “{ref.worksheet}”.") from None


# --- reading ----------------------------------------------------------------------------

def fetch_values(client: gspread.Client, ref: SheetRef) -> list[list[str]]:
    """All cells of the worksheet as text (``get_all_values()``), rows padded to one width."""
    def read() -> tuple[str, list[list[str]]]:
        ws = _find_worksheet(_open(client, ref), ref.worksheet)
        return ws.title, ws.get_all_values(value_render_option=gspread.utils.ValueRenderOption.formatted)

    title, values = _guard(client, ref, "reading the sheet", read)
    while values and not any(values[-1]):      # an empty tab comes back as [[]]
        values.pop()
    if not values:
        raise EmptySheetError(
            f"The tab “{title}” is empty: it has not even a row of questions. Check that you chose the tab "
            "that the form writes its answers to.")
    return values


# --- writing back -----------------------------------------------------------------------

def write_worksheet(client: gspread.Client, ref: SheetRef, title: str, header: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> str:
    """Create the tab ``title`` in ``ref``'s spreadsheet (or empty it) and write header + rows as text."""
    title = (title or "").strip()
    if not title:
        raise SheetsError("Give the new tab a name.")
    values = [[_cell(c) for c in header]] + [[_cell(c) for c in r] for r in rows]
    n_rows, n_cols = len(values), max(1, max(len(r) for r in values))

    def write() -> str:
        sh = _open(client, ref)
        existing = next((ws for ws in sh.worksheets() if ws.title == title), None)
        if existing is None:
            ws = sh.add_worksheet(title=title, rows=max(n_rows, 1), cols=n_cols)
        else:
            ws = existing
            ws.clear()
            if ws.row_count < n_rows or ws.col_count < n_cols:
                ws.resize(rows=max(ws.row_count, n_rows), cols=max(ws.col_count, n_cols))
        ws.update(values, "A1", raw=True)
        return ws.title

    return _guard(client, ref, f"writing the tab “{title}”", write)


def _cell(v: Any) -> str:
    return "" if v is None else str(v)
