"""A fake Google Sheets v4 API on 127.0.0.1, for the real gspread client.

It serves what Kleroterion's ``lib.recruitment.signups.sheets`` uses, the way Google answers it:

* ``POST /token``: the OAuth token endpoint for a service account. The JWT assertion is
  checked against the public key of the throw-away RSA key the tests generated
  (``FakeSheets.service_account_info()``); a wrong key gets ``400 invalid_grant``.
* ``GET /v4/spreadsheets/{id}``: metadata (title, tabs with their grid size).
* ``GET /v4/spreadsheets/{id}/values/{range}``, ``values:batchGet``: cells as text,
  trailing empty cells and rows left out (so rows come back ragged, as from Google).
* ``POST /v4/spreadsheets/{id}:batchUpdate``: ``addSheet``, ``updateSheetProperties``
  (resize), ``deleteSheet``.
* ``PUT .../values/{range}`` (update), ``POST .../values/{range}:append``,
  ``POST .../values/{range}:clear``.
* ``GET /published/{id}?output=csv``: the first tab "published to the web" as CSV
  (``output=html``: a web page, as when the wrong format was chosen).

Every API call needs ``Authorization: Bearer <a token this server issued>``.

Failures are scripted with ``fail(status, times=n, path=...)`` (404, 429, 500, …: the next
``n`` matching requests get that status) and ``delay`` (seconds before each API answer).
Two more ways a network goes wrong: ``drip(seconds, path=...)`` sends every answer (token
included) one byte every ``seconds`` (a stuck proxy or a very bad line), and
``html_200(times=n, path=...)`` answers the next ``n`` matching requests with ``200 OK`` and
an HTML page (a venue's Wi-Fi sign-in page, a "captive portal", catching the request).
``requests`` records (method, path) of every request, for assertions; ``timed`` adds when each
started and ended (``time.monotonic()``) and its access token (each client, so each sync, signs in
afresh: requests with one token are one sync's), and ``max_in_flight`` is the most requests ever
being answered at the same moment.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CAPTIVE_PORTAL = (b"<!DOCTYPE html><html><head><title>Welcome to the Town Hall Wi-Fi</title></head><body>"
                  b"<h1>Welcome!</h1><p>Please accept the terms to use the Wi-Fi.</p>"
                  b"<form method=post><button>Accept and connect</button></form></body></html>")

_KEY_CACHE: dict[str, tuple[str, object]] = {}


def throwaway_key(name: str = "default") -> tuple[str, object]:
    """(PEM private key, public key) of an RSA key made for the tests (cached per name)."""
    if name not in _KEY_CACHE:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        _KEY_CACHE[name] = (pem, key.public_key())
    return _KEY_CACHE[name]


def _b64d(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def _col_letters(index: int) -> str:
    out, index = "", index + 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


_CELL = re.compile(r"^([A-Za-z]*)(\d*)$")


@dataclass
class Tab:
    sheet_id: int
    title: str
    rows: list[list[str]] = field(default_factory=list)
    row_count: int = 1000
    col_count: int = 26


@dataclass
class Book:
    key: str
    title: str
    tabs: list[Tab] = field(default_factory=list)


@dataclass
class _Failure:
    status: int
    times: int
    path: str | None
    retry_after: str | None


class FakeSheets:
    """The fake server. Use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(self) -> None:
        self.books: dict[str, Book] = {}
        self.public_keys: dict[str, object] = {}      # client_email -> public key
        self.tokens: set[str] = set()
        self.failures: list[_Failure] = []
        self.delay = 0.0
        self.drip_seconds = 0.0                # > 0: answers are sent one byte every drip_seconds
        self.drip_path: str | None = None
        self.html_pages: list[_Failure] = []   # scripted "200 OK" web pages (captive portal)
        self.stopping = threading.Event()
        self.requests: list[tuple[str, str]] = []
        self.value_input_options: list[str | None] = []   # valueInputOption of every values update
        self.timed: list[tuple[str, str, float, float, str]] = []   # (method, path, started, ended, token)
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._next_sheet_id = 100
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> "FakeSheets":
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()                    # a dripping answer stops at once
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "FakeSheets":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd, "start the fake server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # --- set-up -------------------------------------------------------------------------
    def service_account_info(self, email: str = "kleroterion@test-project.iam.gserviceaccount.com",
                             key_name: str = "default", register: bool = True) -> dict:
        """A service-account key (as in the JSON file Google gives) whose token URI is this server."""
        pem, public = throwaway_key(key_name)
        if register:
            self.public_keys[email] = public
        return {
            "type": "service_account", "project_id": "test-project", "private_key_id": "k1",
            "private_key": pem, "client_email": email, "client_id": "1234567890",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.base_url + "/token",
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/kleroterion",
        }

    def add_spreadsheet(self, title: str = "Sign-ups", tabs: dict[str, list[list[str]]] | None = None,
                        key: str | None = None) -> str:
        key = key or "fake" + secrets.token_hex(16)
        book = Book(key, title)
        for tab_title, rows in (tabs if tabs is not None else {"Form responses 1": []}).items():
            book.tabs.append(self._new_tab(tab_title, rows))
        self.books[key] = book
        return key

    def url(self, key: str) -> str:
        return f"https://docs.google.com/spreadsheets/d/{key}/edit#gid=0"

    def tab(self, key: str, title: str) -> Tab:
        return next(t for t in self.books[key].tabs if t.title == title)

    def fail(self, status: int, times: int = 1, path: str | None = None, retry_after: str | None = None) -> None:
        """The next ``times`` API requests (whose path contains ``path``, if given) get ``status``."""
        self.failures.append(_Failure(status, times, path, retry_after))

    def drip(self, seconds: float, path: str | None = None) -> None:
        """Send answers (whose path contains ``path``, if given) one byte every ``seconds``."""
        self.drip_seconds, self.drip_path = seconds, path

    def html_200(self, times: int = 1, path: str | None = None) -> None:
        """The next ``times`` requests (whose path contains ``path``) get 200 OK and a web page."""
        self.html_pages.append(_Failure(200, times, path, None))

    def take_html(self, path: str) -> bool:
        with self._lock:
            for f in self.html_pages:
                if f.times > 0 and (f.path is None or f.path in path):
                    f.times -= 1
                    return True
        return False

    def _new_tab(self, title: str, rows: list[list[str]]) -> Tab:
        self._next_sheet_id += 1
        rows = [list(r) for r in rows]
        width = max([len(r) for r in rows] + [26])
        return Tab(self._next_sheet_id, title, rows, max(1000, len(rows)), width)

    # --- helpers for the handler ----------------------------------------------------------
    def take_failure(self, path: str) -> _Failure | None:
        with self._lock:
            for f in self.failures:
                if f.times > 0 and (f.path is None or f.path in path):
                    f.times -= 1
                    return f
        return None

    def check_assertion(self, assertion: str) -> tuple[bool, str]:
        try:
            head, body, sig = assertion.split(".")
            header = json.loads(_b64d(head))
            claims = json.loads(_b64d(body))
        except (ValueError, json.JSONDecodeError):
            return False, "Invalid JWT."
        if header.get("alg") != "RS256":
            return False, "Invalid JWT algorithm."
        public = self.public_keys.get(claims.get("iss"))
        if public is None:
            return False, "Invalid grant: account not found"
        try:
            public.verify(_b64d(sig), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except Exception:
            return False, "Invalid JWT Signature."
        if claims.get("exp", 0) < time.time():
            return False, "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe."
        return True, ""


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):   # a client that gave up (timeout tests)
            super().handle_error(request, client_address)


