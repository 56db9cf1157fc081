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

One sync has one deadline (``deadline`` seconds from ``make_client``, retries included): each
request's timeouts are cut to the time left, the answer is read in pieces with the clock checked
between them (a server sending a byte every few seconds cannot hold a sync for minutes), no retry
starts after the deadline, and messages say the true time waited. An answer larger than
``max_bytes`` is refused. A "200 OK" that is a web page rather than Google's JSON (a venue's
Wi-Fi sign-in page catching the request) gets its own plain message.

Every failure becomes a ``SheetsError`` (a ``lib.errors.UserError``) whose text says, in
plain words, what happened and what to do.
"""

from __future__ import annotations

import json
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
SECRETS_SECTION = "gcp_service_account"  # the table in .streamlit/secrets.toml
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


class NotJsonError(SheetsError):
    pass


class SheetsDeadlineError(NetworkError):
    pass


CAPTIVE_PORTAL = (
    "The network returned a web page instead of the sheet: are you signed in to the venue's Wi-Fi? "
    "Open any website in your browser; if a sign-in or “accept the terms” page appears, complete it, "
    "then try again. (Kleroterion asked Google Sheets for the sign-ups, and something on the way "
    "answered with a web page.)"
)


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
            raise BadAddressError(
                "Paste the Google Sheet's web address first (it looks like https://docs.google.com/spreadsheets/d/…)."
            )
        if _KEY_RE.match(text):
            return text
        try:
            return gspread.utils.extract_id_from_url(text)
        except gspread.exceptions.NoValidUrlKeyFound:
            raise BadAddressError(
                f"“{text}” does not look like the address of a Google Sheet. Open the sheet in your browser "
                "and copy the whole address from the address bar (it contains /spreadsheets/d/)."
            ) from None


# --- the client -------------------------------------------------------------------------


class BoundedRetryHTTPClient(HTTPClient):
    """gspread's HTTP client with a configurable API base, timeouts, a bounded retry and a deadline."""

    api_base: str | None = None
    retries: int = 4
    backoff: float = 1.0
    max_wait: float = 16.0
    deadline_seconds: float | None = None  # the whole sync, retries included
    max_bytes: int | None = None
    started: float = 0.0  # time.monotonic() when the client was made
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def remaining(self) -> float:
        if self.deadline_seconds is None:
            return float("inf")
        return self.started + self.deadline_seconds - time.monotonic()

    def _past_deadline(self) -> "SheetsDeadlineError":
        from lib.recruitment.signups.sources import deadline_message

        return SheetsDeadlineError(
            deadline_message("The sheet", time.monotonic() - self.started, self.deadline_seconds or 0)
        )

    def request(
        self, method: str, endpoint: str, params=None, data=None, json=None, files=None, headers=None
    ) -> requests.Response:
        if self.api_base:
            endpoint = endpoint.replace(GOOGLE_SHEETS_BASE, self.api_base, 1)
        attempt = 0
        while True:
            left = self.remaining()
            if left <= 0:
                raise self._past_deadline()
            timeout = self.timeout if isinstance(self.timeout, (int, float)) and self.timeout else 30.0
            timeout = max(0.05, min(float(timeout), left))
            try:
                response = self.session.request(
                    method=method,
                    url=endpoint,
                    json=json,
                    params=params,
                    data=data,
                    files=files,
                    headers=headers,
                    timeout=timeout,
                    stream=True,
                )
                self._read_body(response)
                if response.ok:
                    self._check_json(response)
                    return response
                raise APIError(response)
            except APIError as err:
                status = err.response.status_code
                if status not in RETRY_STATUSES or attempt >= self.retries:
                    raise
                wait = self._wait(attempt, err.response.headers.get("Retry-After"))
                last: BaseException = err
            except (requests.ConnectionError, requests.Timeout) as err:
                if attempt >= self.retries:
                    raise
                wait = self._wait(attempt, None)
                last = err
            attempt += 1
            if wait >= self.remaining():
                raise last  # no time left for another try: the last failure says why
            self.sleep(wait)

    def _read_body(self, response: requests.Response) -> None:
        """Read the answer in pieces, checking the deadline and the size between them."""
        from urllib3.exceptions import HTTPError as Urllib3Error, ReadTimeoutError

        raw = response.raw
        chunks, size = [], 0
        try:
            while True:
                if self.remaining() <= 0:
                    response.close()
                    raise self._past_deadline()
                chunk = raw.read1(1 << 16) if hasattr(raw, "read1") else raw.read(1 << 16)
                if not chunk:
                    break
                size += len(chunk)
                if self.max_bytes is not None and size > self.max_bytes:
                    response.close()
                    from lib.recruitment.signups.limits import megabytes

                    raise SheetsError(
                        f"Google Sheets sent more than {megabytes(self.max_bytes)} for this sheet, far "
                        "more than a sheet of sign-ups needs. Check that you chose the right tab."
                    )
                chunks.append(chunk)
        except ReadTimeoutError:
            raise requests.Timeout() from None
        except Urllib3Error:
            raise requests.ConnectionError() from None
        response._content = b"".join(chunks)
        response._content_consumed = True

    @staticmethod
    def _check_json(response: requests.Response) -> None:
        ctype = response.headers.get("Content-Type", "").lower()
        body = response.content.lstrip()[:1]
        if response.status_code == 204 or not response.content:
            return
        if "json" not in ctype or body not in (b"{", b"["):
            raise NotJsonError(CAPTIVE_PORTAL)

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        wait = self.backoff * (2**attempt)
        if retry_after:
            try:
                wait = max(wait, float(retry_after))  # the server knows best, within max_wait
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
            "line of the key file you downloaded from Google into that section (docs/GOOGLE_SHEETS.md shows how)."
        )
    if api_base and info["token_uri"].rstrip("/") == GOOGLE_TOKEN_URI:
        info["token_uri"] = api_base.rstrip("/") + "/token"
    try:
        return Credentials.from_service_account_info(info, scopes=list(SCOPES))
    except (ValueError, TypeError, KeyError) as e:
        raise CredentialsError(
            "The private key of the Google service account in .streamlit/secrets.toml (the [gcp_service_account] "
            f"section) could not be read ({type(e).__name__}). Paste the private_key exactly as it is in the key "
            "file, between triple quotes, including the BEGIN and END lines."
        ) from None


