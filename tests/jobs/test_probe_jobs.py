"""Phase 2 of a scan as probe jobs (issue 14, jobs/probes.py): the library is browsable
(every file named, placed in its film or show, shown by the API) before any byte of any
file is read; the probe jobs then fill in the technical metadata; a file whose probe
fails is one error line and the others go on; a worker killed in the middle of phase 2
leaves its jobs to another worker, and the scan still ends done with every file probed."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jobs.support import SlowDTP, stop_workers, until, worker
from sqlalchemy import func, select

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import Job, MediaFile
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.library.probe import ProbeResult
from reelhouse.sources.memory import MemorySource
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, garbled, install_source, place, stop_without_leaks, wait_job

pytestmark = pytest.mark.requires_ffmpeg

FILES = ("Films/Sintel (2010)/Sintel.2010.1080p.mp4", "Films/Dune (2021)/Dune.2021.mp4",
         "Shows/Dark/Season 01/Dark.S01E01.mp4", "Shows/Dark/Season 01/Dark.S01E02.mp4")


class GatedReads(MemorySource):
    """Listings answer at once; every read waits for ``gate`` (a far, slow server)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__(files)
        self.gate = threading.Event()
        self.reads = 0

    def read_range(self, path: str, offset: int, length: int) -> Iterator[bytes]:
        assert self.gate.wait(30)
        self.reads += 1  # reads served
        return super().read_range(path, offset, length)


def test_browsable_before_any_read_then_probe_jobs_fill_it(core: Core, client: TestClient, tmp_path: Path,
                                                           sample_mp4: Path) -> None:
    src = GatedReads(dict.fromkeys(FILES, sample_mp4.read_bytes()))
    sid = install_source(core, tmp_path, src)
    core.jobs.probes.chunk = 2  # two probe jobs
    scan = client.post(f"/api/sources/{sid}/scan").json()
    until(lambda: client.get("/api/library/items").json()["total"] == 3, 20, "never browsable")  # 2 films, 1 show
    files = client.get("/api/library/media-files?per_page=50").json()["items"]
    assert sorted(f["path"] for f in files) == sorted(FILES)
    assert all((f["movie_id"] or f["episode_id"]) and f["container"] is None and f["duration"] is None
               for f in files)
    until(lambda: client.get(f"/api/jobs/{scan['id']}").json()["progress"].get("to_probe") == 4, 10,
          "the scan never said what phase 2 has to do")
    job = client.get(f"/api/jobs/{scan['id']}").json()
    assert job["state"] == "running" and job["progress"]["added"] == 4 and job["progress"]["probe_done"] == 0
    assert src.reads == 0
    assert "probe" not in {j["kind"] for j in client.get("/api/jobs").json()}  # parts of the scan
    src.gate.set()
    ended = wait_job(client, scan["id"])
    assert ended["state"] == "done", ended
    progress = ended["progress"]
    assert isinstance(progress, dict)
    assert (progress["probed"], progress["probe_done"], progress["errors"]) == (4, 4, 0)
    files = client.get("/api/library/media-files?per_page=50").json()["items"]
    assert all(f["container"] == "mp4" and f["duration"] > 10 and f["video_codec"] == "h264" for f in files)
    with core.sessions() as s:
        probes = list(s.scalars(select(Job).where(Job.kind == "probe")))
        assert len(probes) == 2 and {p.state for p in probes} == {"done"}
        assert all(r.content_hash for r in s.scalars(select(MediaFile)))
    src.gate.clear()  # a rescan of the unchanged library reads nothing, queues nothing
    again = wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])
    progress = again["progress"]
    assert isinstance(progress, dict)
    assert again["state"] == "done" and (progress["unchanged"], progress["to_probe"]) == (4, 0)
    with core.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Job).where(Job.kind == "probe")) == 2


def test_a_scan_cancelled_in_phase_2_keeps_its_files_and_the_next_scan_probes_them(
        core: Core, client: TestClient, tmp_path: Path, sample_mp4: Path) -> None:
    src = GatedReads(dict.fromkeys(FILES, sample_mp4.read_bytes()))
    sid = install_source(core, tmp_path, src)
    core.jobs.probes.chunk = 1  # four probe jobs: cancelled, or asked to stop, with the scan
    scan = client.post(f"/api/sources/{sid}/scan").json()
    until(lambda: client.get(f"/api/jobs/{scan['id']}").json()["progress"].get("to_probe") == 4, 20,
          "phase 1 never ended")
    assert client.post(f"/api/jobs/{scan['id']}/cancel").status_code == 202
    src.gate.set()  # the probes under way end (or stop) on their own
    until(lambda: client.get(f"/api/jobs/{scan['id']}").json()["state"] not in ("queued", "running"), 30,
          "the cancelled scan never ended")
    assert client.get(f"/api/jobs/{scan['id']}").json()["state"] == "cancelled"
    with core.sessions() as s:
        until(lambda: not s.scalar(select(func.count()).select_from(Job).where(
            Job.kind == "probe", Job.state.in_(("queued", "running")))), 20, "probe jobs left behind")
        assert s.scalar(select(func.count()).select_from(MediaFile)) == 4  # still browsable
    again = wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])
    progress = again["progress"]
    assert isinstance(progress, dict)
    assert again["state"] == "done" and progress["added"] == 0
    with core.sessions() as s:
        assert all(r.video_codec == "h264" for r in s.scalars(select(MediaFile)))