def _a1(range_: str) -> tuple[str, int, int, int | None, int | None]:
    """"'Tab'!A1:C9" -> (tab, first row index, first col index, last row or None, last col or None)."""
    # gspread always names the tab: "'Tab'" or "'Tab'!A1:C9"
    title, cells = range_.rsplit("!", 1) if "!" in range_ else (range_, "")
    if title.startswith("'") and title.endswith("'"):
        title = title[1:-1].replace("''", "'")
    r0, c0, r1, c1 = 0, 0, None, None
    if cells:
        start, _, end = cells.partition(":")
        m = _CELL.match(start)
        if m:
            c0 = _col_index(m.group(1)) if m.group(1) else 0
            r0 = int(m.group(2)) - 1 if m.group(2) else 0
        if end:
            m = _CELL.match(end)
            if m:
                c1 = _col_index(m.group(1)) if m.group(1) else None
                r1 = int(m.group(2)) - 1 if m.group(2) else None
    return title, r0, c0, r1, c1


def _trim(rows: list[list[str]]) -> list[list[str]]:
    """As Google answers: no trailing empty cells in a row, no trailing empty rows."""
    out = []
    for r in rows:
        r = list(r)
        while r and r[-1] == "":
            r.pop()
        out.append(r)
    while out and not out[-1]:
        out.pop()
    return out


