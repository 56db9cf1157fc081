"""Property-based: arbitrary cell contents never crash validation and never lose a row."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lib.recruitment.categories import load_fields, parse_fields_csv, save_fields
from lib.store.db import open_database
from lib.recruitment.signups.grid import grid_from_csv_bytes, grid_from_rows
from lib.recruitment.signups.mapping import suggest_mapping
from lib.recruitment.signups.sync import SyncError, sync_grid
from tests.signups.test_sync import FIELDS_CSV, HEADER

cell = st.one_of(
    st.sampled_from(["Woman", "man", " F ", "60+", "over 60", "16 to 29", "", "  ", "=1+1", "0123", "'", '"',
                     "Non-binary", "nb", "30–59", "\t", "é", "NULL", "None", "nan"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
    st.text(alphabet=string.printable, max_size=6),
)
sheet_row = st.lists(cell, min_size=0, max_size=10)


def _is_blank(r: list[str]) -> bool:
    return all(not c.strip() for c in r[:8])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(sheet_row, min_size=0, max_size=25))
def test_any_cells_never_crash_and_never_lose_a_row(tmp_path_factory, rows):
    db = open_database(tmp_path_factory.mktemp("prop") / "p.duckdb")
    try:
        save_fields(db, parse_fields_csv(FIELDS_CSV))
        m = suggest_mapping(HEADER, load_fields(db))
        non_blank = [i + 2 for i, row in enumerate(rows) if not _is_blank(row + [""] * 8)]
        if not non_blank:         # no sign-ups under the questions: refused, nothing written
            with pytest.raises(SyncError, match="no sign-ups under them"):
                sync_grid(db, grid_from_rows([HEADER] + rows), m, source_kind="t", source_label="t")
            assert db.scalar("SELECT count(*) FROM people") == 0
            return
        r = sync_grid(db, grid_from_rows([HEADER] + rows), m, source_kind="t", source_label="t")
        assert r.status == "ok"
        assert r.rows_read == len(non_blank)
        # every non-blank sheet row is a person in the store, with both answers recorded
        assert sorted(x[0] for x in db.query("SELECT row_number FROM people")) == non_blank
        assert db.scalar("SELECT count(*) FROM person_values") == 2 * len(non_blank)
        # every problem points at a real row, and every ineligible person has a blocking problem
        prob_rows = {x[0] for x in db.query("SELECT row_number FROM problems")}
        assert prob_rows <= set(non_blank)
        blocked = {x[0] for x in db.query("SELECT row_number FROM people WHERE NOT eligible")}
        assert blocked == {x[0] for x in db.query("SELECT row_number FROM problems WHERE blocking")}
        # a second sync of the same rows is a no-op
        r2 = sync_grid(db, grid_from_rows([HEADER] + rows), m, source_kind="t", source_label="t")
        assert (r2.added, r2.changed, r2.removed) == (0, 0, 0)
    finally:
        db.close()


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.lists(cell, min_size=8, max_size=8), min_size=1, max_size=15))
def test_csv_round_trip_keeps_every_cell_as_text(rows):
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([HEADER] + rows)   # as spreadsheet programs write it
    grid = grid_from_csv_bytes(buf.getvalue().encode("utf-8"))
    expected_rows = list(csv.reader(io.StringIO(buf.getvalue(), newline="")))[1:]
    assert grid.row_count == len(expected_rows)
    for j, h in enumerate(grid.headers):
        assert grid.column_values(h) == [r[j] if j < len(r) else "" for r in expected_rows]
