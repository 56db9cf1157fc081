"""Where things live, and settings read from the environment.

KLEROTERION_DB       path of the DuckDB file (default: data/kleroterion.duckdb)
KLEROTERION_DEMO     "1" (default) loads the embedded demo assembly into an empty database;
                     "0" starts empty, for a real assembly
KLEROTERION_SHEETS_API_BASE  where the Google Sheets API is (default: Google's own); tests point
                     it at the fake Sheets server on 127.0.0.1
KLEROTERION_PUBLISHED_CSV_ORIGINS  more places (scheme://host[:port], comma-separated) that the
                     "published to the web" CSV source may read from, besides https://docs.google.com.
                     They are trusted as they are (even on a private address): tests list their local
                     server on 127.0.0.1 here; a real assembly needs nothing
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
DEMO_DIR = DATA_DIR / "demo"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def db_path() -> Path:
    return Path(os.environ.get("KLEROTERION_DB", str(DATA_DIR / "kleroterion.duckdb")))


def demo_enabled() -> bool:
    return os.environ.get("KLEROTERION_DEMO", "1").strip().lower() not in ("0", "false", "no", "off")


def sheets_api_base() -> str | None:
    return os.environ.get("KLEROTERION_SHEETS_API_BASE", "").strip() or None


def published_csv_origins() -> list[str]:
    """Extra origins the published-CSV source may read from (see KLEROTERION_PUBLISHED_CSV_ORIGINS)."""
    raw = os.environ.get("KLEROTERION_PUBLISHED_CSV_ORIGINS", "")
    return [o.strip().rstrip("/").lower() for o in raw.split(",") if o.strip()]