def test_a_failed_probe_does_not_stop_the_others(core: Core, tmp_path: Path, sample_mp4: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import reelhouse.library.prefetch as prefetch

    good = sample_mp4.read_bytes()
    src = MemorySource({"Films/Sintel.2010.mp4": good, "Films/Broken.2011.mp4": garbled(5000),
                        "Films/Empty.2012.mp4": b"", "Films/Crash.2013.mp4": good,
                        "Films/Dune.2021.mp4": good})
    sid = install_source(core, tmp_path, src)
    real = prefetch.probe

    def probe(source: object, path: str, size: int, **kw: object) -> ProbeResult:
        if path == "Films/Crash.2013.mp4":
            raise RuntimeError("the demuxer fell over")  # a bug, not a ProbeFailed
        return real(source, path, size, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(prefetch, "probe", probe)
    core.jobs.probes.chunk = 2
    report = core.jobs.run_scan_now(sid)
    assert report.outcome == "done" and report.added == 5 and report.probed == 2
    assert len(report.errors) == 3
    assert {e.split(":")[0] for e in report.errors} == {"Films/Broken.2011.mp4", "Films/Empty.2012.mp4",
                                                       "Films/Crash.2013.mp4"}
    with core.sessions() as s:
        rows = {r.path: r for r in s.scalars(select(MediaFile))}
    assert rows["Films/Sintel.2010.mp4"].video_codec == rows["Films/Dune.2021.mp4"].video_codec == "h264"
    assert "internal error: the demuxer fell over" in (rows["Films/Crash.2013.mp4"].probe_error or "")
    assert rows["Films/Broken.2011.mp4"].probe_error and rows["Films/Empty.2012.mp4"].probe_error


LEASE = 1.5  # seconds: the dead worker's jobs come back soon


def test_a_worker_killed_in_phase_2_leaves_its_jobs_to_another(tmp_path: Path, ftp_root: Path,
                                                               sample_mp4: Path) -> None:
    for i in range(16):  # 8 probe jobs; the worker reads 4 files at a time
        place(sample_mp4, ftp_root, f"Films/Film {i} ({2000 + i})/Film.{i}.{2000 + i}.mp4")
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD,  # 256 KiB/s: ~1 s a probe
                               handler_overrides={"dtp_handler": SlowDTP, "use_sendfile": False}).start()
    data = tmp_path / "data"
    env = dict(os.environ, REELHOUSE_DATA_DIR=str(data), REELHOUSE_JOB_LEASE=str(LEASE),
               REELHOUSE_JOBS_IN_PROCESS="false", REELHOUSE_PROBE_JOB_FILES="2")
    web = Core(load_settings(data_dir=data, job_lease=LEASE, jobs_in_process=False))  # queues only
    first = second = None
    try:
        sid = web.sources.create(SourceSpec(name="slow", kind="ftp", host="127.0.0.1", port=server.port,
                                            username=FTP_USER, password=FTP_PASSWORD)).id
        scan = web.jobs.submit_scan(sid)
        first = worker(env)

        def probed() -> int:
            with web.sessions() as s:
                return s.scalar(select(func.count()).select_from(MediaFile)
                                .where(MediaFile.probe_bytes.is_not(None))) or 0

        def probing() -> bool:  # a probe job of the first worker is running now
            with web.sessions() as s:
                return bool(s.scalar(select(func.count()).select_from(Job)
                                     .where(Job.kind == "probe", Job.state == "running")))

        # killed while a probe job runs (not between two: then none would be taken back)
        until(lambda: probed() >= 1 and probing(), 60, "the first worker never probed a file")
        owner = web.jobs.get(scan.id).owner
        first.send_signal(signal.SIGKILL)  # mid-phase 2: the scan and its probe jobs die with it
        first.wait(10)
        killed_mid_job = probing()  # False when the job ended just before the kill (a loaded machine)
        assert probed() < 16
        assert (web.jobs.get(scan.id).state, web.jobs.get(scan.id).owner) == ("running", owner)
        second = worker(env)
        until(lambda: web.jobs.get(scan.id).state not in ("queued", "running"), 90, "the scan never ended")
        ended = web.jobs.get(scan.id)
        assert ended.state == "done" and ended.attempts == 2, ended.error
        assert probed() == 16 and ended.progress["errors"] == 0
        with web.sessions() as s:
            jobs = list(s.scalars(select(Job).where(Job.kind == "probe")))
        # the scan run again found the dead worker's probe jobs: no file queued twice
        assert len(jobs) == 8 and {j.state for j in jobs} == {"done"}
        if killed_mid_job:
            assert any(j.attempts == 2 for j in jobs)  # taken back from the dead worker
    finally:
        stop_workers(first, second)
        web.close()
        stop_without_leaks(server, wait=10)
