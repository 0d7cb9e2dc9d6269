"""The job system's own rules, on a consuming Core with kinds registered by the test:
retries after a delay, cancel while queued and while running, a lost lease (the body
stops and writes nothing more), unknown kinds, and a sync whose job is cancelled."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from jobs.support import GatedSource
from sqlalchemy import update

from reelhouse.core import Core
from reelhouse.db.models import Job
from reelhouse.errors import Cancelled, InvalidInput
from reelhouse.jobs.system import CANCEL_POLL
from reelhouse.jobs.tasks import JobContext, Outcome, Retry, TaskSpec

from helpers import install_source


def _ended(core: Core, job_id: int, timeout: float = 20) -> Job:
    deadline = time.monotonic() + timeout
    while (job := core.jobs.get(job_id)).state in ("queued", "running"):
        assert time.monotonic() < deadline, f"job {job_id} still {job.state}"
        time.sleep(0.02)
    return job


def test_retry_runs_the_job_again_after_its_delay(core: Core) -> None:
    runs: list[float] = []

    def flaky(ctx: JobContext) -> Outcome:
        runs.append(time.monotonic())
        if ctx.attempt == 1:
            raise Retry("the server was busy", 0.3)
        return Outcome({"attempt": ctx.attempt}, value="ok")

    core.jobs.register(TaskSpec("flaky", flaky))
    job = _ended(core, core.jobs.submit("flaky", payload={"x": 1}).id)
    assert (job.state, job.attempts, job.progress) == ("done", 2, {"attempt": 2})
    assert runs[1] - runs[0] >= 0.3  # seconds: not before its delay
    assert job.owner is None and job.lease_until is None


def test_cancel_queued_and_running(core: Core) -> None:
    started = threading.Event()

    def endless(ctx: JobContext) -> None:
        started.set()
        while not ctx.should_stop():
            ctx.progress({"ticks": 1}, "working")
            time.sleep(0.01)
        raise Cancelled("stopped on request")

    core.jobs.register(TaskSpec("endless", endless))
    running = core.jobs.submit("endless")
    assert started.wait(10)
    t0 = time.monotonic()
    core.jobs.cancel(running.id)
    ended = _ended(core, running.id)
    assert ended.state == "cancelled" and time.monotonic() - t0 < CANCEL_POLL + 5  # room for a loaded machine
    core.jobs.close()  # nothing consumes now
    fresh = core.jobs.submit("endless")
    assert core.jobs.cancel(fresh.id).state == "cancelled"  # at once, no worker needed


def test_a_body_that_lost_its_lease_stops_and_writes_nothing(core: Core) -> None:
    started = threading.Event()
    stopped = threading.Event()

    def endless(ctx: JobContext) -> None:
        started.set()
        while not ctx.should_stop():
            ctx.progress({"ticks": 1}, "mine")
            time.sleep(0.01)
        stopped.set()
        raise Cancelled("lost")

    core.jobs.register(TaskSpec("endless", endless))
    job = core.jobs.submit("endless")
    assert started.wait(10)
    with core.sessions() as s:  # the reaper of another worker gave it to that worker
        s.execute(update(Job).where(Job.id == job.id).values(owner="other:1:x", message="theirs"))
        s.commit()
    assert stopped.wait(CANCEL_POLL + 5)
    time.sleep(0.2)
    row = core.jobs.get(job.id)
    assert (row.state, row.owner, row.message) == ("running", "other:1:x", "theirs")


def test_unknown_kinds_are_refused(core: Core) -> None:
    with pytest.raises(InvalidInput):
        core.jobs.submit("nope")


def test_a_cancelled_sync_ends_its_run_failed(core: Core, tmp_path: Path) -> None:
    src = GatedSource({"Films/Sintel.2010.mkv": b"x" * 100}, timeout=20)
    sid = install_source(core, tmp_path, src)
    run = core.syncs.start(sid)
    assert core.syncs.start(sid).id == run.id  # one per source at a time
    assert src.entered.wait(10) and run.job_id is not None
    core.jobs.cancel(run.job_id)
    src.gate.set()
    assert _ended(core, run.job_id).state == "cancelled"
    deadline = time.monotonic() + 10  # the run follows its job right after (on_change)
    while (ended := core.syncs.get(run.id)).state == "running":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert ended.state == "failed" and "cancel" in ended.errors[0]
    assert ended.finished_at is not None
