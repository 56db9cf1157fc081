"""Browser journeys: a real `streamlit run` driven by Playwright in Debian's Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]

# Assertions wait for the state like actions do (30 s, set per page below): on two busy cores a
# rerun can take longer than Playwright's 5-s default for `expect`, which made journeys fail at random.
# A journey still fails when the state never comes; how fast it comes is measured in bench/.
expect.set_options(timeout=20_000)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    def __init__(self, db_path: Path, extra_env: dict[str, str] | None = None):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "KLEROTERION_DB": str(db_path), "KLEROTERION_DEMO": "1", **(extra_env or {})}
        self.log_path = db_path.with_suffix(".server.log")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        SERVERS.append(self)
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not become healthy in 60 s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)          # gone, so the database file is free for whoever opens it next
        self._log.close()

    def hidden_errors(self) -> list[str]:
        """Errors a page caught and showed as plain words (pages/common.run_page logs each one)."""
        if not self._log.closed:
            self._log.flush()
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [line for line in lines if "Unexpected error on a page" in line or line.startswith("Traceback")]


SERVERS: list[StreamlitServer] = []   # every server started by this worker, for the check below


@contextlib.contextmanager
def counting_web_server():
    """A web server on 127.0.0.1 standing in for someone else's site (an image host, a phishing page): it answers
    every GET with an empty image and counts who asks it for anything. Yields (its address, the paths asked)."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def _no_hidden_page_errors():
    """A browser journey fails when a page of any server it used hit an unexpected error, even one
    the page hid behind "Something went wrong" and the journey did not look at."""
    before = {id(s): len(s.hidden_errors()) for s in SERVERS}
    yield
    for srv in SERVERS:
        errors = srv.hidden_errors()[before.get(id(srv), 0):]
        assert not errors, "the server logged unexpected page errors:\n" + "\n".join(errors[:5])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = StreamlitServer(tmp_path_factory.mktemp("e2e") / "app.duckdb")
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser():
    if os.environ.get("KLEROTERION_SKIP_BROWSER") == "1":
        pytest.skip("browser journeys skipped on request (KLEROTERION_SKIP_BROWSER=1)")
    exe = _chromium()
    if exe is None:
        pytest.fail("Chromium is not installed, so the browser journeys cannot run. "
                    "Install it with: sudo apt-get install chromium (or run: bash scripts/ensure-chromium.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished running the script (no 'Running…' indicator)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)


def sign_in(page, base_url: str, role: str = "organiser") -> None:
    """Sign in through the real sign-in page with the demo password for ``role``."""
    from lib.access.auth import DEMO_PASSWORDS, ROLE_LABELS

    page.goto(base_url + "/sign-in")
    wait_idle(page)
    page.get_by_text(ROLE_LABELS[role], exact=True).click()
    page.locator("input[type=password]").fill(DEMO_PASSWORDS[role])
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text(f"Signed in as {ROLE_LABELS[role]}").wait_for()
    leave_sign_in_page(page)
    wait_for_sign_in_cookie(page)


def wait_for_sign_in_cookie(page, timeout_s: float = 30.0) -> None:
    """The browser keeps the sign-in in a cookie (set by a script on the page after signing in); a new
    page load (a typed address, a reload) stays signed in only once it is there."""
    deadline = time.monotonic() + timeout_s
    while not [c for c in page.context.cookies() if c["name"] == "kleroterion_session"]:
        if time.monotonic() > deadline:
            raise AssertionError("the browser never received the sign-in cookie")
        page.wait_for_timeout(100)


def leave_sign_in_page(page) -> None:
    """After signing in, the app moves to the Overview with the new menu; wait for that move to
    finish, or a click on the menu could land on the old one while it is being replaced."""
    page.wait_for_url(lambda url: "/sign-in" not in url, timeout=30_000)
    wait_idle(page)


def open_page(page, name: str, timeout_s: float = 30.0) -> None:
    """Open a page through the side menu (a reload would start a new session, signed out).
    Long menus hide some pages behind "View more"; the menu may still be redrawing after a
    sign-in, so keep looking until the link shows or the time runs out."""
    import time

    link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True).first
    deadline = time.monotonic() + timeout_s
    while not link.is_visible():
        more = page.get_by_test_id("stSidebarNavViewButton")
        if more.count() and "more" in more.first.inner_text().lower():
            more.first.click()
        if time.monotonic() > deadline:
            raise AssertionError(f"the menu never showed a link to {name!r}")
        page.wait_for_timeout(250)
    link.click()
    page.get_by_role("heading", name=name).first.wait_for()
    wait_idle(page)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a browser journey fails, add what the page showed and the end of the server's log
    to the report: CI keeps only pytest's output, and a timeout alone does not say why."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when != "call" or not rep.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    for name, value in funcargs.items():
        if name in ("page", "phone"):
            try:
                text = value.locator("body").inner_text(timeout=5_000)
            except Exception as e:  # noqa: BLE001 - diagnostics only
                text = f"(could not read the page: {e})"
            rep.sections.append((f"what the page ({name}) showed", text[-4000:]))
        elif isinstance(value, StreamlitServer):
            try:
                log = value.log_path.read_text(errors="replace")
            except OSError as e:
                log = f"(could not read the log: {e})"
            rep.sections.append((f"server log ({name}), last lines", "\n".join(log.splitlines()[-80:])))
