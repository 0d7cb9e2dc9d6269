"""A one-shot CLI command never consumes or fails jobs it did not start (issue 11's
bug: every ``reelhouse transfer …`` / ``reelhouse sync`` built a consuming Core whose
start-up marked the server's running scan ``failed | interrupted``).

The server is a consuming Core in this process, in the middle of a scan held at its
first listing; real ``reelhouse`` processes then download, sync and scan another
source. A watcher reads the scan's row the whole time: it is never anything but
running (not even for a moment), keeps its owner, and ends done once released."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from jobs.support import GatedSource

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import Job
from reelhouse.sources.registry import SourceSpec

from helpers import install_source


def test_cli_commands_leave_the_servers_running_scan_alone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = Core(load_settings(data_dir=data))  # consumes, like `reelhouse serve`
    try:
        gated = GatedSource({"Films/Sintel.2010.mkv": b"x" * 100}, timeout=60)
        held_id = install_source(server, tmp_path, gated, "held")  # the server's scan reads this source
        other = tmp_path / "other"
        (other / "Heat (1995)").mkdir(parents=True)
        (other / "Heat (1995)/Heat.1995.mkv").write_bytes(b"h" * 5000)
        server.sources.create(SourceSpec(name="other", kind="local", path=str(other)))
        scan = server.jobs.submit_scan(held_id)
        assert gated.entered.wait(20)
        owner = server.jobs.get(scan.id).owner
        seen: set[tuple[str, str | None]] = set()
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                with server.sessions() as s:
                    row = s.execute(Job.__table__.select().where(Job.id == scan.id)).first()
                assert row is not None
                seen.add((row.state, row.owner))
                time.sleep(0.005)

        watcher = threading.Thread(target=watch, name="job-watcher", daemon=True)
        watcher.start()
        env = dict(os.environ, REELHOUSE_DATA_DIR=str(data), COLUMNS="200", NO_COLOR="1")
        for args in (["transfer", "download", "other", "Heat (1995)/Heat.1995.mkv"],
                     ["sync", "other"], ["scan", "other"]):
            proc = subprocess.run([sys.executable, "-m", "reelhouse.cli", *args], env=env, text=True,
                                  capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
            assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        stop.set()
        watcher.join(10)
        assert seen == {("running", owner)}  # never failed, never anyone else's
        cli_jobs = [j for j in server.jobs.recent(50) if j.id != scan.id]
        assert {j.kind for j in cli_jobs} == {"transfer", "sync", "scan"}
        assert all(j.state == "done" and j.owner is None for j in cli_jobs)
        gated.gate.set()
        deadline = time.monotonic() + 20
        while server.jobs.get(scan.id).state == "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert server.jobs.get(scan.id).state == "done"
        assert server.jobs.get(scan.id).progress["added"] == 1
    finally:
        server.close()
