"""A ``reelhouse worker`` killed with SIGKILL in the middle of an upload, on Redis: its
claim on the upload's name (one upload per name for the whole cluster,
``TransferQueue.claim_upload``) runs out before its job's lease, so the worker that
runs the job again resumes the ``.part`` and ends done, instead of finding the name
still claimed by the dead worker and failing with a conflict."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs.support import DATA, stop_workers, until, worker
from pyftpdlib.handlers import ThrottledDTPHandler

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, stop_without_leaks

pytestmark = [pytest.mark.requires_redis]

LEASE = 1.5  # seconds: short, so the test waits little for the dead worker's lease


class SlowUpDTP(ThrottledDTPHandler):  # type: ignore[misc]
    read_limit = 256 * 1024  # bytes/s received: an upload of DATA takes ~4 s


@pytest.fixture
def slow_up_ftp(ftp_root: Path) -> Iterator[EmbeddedFtpServer]:
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD,
                               handler_overrides={"dtp_handler": SlowUpDTP, "use_sendfile": False}).start()
    yield server
    stop_without_leaks(server, wait=10)


def test_a_killed_worker_s_upload_runs_on_another_worker(tmp_path: Path, ftp_root: Path,
                                                         slow_up_ftp: EmbeddedFtpServer, redis_url: str) -> None:
    backend = {"REELHOUSE_JOBS_BACKEND": "redis", "REELHOUSE_REDIS_URL": redis_url}
    env = dict(os.environ, REELHOUSE_DATA_DIR=str(tmp_path / "data"), REELHOUSE_JOB_LEASE=str(LEASE),
               REELHOUSE_JOBS_IN_PROCESS="false", **backend)
    settings = load_settings(data_dir=tmp_path / "data", job_lease=LEASE, jobs_in_process=False,
                             jobs_backend="redis", redis_url=redis_url)
    web = Core(settings)  # queues only
    first = second = None
    try:
        local = settings.store_dir / "f.bin"
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(DATA)
        row = web.sources.create(SourceSpec(name="slow", kind="ftp", host="127.0.0.1", port=slow_up_ftp.port,
                                            username=FTP_USER, password=FTP_PASSWORD))
        t = web.transfers.submit("upload", row.id, "up/f.bin", local_path=local)
        assert t.job_id is not None
        first = worker(env)
        until(lambda: web.transfers.get(t.id).bytes_done > 100_000, 30, "the first worker never started")
        first.send_signal(signal.SIGKILL)  # dies mid-upload: its claim and lease stay behind
        first.wait(10)
        second = worker(env)
        until(lambda: web.transfers.get(t.id).state not in ("queued", "running"), 40, "the upload never ended")
        done = web.transfers.get(t.id)
        assert done.state == "done", done.error
        assert (ftp_root / "up/f.bin").read_bytes() == DATA
        assert web.jobs.get(t.job_id).attempts == 2
    finally:
        stop_workers(first, second)
        web.close()
