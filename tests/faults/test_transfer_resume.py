"""Transfers that lose their FTP server half-way: the server is killed at 50 % of an
upload (or a download) and comes back on the same port; the queue retries and resumes
from what the server (or the local .part) holds, and the result is byte-identical."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.errors import SourceUnavailable
from reelhouse.sources.registry import SourceSpec

from helpers import ADMIN, ADMIN_PASSWORD, FTP_PASSWORD, FTP_USER, Restartable

SIZE = 16 * 1024 * 1024 + 3


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Restartable]:
    (tmp_path / "ftp").mkdir()
    srv = Restartable(tmp_path / "ftp")
    yield srv
    srv.kill()


@pytest.fixture
def tcore(tmp_path: Path, server: Restartable) -> Iterator[Core]:
    settings = load_settings(data_dir=tmp_path / "data", transfer_retry_delay=0.2)
    c = Core(settings, consume_jobs=False)  # like the CLI: run_now runs each transfer here
    c.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
    yield c
    c.close()


def _source(core: Core, port: int) -> int:
    row = core.sources.create(SourceSpec(name="seedbox", kind="ftp", host="127.0.0.1", port=port,
                                         username=FTP_USER, password=FTP_PASSWORD))
    return row.id


def _kill_at_half(server: Restartable) -> tuple[list[int], object]:
    """A progress callback that kills the server once 50 % is passed and brings it
    back 0.5 s later (in another thread); returns (bytes seen at the kill, callback)."""
    seen: list[int] = []

    def progress(done: int, total: int | None, rate: float | None) -> None:
        if len(seen) == 1 and done < seen[0]:
            seen.append(done)  # the first position after the kill: where it resumed
        if not seen and total and done >= total // 2:
            seen.append(done)
            server.kill()
            threading.Thread(target=lambda: (time.sleep(0.5), server.revive()), daemon=True).start()

    return seen, progress


def test_upload_interrupted_at_half_resumes_byte_identical(
    server: Restartable, tcore: Core, tmp_path: Path
) -> None:
    data = os.urandom(SIZE)
    local = tmp_path / "film.mkv"
    local.write_bytes(data)
    sid = _source(tcore, server.port)
    t = tcore.transfers.submit("upload", sid, "Films/Film.2020.mkv", local_path=local)
    seen, progress = _kill_at_half(server)
    start = time.monotonic()
    done = tcore.transfers.run_now(t.id, progress)  # type: ignore[arg-type]
    assert seen, "the server was never killed"
    assert done.state == "done", done.error
    assert len(seen) == 2 and seen[1] > 0, f"resumed from byte {seen[1:]} (not from the start)"
    assert done.attempts >= 2
    stored = server.root / "Films/Film.2020.mkv"
    assert hashlib.sha256(stored.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert not (server.root / "Films/Film.2020.mkv.reelhouse.part").exists()
    assert time.monotonic() - start < 30


def test_download_interrupted_at_half_resumes_byte_identical(
    server: Restartable, tcore: Core
) -> None:
    data = os.urandom(SIZE)
    (server.root / "Films").mkdir()
    (server.root / "Films/Film.2020.mkv").write_bytes(data)
    sid = _source(tcore, server.port)
    t = tcore.transfers.submit("download", sid, "Films/Film.2020.mkv")
    seen, progress = _kill_at_half(server)
    done = tcore.transfers.run_now(t.id, progress)  # type: ignore[arg-type]
    assert seen and done.state == "done", done.error
    # the range read reconnects and goes on with REST itself (or the queue resumes
    # the .part): never from byte 0
    assert len(seen) == 1 or seen[1] > 0, f"resumed from byte {seen[1]}"
    assert done.local_path is not None
    assert hashlib.sha256(Path(done.local_path).read_bytes()).digest() == hashlib.sha256(data).digest()


def test_server_that_stays_down_fails_after_the_retries(server: Restartable, tcore: Core,
                                                         tmp_path: Path) -> None:
    local = tmp_path / "x.bin"
    local.write_bytes(b"x" * 1000)
    sid = _source(tcore, server.port)
    server.kill()
    try:
        t = tcore.transfers.submit("upload", sid, "x.bin", local_path=local)
        with pytest.raises(SourceUnavailable, match="refused"):  # the error that ended it here
            tcore.transfers.run_now(t.id)
        done = tcore.transfers.get(t.id)
        assert done.state == "failed" and done.attempts == 4  # 1 + 3 retries
        assert "refused" in (done.error or "")
    finally:
        server.revive()
