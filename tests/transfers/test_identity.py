"""Transfer and job identity never rests on ids SQLite reuses (issue 11's bug: after a
source was deleted, with its transfers, a new transfer got a freed id that the queue
still remembered as cancelled, and was cancelled at once)."""

from __future__ import annotations

import time
from pathlib import Path

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER


def _source(core: Core, name: str, port: int) -> int:
    return core.sources.create(SourceSpec(name=name, kind="ftp", host="127.0.0.1", port=port,
                                          username=FTP_USER, password=FTP_PASSWORD)).id


def _ended(core: Core, tid: int) -> str:
    """The transfer's state once it and its job have ended."""
    deadline = time.monotonic() + 20
    while True:
        t = core.transfers.get(tid)
        if t.state not in ("queued", "running") and (
                t.job_id is None or core.jobs.get(t.job_id).state not in ("queued", "running")):
            return t.state
        assert time.monotonic() < deadline, "the transfer never ended"
        time.sleep(0.05)


def test_a_new_transfer_after_its_source_was_deleted_runs(
    ftp_server: EmbeddedFtpServer, ftp_root: Path, tcore: Core
) -> None:
    (ftp_root / "a.bin").write_bytes(b"a" * 10_000)
    first = _source(tcore, "first", ftp_server.port)
    cancelled = tcore.transfers.submit("mkdir", first, "made-by-first")
    try:
        tcore.transfers.cancel(cancelled.id)
    except Exception:  # it may have run already; either way it ended
        pass
    assert _ended(tcore, cancelled.id) in ("cancelled", "done")
    done = tcore.transfers.submit("download", first, "a.bin", local_path="a1.bin")
    assert _ended(tcore, done.id) == "done"
    tcore.sources.remove(first)  # deletes its transfers: their ids are free again

    second = _source(tcore, "second", ftp_server.port)
    again = tcore.transfers.submit("download", second, "a.bin", local_path="a2.bin")
    assert again.id in (cancelled.id, done.id)  # SQLite handed out a freed id
    assert again.job_id not in (cancelled.job_id, done.job_id)
    assert _ended(tcore, again.id) == "done", tcore.transfers.get(again.id).error
    assert (tcore.settings.store_dir / "a2.bin").read_bytes() == b"a" * 10_000
    retry = tcore.transfers.submit("download", second, "a.bin", local_path="a3.bin")
    assert _ended(tcore, retry.id) == "done"


def test_a_queued_transfer_of_a_deleted_source_ends(
    ftp_server: EmbeddedFtpServer, ftp_root: Path, tmp_path: Path
) -> None:
    """Its job is cancelled with the source (it found no transfer any more and ended
    failed before removing a source cancelled its transfers); it never runs another
    transfer that got the same id."""
    from reelhouse.config import load_settings

    settings = load_settings(data_dir=tmp_path / "data")
    queuer = Core(settings, consume_jobs=False)
    (ftp_root / "b.bin").write_bytes(b"b" * 1000)
    try:
        sid = _source(queuer, "gone", ftp_server.port)
        old = queuer.transfers.submit("download", sid, "b.bin", local_path="old.bin")
        queuer.sources.remove(sid)
        sid2 = _source(queuer, "kept", ftp_server.port)
        new = queuer.transfers.submit("download", sid2, "b.bin", local_path="new.bin")
        assert new.id == old.id  # the freed id, reused
    finally:
        queuer.close()
    consumer = Core(settings)
    try:
        assert _ended(consumer, new.id) == "done"
        assert consumer.jobs.get(old.job_id).state == "cancelled"  # type: ignore[arg-type]
        assert consumer.jobs.get(new.job_id).state == "done"  # type: ignore[arg-type]
        assert not (settings.store_dir / "old.bin").exists()
    finally:
        consumer.close()
