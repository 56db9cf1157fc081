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

Limits on a sign-up sheet, whatever it comes from (CSV, Excel, OpenDocument, Google Sheets); generous
for real assemblies, they stop a broken or hostile file from filling the server's memory:
KLEROTERION_MAX_ROWS          rows of sign-ups (default 50,000)
KLEROTERION_MAX_COLUMNS       columns (default 200)
KLEROTERION_MAX_CELL_CHARS    characters in one cell (default 10,000)
KLEROTERION_MAX_UNPACKED_MB   megabytes a file may hold once unpacked (default 100)
KLEROTERION_SYNC_DEADLINE     seconds one sync from Google Sheets may take, retries included (default 120)
KLEROTERION_RETIRE_CONFIRM_SHARE  a sync that would mark more than this share of the sign-ups as no longer
                     in the sheet waits for an organiser's confirmation (default 0.10; the Sign-ups page's
                     setting "retire_confirm_share" overrides it)
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
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


def _number_env(name: str, default: float, *, minimum: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    return value if value >= minimum else default


def max_rows() -> int:
    return int(_number_env("KLEROTERION_MAX_ROWS", 50_000, minimum=1))


def max_columns() -> int:
    return int(_number_env("KLEROTERION_MAX_COLUMNS", 200, minimum=1))


def max_cell_chars() -> int:
    return int(_number_env("KLEROTERION_MAX_CELL_CHARS", 10_000, minimum=1))


def max_unpacked_bytes() -> int:
    return int(_number_env("KLEROTERION_MAX_UNPACKED_MB", 100, minimum=0.001) * 2**20)


def sync_deadline_seconds() -> float:
    return _number_env("KLEROTERION_SYNC_DEADLINE", 120.0, minimum=0.5)


def retire_confirm_share() -> float:
    return min(1.0, _number_env("KLEROTERION_RETIRE_CONFIRM_SHARE", 0.10, minimum=0.0))
