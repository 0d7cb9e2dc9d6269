"""The huey job queue: queued scans survive a restart, scheduled rescans, and a separate
``reelhouse worker`` process running the jobs of a web server over a real Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, SourceRow, utcnow
from reelhouse.sources.registry import SourceSpec


def _wait(core: Core, job_id: int, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = core.jobs.get(job_id).state
        if state not in ("queued", "running"):
            return state
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {core.jobs.get(job_id).state} after {timeout} s")


def _library(tmp_path: Path) -> Path:
    root = tmp_path / "films"
    (root / "Heat (1995)").mkdir(parents=True)
    (root / "Heat (1995)/Heat.1995.mkv").write_bytes(b"\0" * 1000)
    return root


def _files(core: Core) -> int:
    with core.sessions() as s:
        return len(s.query(MediaFile).all())


def test_a_queued_scan_survives_a_restart(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    first = Core(settings, consume_jobs=False)  # a server that stops before the job runs
    sid = first.sources.create(SourceSpec(name="disk", kind="local", path=str(_library(tmp_path)))).id
    job = first.jobs.submit_scan(sid)
    assert first.jobs.submit_scan(sid).id == job.id  # one scan per source at a time
    first.close()
    assert first.jobs.get(job.id).state == "queued"

    again = Core(settings)
    try:
        assert _wait(again, job.id) == "done"
        assert _files(again) == 1
    finally:
        again.close()


def test_cancel_before_start_is_seen_by_the_consumer(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    first = Core(settings, consume_jobs=False)
    sid = first.sources.create(SourceSpec(name="disk", kind="local", path=str(_library(tmp_path)))).id
    job = first.jobs.submit_scan(sid)
    assert first.jobs.cancel(job.id).cancel_requested
    first.close()
    again = Core(settings)
    try:
        assert _wait(again, job.id) == "cancelled"
        assert _files(again) == 0
    finally:
        again.close()


def test_schedule_queues_due_sources_only(tmp_path: Path) -> None:
    core = Core(load_settings(data_dir=tmp_path / "data", scan_interval_minutes=60))
    try:
        lib = _library(tmp_path)
        every = core.sources.create(SourceSpec(name="default", kind="local", path=str(lib))).id
        often = core.sources.create(SourceSpec(name="often", kind="local", path=str(lib), scan_interval=5)).id
        never = core.sources.create(SourceSpec(name="never", kind="local", path=str(lib), scan_interval=0)).id
        assert core.jobs.due_sources() == [every, often]  # never scanned yet
        now = utcnow()
        with core.sessions() as s:
            s.execute(update(SourceRow).values(last_scan_at=now - timedelta(minutes=10)))
            s.commit()
        assert core.jobs.due_sources(now) == [often]
        assert core.jobs.due_sources(now + timedelta(minutes=51)) == [every, often]
        assert never not in core.jobs.due_sources(now + timedelta(days=365))
        assert core.jobs.run_schedule(now) == [often]
        # a scheduled rescan is a sync: its report is kept in the sync history
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            runs = core.syncs.history(often)
            if runs and runs[0].state != "running":
                break
            time.sleep(0.05)
        assert runs and runs[0].state == "done" and runs[0].added == 1
        assert often not in core.jobs.due_sources()  # last_scan_at moved on
    finally:
        core.close()


def test_scan_interval_is_validated_at_the_api(client: object) -> None:
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    r = client.post("/api/sources", json={"name": "x", "kind": "local", "path": "/tmp", "scan_interval": -1})
    assert r.status_code == 422
    r = client.post("/api/sources", json={"name": "x", "kind": "local", "path": "/tmp", "scan_interval": 30})
    assert r.status_code == 201 and r.json()["scan_interval"] == 30


@pytest.mark.requires_redis
def test_worker_process_runs_the_web_servers_jobs_over_redis(tmp_path: Path, redis_url: str) -> None:
    env = dict(os.environ, REELHOUSE_DATA_DIR=str(tmp_path / "data"), REELHOUSE_JOBS_BACKEND="redis",
               REELHOUSE_REDIS_URL=redis_url, REELHOUSE_JOBS_IN_PROCESS="false")
    settings = load_settings(data_dir=tmp_path / "data", jobs_backend="redis", redis_url=redis_url,
                             jobs_in_process=False)
    web = Core(settings)  # a web server that only queues
    worker = None
    try:
        sid = web.sources.create(SourceSpec(name="disk", kind="local", path=str(_library(tmp_path)))).id
        job = web.jobs.submit_scan(sid)
        time.sleep(0.5)
        assert web.jobs.get(job.id).state == "queued"  # nobody consumes in the web server
        worker = subprocess.Popen([sys.executable, "-m", "reelhouse.cli", "worker"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert _wait(web, job.id) == "done"
        assert _files(web) == 1
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            out = worker.communicate(timeout=20)[0].decode()
            assert worker.returncode is not None, out
        web.close()
