"""Stopping on purpose: a ``reelhouse worker`` stopped with SIGTERM puts its running job
back in the queue at once (no lease to wait for) and the next worker resumes it; Ctrl-C
in a CLI command cancels the job it runs (no worker takes it up later)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from jobs.support import DATA, stop_workers, until, worker

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER


def test_a_stopped_worker_queues_its_job_again(tmp_path: Path, slow_ftp: EmbeddedFtpServer) -> None:
    """SIGTERM: the worker stops its running job at once and puts it back in the queue
    (no waiting for a lease); the next worker resumes it."""
    env = dict(os.environ, REELHOUSE_DATA_DIR=str(tmp_path / "data"), REELHOUSE_JOBS_IN_PROCESS="false")
    web = Core(load_settings(data_dir=tmp_path / "data", jobs_in_process=False))
    proc = None
    try:
        row = web.sources.create(SourceSpec(name="slow", kind="ftp", host="127.0.0.1",
                                            port=slow_ftp.port, username=FTP_USER, password=FTP_PASSWORD))
        t = web.transfers.submit("download", row.id, "f.bin")
        proc = worker(env)
        until(lambda: web.transfers.get(t.id).bytes_done > 100_000, 30, "the worker never started")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        job = web.jobs.get(t.job_id)  # type: ignore[arg-type]
        assert (job.state, job.owner, job.lease_until) == ("queued", None, None)
        assert "stopped" in (job.error or "") and web.transfers.get(t.id).state == "queued"
        proc = worker(env)
        until(lambda: web.transfers.get(t.id).state == "done", 30, "the job never ran again")
        assert Path(str(web.transfers.get(t.id).local_path)).read_bytes() == DATA
    finally:
        stop_workers(proc)
        web.close()


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_cancels_the_cli_s_own_transfer(tmp_path: Path, slow_ftp: EmbeddedFtpServer) -> None:
    """Ctrl-C in ``reelhouse transfer download`` ends its job cancelled (no worker
    picks it up later) and the command exits 130."""
    env = dict(os.environ, REELHOUSE_DATA_DIR=str(tmp_path / "data"))
    # 4 MiB at 256 KiB/s: ~16 s, so Ctrl-C lands mid-download even when a loaded machine
    # is slow to show the first progress (f.bin's ~4 s could end before it)
    (slow_ftp.root / "long.bin").write_bytes(os.urandom(4 * 1024 * 1024))
    web = Core(load_settings(data_dir=tmp_path / "data"), consume_jobs=False)
    try:
        web.sources.create(SourceSpec(name="slow", kind="ftp", host="127.0.0.1", port=slow_ftp.port,
                                      username=FTP_USER, password=FTP_PASSWORD))
        # SIGINT at its default in the child, as in a terminal: a test run started in the
        # background by a shell without job control (`cmd &`) ignores SIGINT, the child
        # inherits that, and Python then installs no KeyboardInterrupt handler (it exited 0)
        cli = subprocess.Popen([sys.executable, "-m", "reelhouse.cli", "transfer", "download", "slow",
                                "long.bin"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               preexec_fn=_default_sigint)
        until(lambda: any(t.bytes_done > 100_000 for t in web.transfers.list()), 30, "no download")
        cli.send_signal(signal.SIGINT)
        _, err = cli.communicate(timeout=20)
        assert cli.returncode == 130, err
        (t,) = web.transfers.list()
        job = web.jobs.get(t.job_id)  # type: ignore[arg-type]
        assert (job.state, job.owner) == ("cancelled", None) and t.state == "cancelled"
    finally:
        web.close()
