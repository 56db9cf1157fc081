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

PUBLIC_WARNING = ("A sheet “published to the web” can be read by anyone who has the link — names, emails and "
                  "phone numbers included. Use it only if your group accepts that; a private sheet shared with "
                  "Kleroterion's service account (the Google Sheet tab) is safer.")
MAX_BYTES = 200 * 2**20


class PublishedCsvError(UserError):
    pass


def _check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PublishedCsvError(
            f"“{url}” is not a web link. In Google Sheets choose File → Share → Publish to web, pick the tab and "
            "“Comma-separated values (.csv)”, press Publish and copy the link it shows.")
    return url


def fetch_published_csv_bytes(url: str, *, timeout: float = 30) -> bytes:
    """The CSV file behind a "published to the web" link, as bytes."""
    url = _check_url(url)
    try:
        resp = requests.get(url, timeout=timeout, stream=True, headers={"Accept": "text/csv, */*;q=0.5"})
    except requests.Timeout:
        raise PublishedCsvError(f"The published sheet did not answer within {timeout:g} seconds. "
                                "Check the internet connection and try again.") from None
    except requests.RequestException:
        raise PublishedCsvError("Kleroterion could not reach the published sheet: the computer seems to have no "
                                "internet connection, or the link's website cannot be reached.") from None
    with resp:
        if resp.status_code in (401, 403, 404, 410):
            raise PublishedCsvError(
                f"The link does not lead to a published sheet (the website answered {resp.status_code}). "
                "Check that the sheet is still published to the web and copy the link again.")
        if resp.status_code == 429:
            raise PublishedCsvError("The website is refusing requests because too many were made (429) — wait a "
                                    "minute and sync again; your last good data is kept.")
        if resp.status_code >= 400:
            raise PublishedCsvError(f"The published sheet could not be read (the website answered "
                                    f"{resp.status_code}). Try again in a few minutes.")
        ctype = resp.headers.get("Content-Type", "").lower()
        chunks, size = [], 0
        try:
            for chunk in resp.iter_content(1 << 16):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise PublishedCsvError("The published sheet is larger than 200 MB, which is far more than a "
                                            "sign-up sheet should be. Check the link.")
                chunks.append(chunk)
        except requests.RequestException:
            raise PublishedCsvError("The connection broke while the published sheet was being read. "
                                    "Try again.") from None
    data = b"".join(chunks)
    if "html" in ctype or data.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        raise PublishedCsvError(
            "The link gives a web page, not a CSV file. When publishing, choose “Comma-separated values (.csv)” "
            "instead of “Web page”, and copy the new link (it ends in output=csv).")
    return data


def fetch_published_csv(url: str, *, timeout: float = 30) -> list[list[str]]:
    """The published sheet's rows, every cell as text."""
    data = fetch_published_csv_bytes(url, timeout=timeout)
    text = data.decode("utf-8-sig", errors="replace")
    return list(csv.reader(io.StringIO(text, newline="")))
