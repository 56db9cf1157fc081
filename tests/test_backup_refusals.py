"""A backup file whose parts do not agree with its own list of contents is refused with the plain message,
and nothing is changed (lib/backup.py: open_backup and the restore). The forgeries here keep the zip
readable, so only the backup's own checks can catch them."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from lib import backup
from lib.recruitment import assembly_setup as setup
from lib.store.db import open_database

DAMAGED = "not a Kleroterion backup, or it is damaged or incomplete"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    db = open_database(tmp_path_factory.mktemp("small") / "assembly.duckdb")
    setup.save_basics(db, "Northfield", 6, False, actor="organiser")
    made = backup.make_backup(db)
    db.close()
    return made


def parts(data: bytes) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    return json.loads(files.pop("manifest.json")), files


def pack(manifest: dict, files: dict[str, bytes], *, extra: list[tuple[str, bytes]] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for n, d in list(files.items()) + list(extra):
            zf.writestr(n, d)
    return buf.getvalue()


def refused(data: bytes, *words: str) -> str:
    with pytest.raises(backup.BackupError) as e:
        backup.describe(data, name="assembly.zip")
    for w in words:
        assert w in str(e.value), str(e.value)
    return str(e.value)


def test_the_small_backup_opens(data):
    assert backup.describe(data).assembly == "Northfield"


def test_a_file_missing_changed_or_unlisted_is_refused(data):
    manifest, files = parts(data)
    parquet = next(n for n in files if n.endswith(".parquet"))
    missing = {n: d for n, d in files.items() if n != parquet}
    refused(pack(manifest, missing), DAMAGED)                                   # listed, not in the zip
    changed = dict(files, **{parquet: files[parquet] + b"x"})
    refused(pack(manifest, changed), DAMAGED)                                   # its checksum differs
    table = parquet.split("/", 1)[1].removesuffix(".parquet")
    unlisted_table = dict(manifest, files={n: h for n, h in manifest["files"].items() if n != parquet})
    refused(pack(unlisted_table, missing), DAMAGED)                             # a table without its rows
    assert table in manifest["tables"]


def test_a_name_twice_or_no_list_of_contents_is_refused(data):
    manifest, files = parts(data)
    first = next(iter(files))
    with pytest.warns(UserWarning):                                             # zipfile warns of the duplicate
        twice = pack(manifest, files, extra=[(first, files[first])])
    refused(twice, DAMAGED)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, d in files.items():
            zf.writestr(n, d)
    refused(buf.getvalue(), DAMAGED)


def test_a_backup_whose_tables_are_not_its_layouts_is_refused_and_nothing_changes(data, tmp_path):
    manifest, files = parts(data)
    parquet = next(n for n in files if n.endswith(".parquet"))
    files["export/made_up.parquet"] = files[parquet]
    manifest["tables"]["made_up"] = manifest["tables"][parquet.split("/", 1)[1].removesuffix(".parquet")]
    manifest["files"] = {n: backup._sha256(d) for n, d in files.items() if n != "README.txt"}
    db = open_database(tmp_path / "empty.duckdb")
    try:
        before = db.query("SELECT count(*) FROM schema_version")
        with pytest.raises(backup.BackupError) as e:
            backup.restore_backup(db, pack(manifest, files), name="assembly.zip")
        assert str(e.value) == "“assembly.zip” does not match its own database layout. Nothing was changed."
        assert db.query("SELECT count(*) FROM schema_version") == before
    finally:
        db.close()
