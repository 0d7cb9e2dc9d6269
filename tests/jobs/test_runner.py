"""Scan jobs: cancel a running scan (nothing is marked missing, it ends "cancelled"),
cancel errors, and the cancel endpoint."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jobs.support import GatedSource

from reelhouse.core import Core
from reelhouse.errors import Conflict, NotFound

from helpers import install_source


def _wait(core: Core, job_id: int) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        state = core.jobs.get(job_id).state
        if state not in ("queued", "running"):
            return state
        time.sleep(0.02)
    raise AssertionError("job did not end")


def test_cancel_a_running_scan(core: Core, tmp_path: Path) -> None:
    src = GatedSource({"Films/Sintel.2010.mkv": b"x" * 100, "Films/Dune.2021.mkv": b"y" * 100},
                      timeout=10)
    sid = install_source(core, tmp_path, src)
    job = core.jobs.submit_scan(sid)
    assert src.entered.wait(10)
    core.jobs.cancel(job.id)
    src.gate.set()
    assert _wait(core, job.id) == "cancelled"
    assert "cancelled" in (core.jobs.get(job.id).error or "")
    with pytest.raises(Conflict):
        core.jobs.cancel(job.id)
    with pytest.raises(NotFound):
        core.jobs.cancel(999)
    # a later scan runs normally
    again = core.jobs.submit_scan(sid)
    assert _wait(core, again.id) == "done"
    assert core.jobs.get(again.id).progress["added"] == 2


def test_cancel_endpoint(client: TestClient, tmp_path: Path) -> None:
    sid = client.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(tmp_path)}).json()["id"]
    job = client.post(f"/api/sources/{sid}/scan").json()
    deadline = time.monotonic() + 20
    while client.get(f"/api/jobs/{job['id']}").json()["state"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    r = client.post(f"/api/jobs/{job['id']}/cancel")
    assert r.status_code == 409 and "ended" in r.json()["detail"]
    assert client.post("/api/jobs/999/cancel").status_code == 404