class _Client(gspread.Client):
    """gspread's client, with what Kleroterion's messages and deadlines read back from it."""

    service_account_email: str  # for messages
    kl_timeout: float  # seconds per request
    kl_started: float  # time.monotonic() when the client was made
    kl_deadline: float | None  # seconds from kl_started that everything must end within


def make_client(
    credentials_info: dict,
    *,
    api_base: str | None = None,
    timeout: float = 30,
    retries: int = 4,
    backoff: float = 1.0,
    max_wait: float = 16.0,
    deadline: float | None = None,
    max_bytes: int | None = None,
) -> gspread.Client:
    """The real gspread client for a service account, with timeouts, a bounded retry and a deadline.

    ``deadline``: seconds from now that everything this client does must end within (None: no
    overall deadline, only the per-request ``timeout``)."""
    creds = _credentials(credentials_info, api_base)
    base = api_base.rstrip("/") if api_base else None
    started = time.monotonic()
    cls = type(
        "KleroterionHTTPClient",
        (BoundedRetryHTTPClient,),
        {
            "api_base": base,
            "retries": max(0, int(retries)),
            "backoff": float(backoff),
            "max_wait": float(max_wait),
            "deadline_seconds": deadline,
            "max_bytes": max_bytes,
            "started": started,
        },
    )
    client = _Client(auth=creds, http_client=cls)
    client.set_timeout(timeout)
    client.service_account_email = creds.service_account_email  # for messages
    client.kl_timeout = timeout
    client.kl_started = started
    client.kl_deadline = deadline
    _bound_token_requests(creds, client)
    return client


def _bound_token_requests(creds, client: _Client) -> None:
    """The sign-in (token) request goes through google-auth's own session: give it the same deadline."""
    session = client.http_client.session
    auth_request = getattr(session, "_auth_request", None)
    if auth_request is None:
        return
    plain = auth_request.__call__

    def bounded_call(self, url, method="GET", body=None, headers=None, timeout=None, **kwargs):
        left = float("inf") if client.kl_deadline is None else client.kl_started + client.kl_deadline - time.monotonic()
        if left <= 0:
            raise requests.Timeout()
        timeout = min(timeout or 120, left, client.kl_timeout or 30)
        response = plain(url, method=method, body=body, headers=headers, timeout=timeout, **kwargs)
        data = getattr(response, "data", b"") or b""
        if getattr(response, "status", None) == 200 and data.lstrip()[:1] not in (b"{", b"["):
            raise NotJsonError(CAPTIVE_PORTAL)  # a sign-in page where Google's token should be
        return response

    # google-auth's request class, with its calls bounded (made with type(): the base is only known here)
    auth_request.__class__ = type("_Bounded", (type(auth_request),), {"__call__": bounded_call})


def service_account_email(client: gspread.Client) -> str:
    return getattr(client, "service_account_email", None) or "the service account's email address"


# --- turning failures into plain words --------------------------------------------------


def _translate(
    err: BaseException, client: gspread.Client, ref: SheetRef, doing: str, started: float | None = None
) -> SheetsError:
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
            "service account, put it in the [gcp_service_account] section, restart the app and try again."
        )
    if isinstance(err, (json.JSONDecodeError, requests.exceptions.JSONDecodeError)) or (
        isinstance(err, gexc.GoogleAuthError) and _looks_like_html(err)
    ):
        return NotJsonError(CAPTIVE_PORTAL)
    if isinstance(err, (requests.Timeout,)) or (
        isinstance(err, gexc.TransportError) and "timed out" in str(err).lower()
    ):
        return _timed_out(client, doing, started)
    if isinstance(err, (requests.ConnectionError, gexc.TransportError)):
        return NetworkError(
            f"Kleroterion could not reach Google Sheets while {doing}: the computer seems to have no internet "
            "connection, or Google cannot be reached from it. Check the connection and try again."
        )
    if isinstance(err, APIError):
        return _refused(err, ref, email, doing)
    return SheetsError(
        f"Kleroterion could not read the answer from Google Sheets while {doing} (it was cut off or "
        "garbled on the way). Check the internet connection and try again in a minute."
    )


