"""Leases: a ``reelhouse worker`` killed with SIGKILL in the middle of a job (a download
from a slow FTP server) leaves the job to another worker once its lease passes; the
job resumes from its ``.part`` and ends done, on SQLite and on Redis. Jobs are never
"running forever" and never marked failed because a process started."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from jobs.support import DATA, stop_workers, until, worker

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import Job
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER

LEASE = 1.5  # seconds: short, so the test waits little for the dead worker's lease


def _killed_worker_job_runs_elsewhere(tmp_path: Path, port: int, backend: dict[str, str]) -> None:
    env = dict(os.environ, REELHOUSE_DATA_DIR=str(tmp_path / "data"), REELHOUSE_JOB_LEASE=str(LEASE),
               REELHOUSE_JOBS_IN_PROCESS="false", **backend)
    settings = load_settings(data_dir=tmp_path / "data", job_lease=LEASE, jobs_in_process=False,
                             **{k.removeprefix("REELHOUSE_").lower(): v for k, v in backend.items()})
    web = Core(settings)  # queues only
    first = second = None
    try:
        row = web.sources.create(SourceSpec(name="slow", kind="ftp", host="127.0.0.1", port=port,
                                            username=FTP_USER, password=FTP_PASSWORD))
        t = web.transfers.submit("download", row.id, "f.bin")
        assert t.job_id is not None
        first = worker(env)
        until(lambda: web.transfers.get(t.id).bytes_done > 100_000, 30, "the first worker never started")
        owner = web.jobs.get(t.job_id).owner
        first.send_signal(signal.SIGKILL)  # dies mid-download: no clean-up of any kind
        first.wait(10)
        job = web.jobs.get(t.job_id)
        assert (job.state, job.owner) == ("running", owner)  # until its lease passes
        second = worker(env)  # its reaper queues the job again (the transfer follows)
        until(lambda: web.jobs.get(t.job_id).state != "running" or web.jobs.get(t.job_id).owner != owner,
              30, "the lease was never taken back")
        states = set()

        def ended() -> bool:
            states.add(web.jobs.get(t.job_id).state)
            return web.transfers.get(t.id).state not in ("queued", "running")

        until(ended, 30, "the job never ran again")
        done = web.transfers.get(t.id)
        assert done.state == "done", done.error
        assert Path(str(done.local_path)).read_bytes() == DATA
        # the job's row ends a moment after its transfer's (two commits)
        until(lambda: web.jobs.get(t.job_id).state not in ("queued", "running"), 30, "the job never ended")
        job = web.jobs.get(t.job_id)
        assert job.state == "done" and job.attempts == 2 and "failed" not in states
    finally:
        stop_workers(first, second)
        web.close()


def test_a_killed_worker_s_job_runs_on_another_worker_sqlite(tmp_path: Path, slow_ftp: EmbeddedFtpServer) -> None:
    _killed_worker_job_runs_elsewhere(tmp_path, slow_ftp.port, {})


@pytest.mark.requires_redis
def test_a_killed_worker_s_job_runs_on_another_worker_redis(
    tmp_path: Path, slow_ftp: EmbeddedFtpServer, redis_url: str
) -> None:
    _killed_worker_job_runs_elsewhere(tmp_path, slow_ftp.port, {"REELHOUSE_JOBS_BACKEND": "redis",
                                                                "REELHOUSE_REDIS_URL": redis_url})


def test_the_reaper_gives_up_on_a_job_that_kills_its_workers(core: Core) -> None:
    """A job claimed MAX_ATTEMPTS times without ending fails instead of looping."""
    from datetime import timedelta

    from sqlalchemy import update

    from reelhouse.db.models import utcnow
    from reelhouse.jobs.leases import MAX_ATTEMPTS

    sid = core.sources.create(SourceSpec(name="disk", kind="local", path=str(core.settings.data_dir))).id
    with core.sessions() as s:
        job = Job(kind="scan", source_id=sid, state="running", progress={}, owner="gone:1:x",
                  attempts=MAX_ATTEMPTS, lease_until=utcnow() - timedelta(seconds=1))
        s.add(job)
        s.commit()
    assert core.jobs.leases.reap() == [job.id]
    ended = core.jobs.get(job.id)
    assert ended.state == "failed" and "stopped" in (ended.error or "")
    with core.sessions() as s:  # a live lease is left alone
        s.execute(update(Job).where(Job.id == job.id).values(state="running", owner="x",
                                                             lease_until=utcnow() + timedelta(seconds=60)))
        s.commit()
    assert core.jobs.leases.reap() == []
