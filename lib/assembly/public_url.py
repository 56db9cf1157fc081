"""The web address members use to reach the app (access cards' QR codes and printed address).

Where it comes from, first found wins: the address an organiser saved in the app; the server's
``KLEROTERION_PUBLIC_URL`` (set once by whoever installs Kleroterion); the address the organiser's
own browser is using right now (``st.context.url``, passed in by the page). Never a made-up
``http://localhost:8501``: an address that only works on the server's own computer gets a plain
warning, because members' phones cannot open it.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit, urlunsplit

ENV = "KLEROTERION_PUBLIC_URL"
SOURCE_WORDS = {
    "saved": "the address saved here before",
    "configured": f"the address set on the server ({ENV})",
    "browser": "the address you are using now",
    "": "none yet",
}


@dataclass
class PublicUrl:
    url: str
    source: str  # "saved" | "configured" | "browser" | ""


def clean(url: str | None) -> str:
    return (url or "").strip().rstrip("/")


def base_of(browser_url: str | None, page_path: str = "") -> str:
    """The app's own address from the address of one of its pages: ``https://x.org/kl/evaluation``
    with page ``evaluation`` gives ``https://x.org/kl`` (query and fragment dropped)."""
    url = clean(browser_url)
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    path = parts.path.rstrip("/")
    page = page_path.strip("/")
    if page and (path == f"/{page}" or path.endswith(f"/{page}")):
        path = path[: -len(page) - 1]
    return urlunsplit((parts.scheme, parts.netloc, path, "", "")).rstrip("/")


def choose(
    saved: str | None, browser_url: str | None = None, *, page_path: str = "", env: Mapping[str, str] | None = None
) -> PublicUrl:
    env = os.environ if env is None else env
    if clean(saved):
        return PublicUrl(clean(saved), "saved")
    if clean(env.get(ENV)):
        return PublicUrl(clean(env.get(ENV)), "configured")
    from_browser = base_of(browser_url, page_path)
    if from_browser:
        return PublicUrl(from_browser, "browser")
    return PublicUrl("", "")


def is_local(url: str | None) -> bool:
    """True for an address that only the server's own computer can open (localhost, 127.0.0.1, …)."""
    host = (urlsplit(clean(url)).hostname or "").lower()
    if host in ("", "localhost") or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def problem(url: str | None) -> str | None:
    """What is wrong with ``url`` as the address printed on members' cards, in plain words; None if fine."""
    url = clean(url)
    if not url:
        return (
            "Type the web address members will use to reach this app, for example "
            "https://assembly.example.org. It is printed on the cards and in their QR code."
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in url:
        return (
            f"“{url}” is not a web address. It should start with https:// (or http://), "
            "for example https://assembly.example.org."
        )
    if is_local(url):
        return (
            f"{url} only works on the computer that runs Kleroterion: members' phones cannot open it. "
            "Type the address members will use (for example https://assembly.example.org), or ask whoever "
            f"installed Kleroterion to set {ENV} on the server."
        )
    return None
