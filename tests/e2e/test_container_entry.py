"""The container image's entry command and health check, run outside Docker (no Docker daemon here).

What the Dockerfile says is read from the Dockerfile itself (CMD, HEALTHCHECK, ENV, USER, VOLUME), and
the image is imitated as closely as this machine allows:

* the app's files are a copy of the repository made with .dockerignore's rules (as `COPY . .`), owned
  by root; the secrets file is mounted read-only at <app>/.streamlit/secrets.toml;
* the command runs as an unprivileged user (nobody, through setpriv) that may write only the data
  folder (the named volume /data), with the Dockerfile's environment, /data pointing at that folder;
* only two things differ, and say so: the port (a free one, not 8501, which a developer's app may
  hold) and the address (127.0.0.1 instead of 0.0.0.0: tests talk to this machine only); `streamlit`
  is this environment's (`python -m streamlit`), the same pinned version the image installs.

Then: the health check answers, the app starts on an empty, real database (no demo), the app's own
process writes its first backup into /data/backups, and `docker stop`'s SIGTERM stops it cleanly.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import _free_port, wait_idle

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534


def dockerfile() -> dict:
    text = ROOT.joinpath("Dockerfile").read_text()
    joined = re.sub(r"\\\n\s*", " ", text)                     # continuation lines
    lines = [ln.strip() for ln in joined.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    out: dict = {"ENV": {}, "RUN": [], "COPY": []}
    for ln in lines:
        word, _, rest = ln.partition(" ")
        if word == "ENV":
            out["ENV"].update(dict(re.findall(r"(\w+)=(\S+)", rest)))
        elif word in ("RUN", "COPY"):
            out[word].append(rest)
        elif word == "HEALTHCHECK":
            out["HEALTHCHECK"] = json.loads(rest.split(" CMD ", 1)[1])
        elif word in ("CMD", "VOLUME"):
            out[word] = json.loads(rest)
        else:
            out[word] = rest
    return out


def ignored(rel: str, patterns: list[str]) -> bool:
    """.dockerignore's rules, as far as this file uses them: a pattern matches the path or a folder above
    it; "**/x" matches x at any depth."""
    parts = rel.split("/")
    for pat in patterns:
        if pat.startswith("**/"):
            if any(fnmatch.fnmatch(part, pat[3:]) for part in parts):
                return True
        elif any(fnmatch.fnmatch("/".join(parts[:i]), pat) for i in range(1, len(parts) + 1)):
            return True
    return False


def copy_like_docker(dest: Path) -> None:
    patterns = [ln.strip() for ln in ROOT.joinpath(".dockerignore").read_text().splitlines()
                if ln.strip() and not ln.startswith("#")]
    for dirpath, dirnames, filenames in os.walk(ROOT):
        rel_dir = Path(dirpath).relative_to(ROOT).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = [d for d in dirnames if not ignored(rel_dir + d, patterns)]
        for name in filenames:
            rel = rel_dir + name
            if not ignored(rel, patterns):
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / rel, dest / rel)


def as_nobody(cmd: list[str]) -> list[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]


def test_the_dockerfile_is_what_the_guide_promises():
    d = dockerfile()
    assert d["FROM"] == "python:3.11-slim"
    assert d["USER"] not in ("root", "0") and d["USER"]
    assert d["VOLUME"] == ["/data"]
    assert d["ENV"]["KLEROTERION_DEMO"] == "0" and d["ENV"]["KLEROTERION_DB"].startswith("/data/")
    assert [r for r in d["RUN"] if "pip install" in r] == ["pip install -r requirements.txt"]
    assert d["CMD"][:3] == ["streamlit", "run", "app.py"] and "--server.address=0.0.0.0" in d["CMD"]
    assert "/_stcore/health" in " ".join(d["HEALTHCHECK"])
    compose = ROOT.joinpath("compose.yaml").read_text()
    assert re.search(r"source: kleroterion-data\s+target: /data", compose)
    assert re.search(r"target: /app/\.streamlit/secrets\.toml\s+read_only: true", compose)
    assert 'KLEROTERION_DEMO: "0"' in compose
    ignore = ROOT.joinpath(".dockerignore").read_text().split()
    for secret in (".streamlit/secrets.toml", "**/*.session-key", "**/*.survey-key", "**/*.duckdb", ".venv"):
        assert secret in ignore


def test_the_images_command_starts_a_healthy_app_on_an_empty_real_database(browser):
    d = dockerfile()
    port = _free_port()
    top = Path(tempfile.mkdtemp(prefix="kleroterion-image-"))
    os.chmod(top, 0o755)
    try:
        app, data, home = top / "app", top / "data", top / "home"
        app.mkdir()
        copy_like_docker(app)
        assert (app / "app.py").exists() and (app / ".streamlit" / "config.toml").exists()
        assert not (app / "tests").exists() and not (app / ".venv").exists()
        assert not list(app.rglob("*.duckdb")) and not (app / ".streamlit" / "secrets.toml").exists()
        secrets_file = app / ".streamlit" / "secrets.toml"
        secrets_file.write_text('[kleroterion_auth]\nvolunteer_emails = ["door@example.org"]\n')
        os.chmod(secrets_file, 0o444)                                 # mounted read-only
        for folder in (data, home):
            folder.mkdir(mode=0o700)
            os.chown(folder, NOBODY, NOBODY)

        env = {k: v for k, v in os.environ.items() if not k.startswith(("KLEROTERION_", "STREAMLIT_"))}
        for key, value in d["ENV"].items():
            env[key] = value.replace("/data", str(data)).replace("/home/kleroterion", str(home))
        cmd = [c.replace("--server.port=8501", f"--server.port={port}")
                .replace("--server.address=0.0.0.0", "--server.address=127.0.0.1") for c in d["CMD"]]
        assert cmd[0] == "streamlit"
        cmd = [sys.executable, "-m", "streamlit", *cmd[1:]]
        health = [sys.executable if c == "python" else c.replace(":8501/", f":{port}/") for c in d["HEALTHCHECK"]]

        log = open(top / "server.log", "w")
        proc = subprocess.Popen(as_nobody(cmd), cwd=app, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60                          # the HEALTHCHECK's start period
            while subprocess.run(as_nobody(health), env=env, capture_output=True).returncode != 0:
                assert proc.poll() is None, (top / "server.log").read_text()
                assert time.monotonic() < deadline, "no healthy answer in 60 s:\n" + (top / "server.log").read_text()
                time.sleep(0.5)

            page = browser.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"http://127.0.0.1:{port}/")
            wait_idle(page, 60_000)
            page.wait_for_timeout(1500)
            wait_idle(page, 60_000)
            body = page.inner_text("body")
            page.close()
            assert "Riverside" not in body and "Something went wrong" not in body and "Traceback" not in body
            assert "could not open its database" not in body

            backups = data / "backups"
            deadline = time.monotonic() + 30
            while not list(backups.glob("kleroterion-backup-*.zip")) and time.monotonic() < deadline:
                time.sleep(0.3)
            [made] = list(backups.glob("kleroterion-backup-*.zip"))
            assert made.stat().st_uid == NOBODY and stat.S_IMODE(made.stat().st_mode) == 0o600
        finally:
            proc.terminate()                                          # docker stop: SIGTERM
            rc = proc.wait(30)                                        # stop_grace_period
            log.close()
        assert rc == 0, (top / "server.log").read_text()
        assert subprocess.run(as_nobody(health), env=env, capture_output=True).returncode != 0
        server_log = (top / "server.log").read_text()
        assert "Traceback" not in server_log, server_log

        db_file = data / "kleroterion.duckdb"
        assert db_file.stat().st_uid == NOBODY
        from lib import backup
        from lib.store.db import Database, migrations

        db = Database(db_file, read_only=True)
        try:
            assert db.schema_version() == max(v for v, _n, _s in migrations())
            assert backup.assembly_summary(db) is None                 # empty: no demo was loaded
        finally:
            db.close()
        assert not list(app.rglob("*.duckdb")), "the app wrote outside /data"
    finally:
        shutil.rmtree(top, ignore_errors=True)
