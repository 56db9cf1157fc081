"""A Google Sheet "published to the web" as CSV: no service account needed, but public.

In Google Sheets: File → Share → Publish to web → choose the tab → "Comma-separated
values (.csv)" → Publish. The link looks like
``https://docs.google.com/spreadsheets/d/e/2PACX-…/pub?gid=0&single=true&output=csv``.
Anyone who has that link can read every cell, names and contacts included: hence the
warning the page shows.
"""

from __future__ import annotations

import csv
import io
from urllib.parse import urlsplit

import requests

from lib.errors import UserError

PUBLIC_WARNING = (
    "A sheet “published to the web” can be read by anyone who has the link — names, emails and "
    "phone numbers included. Use it only if your group accepts that; a private sheet shared with "
    "Kleroterion's service account (the Google Sheet tab) is safer."
)
MAX_BYTES = 200 * 2**20


class PublishedCsvError(UserError):
    pass


GOOGLE = "https://docs.google.com"
MAX_REDIRECTS = 5
NOT_GOOGLE = (
    "Kleroterion only reads sheets published by Google: the link must start with "
    "https://docs.google.com/ (in Google Sheets choose File → Share → Publish to web, pick the tab and "
    "“Comma-separated values (.csv)”, press Publish and copy the link it shows)."
)


def _check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PublishedCsvError(
            f"“{url}” is not a web link. In Google Sheets choose File → Share → Publish to web, pick the tab and "
            "“Comma-separated values (.csv)”, press Publish and copy the link it shows."
        )
    return url


def _origin(url: str) -> str | None:
    """scheme://host[:port] in lower case, or None for a link with a user name, password or odd port."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return None
    if parts.username is not None or parts.password is not None or not parts.hostname:
        return None
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")


def _allowed(url: str, *, first: bool) -> str | None:
    """How ``url`` may be fetched: "trusted" (on the operator's list), "public" (Google: only while it
    resolves to public addresses) or None (refused). A typed link must be on docs.google.com; Google
    may then redirect to its file servers (*.googleusercontent.com)."""
    from lib.store.config import published_csv_origins

    origin = _origin(url)
    if origin is None:
        return None
    if origin in published_csv_origins():
        return "trusted"
    if origin == GOOGLE:
        return "public"
    if (
        not first
        and origin.startswith("https://")
        and origin.endswith(".googleusercontent.com")
        and ":" not in origin[len("https://") :]
    ):
        return "public"
    return None


def _public_only(url: str) -> None:
    """Refuse a host that resolves to a private, loopback, link-local or otherwise internal address."""
    import socket

    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise PublishedCsvError(
            "Kleroterion could not reach the published sheet: the computer seems to have no "
            "internet connection, or the link's website cannot be found."
        ) from None
    for info in infos:
        _refuse_internal(parts.hostname or "", str(info[4][0]))


def _refuse_internal(host: str, address: str) -> None:
    import ipaddress

    ip = ipaddress.ip_address(address.split("%")[0])
    if not ip.is_global or ip.is_multicast:
        raise PublishedCsvError(
            f"The address {host} leads to a private network address ({ip}) on this computer's "
            "network, not to Google, so Kleroterion will not read it. Check the computer's network "
            "settings, or upload the sheet as a file instead."
        )


def _check_peer(url: str, resp: requests.Response) -> None:
    """The address actually connected to must be public too (the name may resolve differently the
    second time: DNS rebinding). Checked before anything is read."""
    peer = None
    for get in (lambda: resp.raw._fp.fp.raw._sock, lambda: resp.raw.connection.sock):
        try:
            peer = get().getpeername()[0]
            break
        except (AttributeError, OSError, IndexError, TypeError):
            continue
    if peer is None:
        return  # no socket to look at (e.g. a proxy); the name was checked above
    try:
        _refuse_internal(urlsplit(url).hostname or "", peer)
    except PublishedCsvError:
        resp.close()
        raise


def _get(url: str, timeout: float) -> requests.Response:
    try:
        return requests.get(
            url, timeout=timeout, stream=True, allow_redirects=False, headers={"Accept": "text/csv, */*;q=0.5"}
        )
    except requests.Timeout:
        raise PublishedCsvError(
            f"The published sheet did not answer within {timeout:g} seconds. "
            "Check the internet connection and try again."
        ) from None
    except requests.RequestException:
        raise PublishedCsvError(
            "Kleroterion could not reach the published sheet: the computer seems to have no "
            "internet connection, or the link's website cannot be reached."
        ) from None


def _open(url: str, timeout: float) -> requests.Response:
    """GET ``url``, following redirects by hand: every address on the way is checked before it is
    contacted (only Google's places or the operator's list; Google's only on public addresses)."""
    from urllib.parse import urljoin

    if _allowed(url, first=True) is None:
        raise PublishedCsvError(NOT_GOOGLE)
    for _hop in range(MAX_REDIRECTS + 1):
        public = _allowed(url, first=False) == "public"
        if public:
            _public_only(url)
        resp = _get(url, timeout)
        if public:
            _check_peer(url, resp)
        if resp.status_code not in (301, 302, 303, 307, 308):
            return resp
        location = resp.headers.get("Location", "")
        resp.close()
        nxt = urljoin(url, location)
        if not location or _allowed(nxt, first=False) is None:
            raise PublishedCsvError(
                "The link's website sent Kleroterion on to another address that is not a Google published sheet, "
                "so it was not followed. Copy the link again from File → Share → Publish to web."
            )
        url = nxt
    raise PublishedCsvError(
        "The link's website sent Kleroterion on too many times (more than "
        f"{MAX_REDIRECTS} redirects). Copy the link again from File → Share → Publish to web."
    )


def fetch_published_csv_bytes(url: str, *, timeout: float = 30) -> bytes:
    """The CSV file behind a "published to the web" link, as bytes."""
    url = _check_url(url)
    resp = _open(url, timeout)
    with resp:
        if resp.status_code in (401, 403, 404, 410):
            raise PublishedCsvError(
                f"The link does not lead to a published sheet (the website answered {resp.status_code}). "
                "Check that the sheet is still published to the web and copy the link again."
            )
        if resp.status_code == 429:
            raise PublishedCsvError(
                "The website is refusing requests because too many were made (429) — wait a "
                "minute and sync again; your last good data is kept."
            )
        if resp.status_code >= 400:
            raise PublishedCsvError(
                f"The published sheet could not be read (the website answered "
                f"{resp.status_code}). Try again in a few minutes."
            )
        ctype = resp.headers.get("Content-Type", "").lower()
        chunks, size = [], 0
        try:
            for chunk in resp.iter_content(1 << 16):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise PublishedCsvError(
                        "The published sheet is larger than 200 MB, which is far more than a "
                        "sign-up sheet should be. Check the link."
                    )
                chunks.append(chunk)
        except requests.RequestException:
            raise PublishedCsvError(
                "The connection broke while the published sheet was being read. Try again."
            ) from None
    data = b"".join(chunks)
    if "html" in ctype or data.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        raise PublishedCsvError(
            "The link gives a web page, not a CSV file. When publishing, choose “Comma-separated values (.csv)” "
            "instead of “Web page”, and copy the new link (it ends in output=csv)."
        )
    return data


def fetch_published_csv(url: str, *, timeout: float = 30) -> list[list[str]]:
    """The published sheet's rows, every cell as text."""
    data = fetch_published_csv_bytes(url, timeout=timeout)
    text = data.decode("utf-8-sig", errors="replace")
    return list(csv.reader(io.StringIO(text, newline="")))