def _timed_out(client: gspread.Client, doing: str, started: float | None) -> SheetsError:
    """A request that timed out: the whole sync's deadline, or this one request's wait."""
    now = time.monotonic()
    in_all = now - getattr(client, "kl_started", now)
    deadline = getattr(client, "kl_deadline", None)
    if deadline is not None and in_all >= deadline - 0.5:
        from lib.recruitment.signups.sources import deadline_message

        return SheetsDeadlineError(deadline_message("The sheet", in_all, deadline))
    waited = now - (started if started is not None else now)
    shown = f"{waited:.1f}" if waited < 10 else f"{waited:.0f}"
    return NetworkError(
        f"Google Sheets did not answer within {shown} seconds while {doing}. "
        "Check the internet connection and try again in a minute."
    )


def _refused(err: APIError, ref: SheetRef, email: str, doing: str) -> SheetsError:
    """Google's answer with an error status, in plain words (one message per status)."""
    status = err.response.status_code
    if status == 429:
        return RateLimitedError(
            "Google Sheets is refusing requests because too many were made (429) — wait a minute and sync "
            "again; your last good data is kept."
        )
    if status == 404:
        return _not_found(ref, email, 404)
    if status == 403:
        return _not_found(ref, email, 403)
    if status == 401:
        return CredentialsError(
            f"Google did not accept the service account's sign-in ({email}). Check the "
            "[gcp_service_account] section of .streamlit/secrets.toml, restart the app and try again."
        )
    if status >= 500 or status == 408:
        return GoogleUnavailableError(
            f"Google Sheets had a problem on its side (error {status}) several times in a row while {doing}. "
            "This usually passes: try again in a few minutes."
        )
    return SheetsError(
        f"Google Sheets refused the request while {doing} (error {status}: {err.error.get('message', '')})."
    )


def _looks_like_html(err: BaseException) -> bool:
    text = " ".join(str(a) for a in getattr(err, "args", ()))
    return (
        "<html" in text.lower() or "<!doctype" in text.lower() or "JSONDecodeError" in text or "Expecting value" in text
    )


def _not_found(ref: SheetRef, email: str, status: int) -> SpreadsheetNotFoundError:
    what = "cannot be found" if status == 404 else "is not shared with Kleroterion"
    return SpreadsheetNotFoundError(
        f"The spreadsheet {ref.spreadsheet.strip()} {what}. Check the address, and share the sheet with "
        f"{email} (in Google Sheets: Share, paste that address, choose Viewer — or Editor if the draw results "
        "are to be written back)."
    )


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
    if len(close) == 1:  # "Form responses 1" vs "Form Responses 1"
        return close[0]
    names = ", ".join(f"“{ws.title}”" for ws in sheets)
    raise WorksheetMissingError(
        f"The spreadsheet “{sh.title}” has no tab called “{title}”. Its tabs are: {names}. "
        "Type the tab's name exactly as it is shown at the bottom of the sheet."
    )


def _guard(client: gspread.Client, ref: SheetRef, doing: str, fn: Callable[[], Any]) -> Any:
    from google.auth import exceptions as gexc

    started = time.monotonic()
    try:
        return fn()
    except (
        SheetsError,
        SpreadsheetNotFound,
        PermissionError,
        APIError,
        requests.RequestException,
        gexc.GoogleAuthError,
        json.JSONDecodeError,
    ) as e:
        raise _translate(e, client, ref, doing, started) from None
    except WorksheetNotFound:  # pragma: no cover - _find_worksheet looks tabs up itself
        raise WorksheetMissingError(f"The spreadsheet has no tab called “{ref.worksheet}”.") from None


# --- reading ----------------------------------------------------------------------------


def fetch_values(client: gspread.Client, ref: SheetRef) -> list[list[str]]:
    """All cells of the worksheet as text (``get_all_values()``), rows padded to one width."""

    def read() -> tuple[str, list[list[str]]]:
        ws = _find_worksheet(_open(client, ref), ref.worksheet)
        return ws.title, ws.get_all_values(value_render_option=gspread.utils.ValueRenderOption.formatted)

    title, values = _guard(client, ref, "reading the sheet", read)
    while values and not any(values[-1]):  # an empty tab comes back as [[]]
        values.pop()
    if not values:
        raise EmptySheetError(
            f"The tab “{title}” is empty: it has not even a row of questions. Check that you chose the tab "
            "that the form writes its answers to."
        )
    return values


# --- writing back -----------------------------------------------------------------------


def write_worksheet(
    client: gspread.Client, ref: SheetRef, title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]
) -> str:
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
