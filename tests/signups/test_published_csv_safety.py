"""The "published to the web" CSV source reads only Google's published sheets (or places the
operator lists in KLEROTERION_PUBLISHED_CSV_ORIGINS): it never lets a typed link make the server
fetch an internal address, directly or through a redirect.

Real local web servers on 127.0.0.1 stand in for Google and for an internal service; each counts
the requests it received, so "refused" also means "never contacted"."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lib.recruitment.signups.published_csv import PublishedCsvError, fetch_published_csv

CSV = b"Name,Postcode\r\nZo\xc3\xab,01234\r\n"


class Site:
    """A tiny web server: ``/csv`` answers a CSV file, ``/go`` redirects to ``self.redirect``."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.redirect = ""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                site.hits.append(self.path)
                if self.path.startswith("/go"):
                    self.send_response(302)
                    self.send_header("Location", site.redirect)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(CSV)))
                self.end_headers()
                self.wfile.write(CSV)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def sites(monkeypatch):
    """Two local servers: ``allowed`` is on the allow-list (as a test's fake Google), ``internal`` is not."""
    allowed, internal = Site(), Site()
    monkeypatch.setenv("KLEROTERION_PUBLISHED_CSV_ORIGINS", allowed.origin)
    yield allowed, internal
    allowed.close()
    internal.close()


def test_an_allow_listed_origin_is_read(sites):
    allowed, _ = sites
    assert fetch_published_csv(f"{allowed.origin}/csv") == [["Name", "Postcode"], ["Zoë", "01234"]]
    allowed.redirect = f"{allowed.origin}/csv?hop=2"              # a redirect within allowed places is followed
    assert fetch_published_csv(f"{allowed.origin}/go")[1] == ["Zoë", "01234"]
    assert allowed.hits == ["/csv", "/go", "/csv?hop=2"]


@pytest.mark.parametrize("url, why", [
    ("http://docs.google.com/spreadsheets/d/e/2PACX-1/pub?output=csv", "https://docs.google.com"),
    ("https://evil.example/pub?output=csv", "https://docs.google.com"),
    ("http://169.254.169.254/latest/meta-data/", "https://docs.google.com"),
    ("https://docs.google.com.evil.example/pub?output=csv", "https://docs.google.com"),
    ("https://docs.google.com@169.254.169.254/pub?output=csv", "https://docs.google.com"),
    ("file:///etc/passwd", "not a web link"),
])
def test_links_other_than_google_published_sheets_are_refused_without_a_request(sites, url, why):
    with pytest.raises(PublishedCsvError, match=why):
        fetch_published_csv(url)


def test_a_local_address_that_is_not_allow_listed_is_never_contacted(sites):
    _, internal = sites
    with pytest.raises(PublishedCsvError, match="https://docs.google.com"):
        fetch_published_csv(f"{internal.origin}/csv")
    assert internal.hits == []


def test_a_redirect_from_an_allowed_place_to_an_internal_one_is_refused(sites):
    allowed, internal = sites
    for target in (f"{internal.origin}/csv", "http://169.254.169.254/latest/meta-data/",
                   "https://evil.example/x.csv", "http://docs.google.com/x"):
        allowed.redirect = target
        with pytest.raises(PublishedCsvError, match="sent Kleroterion on to another address"):
            fetch_published_csv(f"{allowed.origin}/go")
    assert internal.hits == []


def test_google_names_that_resolve_to_private_addresses_are_refused(monkeypatch):
    """docs.google.com is allowed only while it resolves to public addresses (a poisoned resolver
    or hosts file must not turn it into a way in)."""
    real = socket.getaddrinfo
    contacted = []

    def resolver(host, *args, **kwargs):
        if host == "docs.google.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443))]
        return real(host, *args, **kwargs)

    def connect(self, *args, **kwargs):          # nothing may be connected to
        contacted.append(args)
        raise OSError("test: no connection allowed")

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.delenv("KLEROTERION_PUBLISHED_CSV_ORIGINS", raising=False)
    with pytest.raises(PublishedCsvError, match="private"):
        fetch_published_csv("https://docs.google.com/spreadsheets/d/e/2PACX-1/pub?output=csv")
    assert contacted == []


def test_too_many_redirects_are_refused(sites):
    allowed, _ = sites
    allowed.redirect = f"{allowed.origin}/go"
    with pytest.raises(PublishedCsvError, match="too many"):
        fetch_published_csv(f"{allowed.origin}/go")
