"""Writing the drawn panel and the reserve list back to the sign-up Google Sheet (two new tabs), and the
log of those exports (``draw_exports``)."""

from __future__ import annotations

from lib.draws.panel_tables import reserve_frame, selected_frame
from lib.draws.records import DrawError, DrawRecord
from lib.store.db import Database


def sheet_source(db: Database) -> dict | None:
    """{spreadsheet, worksheet} when the current sign-ups came from a Google Sheet; else None."""
    from lib.store.settings import get_setting

    kind = db.scalar("SELECT source_kind FROM sync_log WHERE status = 'ok' ORDER BY sync_id DESC LIMIT 1")
    if kind != "google_sheet":
        return None
    src = get_setting(db, "sheet_source", None)
    return src if src and src.get("spreadsheet") else None


def export_titles(rec: DrawRecord) -> tuple[str, str]:
    tag = f"draw {rec.draw_id}" if rec.kind == "draw" else f"replacement round {rec.round}"
    return f"Selected panel ({tag})", f"Reserve list ({tag})"


def write_to_sheet(db: Database, client, rec: DrawRecord, *, actor: str | None) -> list[str]:
    """Write the selected panel and the reserve list to two new tabs of the sign-up sheet."""
    from lib.recruitment.signups.sheets import SheetRef, write_worksheet

    if not rec.is_revealed:
        raise DrawError("Reveal the panel first.")
    src = sheet_source(db)
    if src is None:
        raise DrawError(
            "The sign-ups did not come from a Google Sheet, so there is no sheet to write to. "
            "Download the CSV files instead."
        )
    ref = SheetRef(src["spreadsheet"], None)
    titles = []
    sel_title, res_title = export_titles(rec)
    for title, df in (
        (sel_title, selected_frame(db, rec, with_contacts=True)),
        (res_title, reserve_frame(db, rec, with_contacts=True)),
    ):
        # Written in RAW mode (write_worksheet): Google stores each value as text and never runs it as a
        # formula, so values go as they are: no apostrophe in front of "+44 …" or a name.
        cells = df.astype(object).where(df.notna(), "")
        titles.append(write_worksheet(client, ref, title, list(cells.columns), cells.values.tolist()))

    def write(cur):
        cur.execute(
            "INSERT INTO draw_exports (draw_id, exported_by, target, detail) VALUES (?, ?, 'google_sheet', ?)",
            [rec.draw_id, actor, ", ".join(titles)],
        )

    db.transaction(write)
    return titles


def exports(db: Database, draw_id: int) -> list[tuple]:
    return db.query(
        "SELECT exported_at, exported_by, target, detail FROM draw_exports WHERE draw_id = ? ORDER BY exported_at",
        [int(draw_id)],
    )