def _handler(fake: FakeSheets):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:   # quiet
            pass

        # --- plumbing ------------------------------------------------------------------
        def _send(self, status: int, body: dict | None = None, headers: dict | None = None,
                  raw: bytes | None = None, ctype: str = "application/json; charset=UTF-8") -> None:
            data = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if fake.drip_seconds > 0 and (fake.drip_path is None or fake.drip_path in self.path):
                for i in range(len(data)):           # a byte at a time, for as long as it takes
                    if fake.stopping.wait(fake.drip_seconds):
                        return
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                return
            self.wfile.write(data)

        def _error(self, status: int, message: str, reason: str, headers: dict | None = None) -> None:
            self._send(status, {"error": {"code": status, "message": message, "status": reason}}, headers)

        def _body(self) -> bytes:
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_PUT(self) -> None:
            self._dispatch("PUT")

        def _dispatch(self, method: str) -> None:
            started = time.monotonic()
            with fake._lock:
                fake.in_flight += 1
                fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
            try:
                self._answer(method)
            finally:
                with fake._lock:
                    fake.in_flight -= 1
                    fake.timed.append((method, unquote(urlsplit(self.path).path), started, time.monotonic(),
                                       self.headers.get("Authorization", "")[len("Bearer "):]))

        def _answer(self, method: str) -> None:
            parts = urlsplit(self.path)
            raw_path, query = parts.path, parse_qs(parts.query)
            body = self._body()
            fake.requests.append((method, unquote(raw_path)))
            if fake.take_html(unquote(raw_path)):
                return self._send(200, raw=CAPTIVE_PORTAL, ctype="text/html; charset=utf-8")
            if raw_path == "/token" and method == "POST":
                return self._token(body)
            if raw_path.startswith("/published/") and method == "GET":
                return self._published(unquote(raw_path[len("/published/"):]), query)
            if not raw_path.startswith("/v4/spreadsheets/"):
                return self._error(404, "Not found", "NOT_FOUND")
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in fake.tokens:
                return self._error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
            failure = fake.take_failure(unquote(raw_path))
            if fake.delay:
                time.sleep(fake.delay)
            if failure:
                messages = {429: ("Quota exceeded for quota metric 'Read requests'", "RESOURCE_EXHAUSTED"),
                            404: ("Requested entity was not found.", "NOT_FOUND"),
                            403: ("The caller does not have permission", "PERMISSION_DENIED")}
                msg, reason = messages.get(failure.status, ("Internal error encountered.", "INTERNAL"))
                return self._error(failure.status, msg, reason,
                                   {"Retry-After": failure.retry_after} if failure.retry_after else None)
            rest = raw_path[len("/v4/spreadsheets/"):]
            key, sep, tail = rest.partition("/")
            action = None
            if not sep and ":" in key:
                key, action = key.split(":", 1)
            book = fake.books.get(unquote(key))
            if book is None:
                return self._error(404, "Requested entity was not found.", "NOT_FOUND")
            try:
                payload = json.loads(body) if body else {}
            except json.JSONDecodeError:
                return self._error(400, "Invalid JSON payload received.", "INVALID_ARGUMENT")
            with fake._lock:
                if not sep and action is None and method == "GET":
                    return self._send(200, self._metadata(book))
                if action == "batchUpdate" and method == "POST":
                    return self._batch_update(book, payload)
                if tail == "values:batchGet" and method == "GET":
                    ranges = [self._read(book, r) for r in query.get("ranges", [])]
                    if any(r is None for r in ranges):
                        return
                    return self._send(200, {"spreadsheetId": book.key, "valueRanges": ranges})
                if tail.startswith("values/"):
                    rng = tail[len("values/"):]
                    verb = None
                    if rng.endswith(":clear") or rng.endswith(":append"):
                        rng, verb = rng.rsplit(":", 1)
                    rng = unquote(rng)
                    if method == "GET" and verb is None:
                        out = self._read(book, rng)
                        return None if out is None else self._send(200, out)
                    if method == "PUT" and verb is None:
                        return self._write(book, rng, payload.get("values") or [], query)
                    if method == "POST" and verb == "append":
                        return self._append(book, rng, payload.get("values") or [])
                    if method == "POST" and verb == "clear":
                        return self._clear(book, rng)
            return self._error(404, f"Not found: {method} {raw_path}", "NOT_FOUND")

        # --- "published to the web" --------------------------------------------------------
        def _published(self, key: str, query: dict) -> None:
            """/published/{key}?output=csv (first tab) or output=html: no sign-in, as on Google."""
            import csv
            import io

            book = fake.books.get(key)
            failure = fake.take_failure("/published/" + key)
            if fake.delay:
                time.sleep(fake.delay)
            if book is None or failure:
                return self._error(failure.status if failure else 404, "Not found", "NOT_FOUND")
            if query.get("output", ["html"])[0] != "csv":
                data = b"<!DOCTYPE html><html><body><table><tr><td>a web page</td></tr></table></body></html>"
                ctype = "text/html; charset=utf-8"
            else:
                buf = io.StringIO()
                csv.writer(buf, lineterminator="\r\n").writerows(book.tabs[0].rows)
                data, ctype = buf.getvalue().encode(), "text/csv"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        # --- OAuth ------------------------------------------------------------------------
        def _token(self, body: bytes) -> None:
            form = parse_qs(body.decode())
            if form.get("grant_type", [""])[0] != "urn:ietf:params:oauth:grant-type:jwt-bearer":
                return self._send(400, {"error": "unsupported_grant_type"})
            ok, why = fake.check_assertion(form.get("assertion", [""])[0])
            if not ok:
                return self._send(400, {"error": "invalid_grant", "error_description": why})
            token = "ya29.fake-" + secrets.token_urlsafe(16)
            fake.tokens.add(token)
            self._send(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

        # --- spreadsheets -----------------------------------------------------------------
        def _metadata(self, book: Book) -> dict:
            return {
                "spreadsheetId": book.key,
                "properties": {"title": book.title, "locale": "en_GB", "timeZone": "Europe/London",
                               "autoRecalc": "ON_CHANGE"},
                "sheets": [{"properties": {"sheetId": t.sheet_id, "title": t.title, "index": i, "sheetType": "GRID",
                                           "gridProperties": {"rowCount": t.row_count, "columnCount": t.col_count}}}
                           for i, t in enumerate(book.tabs)],
                "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.key}/edit",
            }

        def _tab(self, book: Book, title: str) -> Tab | None:
            tab = next((t for t in book.tabs if t.title == title), None)
            if tab is None:
                self._error(400, f"Unable to parse range: {title}", "INVALID_ARGUMENT")
            return tab

        def _read(self, book: Book, rng: str) -> dict | None:
            title, r0, c0, r1, c1 = _a1(rng)
            tab = self._tab(book, title)
            if tab is None:
                return None
            rows = [r[c0:(c1 + 1 if c1 is not None else None)]
                    for r in tab.rows[r0:(r1 + 1 if r1 is not None else None)]]
            out = {"range": f"'{tab.title}'!A1:{_col_letters(tab.col_count - 1)}{tab.row_count}",
                   "majorDimension": "ROWS"}
            values = _trim(rows)
            if values:
                out["values"] = values
            return out

        def _write(self, book: Book, rng: str, values: list[list], query: dict) -> None:
            option = (query.get("valueInputOption") or [None])[0]
            fake.value_input_options.append(option)
            if option == "USER_ENTERED":      # as Google: a leading apostrophe only marks text, it is not kept
                values = [[v[1:] if isinstance(v, str) and v.startswith("'") else v for v in row] for row in values]
            title, r0, c0, _r1, _c1 = _a1(rng)
            tab = self._tab(book, title)
            if tab is None:
                return
            need_rows = r0 + len(values)
            need_cols = c0 + max([len(v) for v in values] + [0])
            if need_rows > tab.row_count or need_cols > tab.col_count:
                return self._error(400, f"Range ('{title}'!{rng}) exceeds grid limits. Max rows: {tab.row_count}, "
                                        f"max columns: {tab.col_count}", "INVALID_ARGUMENT")
            while len(tab.rows) < need_rows:
                tab.rows.append([])
            for i, row in enumerate(values):
                target = tab.rows[r0 + i]
                while len(target) < c0 + len(row):
                    target.append("")
                for j, v in enumerate(row):
                    target[c0 + j] = "" if v is None else str(v)
            self._send(200, {"spreadsheetId": book.key, "updatedRange": rng, "updatedRows": len(values),
                             "updatedColumns": need_cols - c0,
                             "updatedCells": sum(len(v) for v in values)})

        def _append(self, book: Book, rng: str, values: list[list]) -> None:
            title, *_ = _a1(rng)
            tab = self._tab(book, title)
            if tab is None:
                return
            tab.rows = _trim(tab.rows)
            for row in values:
                tab.rows.append(["" if v is None else str(v) for v in row])
            tab.row_count = max(tab.row_count, len(tab.rows))
            self._send(200, {"spreadsheetId": book.key, "updates": {"updatedRows": len(values)}})

        def _clear(self, book: Book, rng: str) -> None:
            title, *_ = _a1(rng)
            tab = self._tab(book, title)
            if tab is None:
                return
            tab.rows = []
            self._send(200, {"spreadsheetId": book.key, "clearedRange": f"'{title}'"})

        def _batch_update(self, book: Book, payload: dict) -> None:
            replies = []
            for req in payload.get("requests", []):
                if "addSheet" in req:
                    props = req["addSheet"].get("properties", {})
                    title = props.get("title") or f"Sheet{len(book.tabs) + 1}"
                    if any(t.title == title for t in book.tabs):
                        return self._error(400, f"Invalid requests[0].addSheet: A sheet with the name \"{title}\" "
                                                "already exists. Please enter another name.", "INVALID_ARGUMENT")
                    grid = props.get("gridProperties", {})
                    fake._next_sheet_id += 1
                    tab = Tab(fake._next_sheet_id, title, [], int(grid.get("rowCount", 1000)),
                              int(grid.get("columnCount", 26)))
                    book.tabs.insert(props.get("index", len(book.tabs)), tab)
                    replies.append({"addSheet": {"properties": {
                        "sheetId": tab.sheet_id, "title": tab.title, "index": book.tabs.index(tab),
                        "sheetType": "GRID",
                        "gridProperties": {"rowCount": tab.row_count, "columnCount": tab.col_count}}}})
                elif "updateSheetProperties" in req:
                    props = req["updateSheetProperties"]["properties"]
                    tab = next((t for t in book.tabs if t.sheet_id == props.get("sheetId")), None)
                    if tab is None:
                        return self._error(400, "No grid with id", "INVALID_ARGUMENT")
                    grid = props.get("gridProperties", {})
                    tab.row_count = int(grid.get("rowCount", tab.row_count))
                    tab.col_count = int(grid.get("columnCount", tab.col_count))
                    if "title" in props:
                        tab.title = props["title"]
                    replies.append({})
                elif "deleteSheet" in req:
                    book.tabs = [t for t in book.tabs if t.sheet_id != req["deleteSheet"]["sheetId"]]
                    replies.append({})
                else:
                    return self._error(400, f"Unsupported request in the fake server: {list(req)}", "INVALID_ARGUMENT")
            self._send(200, {"spreadsheetId": book.key, "replies": replies})

    return Handler
