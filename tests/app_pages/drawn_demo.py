"""A demo database with a real, revealed draw, made once per test session and copied per test.

The fair lottery is computed by the real engine with a short time limit (the chances are then
not the best possible, which does not matter for showing them).
"""

from __future__ import annotations

import shutil
from pathlib import Path

_made: dict[str, Path] = {}


def drawn_demo_file(base: Path) -> Path:
    if "file" not in _made:
        from lib import draws
        from lib.store.db import open_database
        from lib.demo.load import load_demo

        path = base / "drawn_demo.duckdb"
        db = open_database(path)
        load_demo(db)
        draws.freeze_targets(db, actor="Test organiser")
        from lib.sortition.leximin import LeximinError

        for limit in (3, 10, 40):     # a busy machine may need longer to find a first distribution
            try:
                rec = draws.compute_draw(db, actor="Test organiser", M=50, time_limit=limit, legacy_seconds=0.3)
                break
            except LeximinError:
                if limit == 40:
                    raise
        draws.commit_draw(db, rec.draw_id, actor="Test organiser")
        draws.reveal_draw(db, rec.draw_id, "7 21 33 40 45 49", actor="Test organiser")
        db.close()
        _made["file"] = path
    return _made["file"]


def use_drawn_demo(app_env: Path, tmp_path_factory) -> None:
    """Put the drawn demo where the app of this test (``app_env``) will open it."""
    src = drawn_demo_file(tmp_path_factory.getbasetemp())
    shutil.copyfile(src, app_env / "app.duckdb")
