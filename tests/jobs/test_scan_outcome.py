"""A scan whose folders could not all be listed ends ``partial`` (or ``failed`` when
half or more failed), with the failed folders listed: in the API's job, the source's
last error and the CLI's summary; never ``done`` (issue 14: 400 of 407 failed folders
ended "done")."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from rich.console import Console

from reelhouse.cli.progress import scan_with_progress
from reelhouse.core import Core
from reelhouse.sources.memory import MemorySource

from helpers import install_source


def _library(folders: int) -> MemorySource:
    return MemorySource({f"Films/Film {i} ({2000 + i})/Film.{i}.{2000 + i}.mkv": b"x" for i in range(folders)})


def _scan(client: TestClient, sid: int) -> dict[str, object]:
    job = client.post(f"/api/sources/{sid}/scan").json()
    deadline = time.monotonic() + 20
    while job["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, "the scan did not end"
        time.sleep(0.05)
        job = client.get(f"/api/jobs/{job['id']}").json()
    return job  # type: ignore[no-any-return]


def test_some_failed_folders_end_partial_with_the_folders_listed(
    core: Core, client: TestClient, tmp_path: Path
) -> None:
    src = _library(10)
    src.failing = {"Films/Film 3 (2003)", "Films/Film 7 (2007)"}
    sid = install_source(core, tmp_path, src)
    job = _scan(client, sid)
    assert job["state"] == "partial"
    assert job["progress"]["folders_failed"] == 2 and job["progress"]["added"] == 8  # type: ignore[index]
    error = str(job["error"])
    assert error.startswith("2 of 12 folders could not be listed")
    assert "Films/Film 3 (2003)" in error and "Films/Film 7 (2007)" in error
    source = next(s for s in client.get("/api/sources").json() if s["id"] == sid)
    assert "could not be listed" in (source.get("last_error") or "")
    # once every folder lists again, the scan is done and the source's error clears
    src.failing = set()
    job = _scan(client, sid)
    assert job["state"] == "done" and "could not be listed" not in str(job["error"])
    source = next(s for s in client.get("/api/sources").json() if s["id"] == sid)
    assert not source.get("last_error")


def test_most_folders_failed_is_a_failed_scan(core: Core, client: TestClient, tmp_path: Path) -> None:
    src = _library(10)
    src.failing = {f"Films/Film {i} ({2000 + i})" for i in range(8)}
    sid = install_source(core, tmp_path, src)
    job = _scan(client, sid)
    assert job["state"] == "failed"
    assert str(job["error"]).startswith("8 of 12 folders could not be listed")


def test_cli_summary_shows_a_partial_scan(core: Core, tmp_path: Path) -> None:
    src = _library(4)
    src.failing = {"Films/Film 1 (2001)"}
    sid = install_source(core, tmp_path, src)
    console = Console(record=True, width=200)
    failed = scan_with_progress(core, [core.sources.get(sid)], console)
    out = console.export_text()
    assert failed == 1
    assert "⚠ partial: disk" in out
    assert "1 of 6 folders could not be listed" in out and "Films/Film 1 (2001)" in out
