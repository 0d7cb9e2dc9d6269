"""The streamed spool copy written with O_DIRECT (reelhouse/drive/direct.py): odd write
sizes and an unaligned start, reads while it is written, a failing direct write, and a
stream whose upload fails half-way — every byte written ends up in the spool file."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from drive.test_fs import make_fs

from reelhouse.drive.direct import ALIGN, DirectAppender, open_direct
from reelhouse.drive.streamer import STREAM_AFTER
from reelhouse.sources.memory import MemorySource


def appender(path: Path, fd: int, start: int) -> DirectAppender:
    direct = open_direct(path, fd, start)
    if direct is None:
        pytest.skip(f"no O_DIRECT on the filesystem of {path}")
    return direct


def test_odd_sizes_from_an_unaligned_start(tmp_path: Path) -> None:
    rng = random.Random(5)
    path = tmp_path / "spool.data"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    want = bytearray(rng.randbytes(ALIGN + 123))  # written the ordinary way first
    os.pwrite(fd, want, 0)
    direct = appender(path, fd, len(want))
    try:
        for i in range(60):
            chunk = rng.randbytes(rng.choice([1, 1000, ALIGN, 65_537, 1 << 20, (1 << 20) - 48]))
            direct.append(chunk)
            want += chunk
            assert direct.end == len(want)
            if i % 20 == 7:  # settled mid-way: the file holds everything so far
                direct.settle(fd)
                assert os.pread(fd, len(want) + 10, 0) == want
        direct.settle(fd)
    finally:
        direct.close()
    assert path.read_bytes() == want
    os.close(fd)


def test_a_failing_direct_write_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "spool.data"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    broken = os.open(path, os.O_RDONLY)  # every direct write fails (EBADF)
    direct = DirectAppender(broken, 0, b"")
    want = bytearray()
    try:
        with pytest.raises(OSError):
            for _ in range(40):
                chunk = os.urandom(1 << 20)
                direct.append(chunk)  # raises once the thread has failed
                want += chunk
        direct.settle(fd)  # what the thread could not write goes through fd
    finally:
        direct.close()
    assert path.read_bytes() == want
    os.close(fd)


def test_streamed_write_with_reads_and_a_failed_upload_keeps_every_byte(tmp_path: Path) -> None:
    src = MemorySource({})
    fs = make_fs(tmp_path, src)
    rng = random.Random(7)
    fh = fs.create("/big.bin", os.O_WRONLY | os.O_CREAT)
    node = fs.spool.node("big.bin")
    assert node is not None
    want = bytearray()
    while len(want) < STREAM_AFTER + (4 << 20):
        chunk = rng.randbytes(rng.choice([4096, 100_000, (1 << 20) - 32, 32]))
        assert fs.write(fh, len(want), chunk) == len(chunk)
        want += chunk
    if node.direct is None:
        pytest.skip("no O_DIRECT for the spool here")
    assert node.streamer is not None
    reader = fs.open("/big.bin", os.O_RDONLY)  # a reader sees what was written
    assert fs.getattr("/big.bin").size == len(want)
    assert fs.read(reader, len(want) - 5000, 10_000) == want[-5000:]
    src.offline = True  # the upload during the writes fails on its next chunk
    for _ in range(200):  # the writes go on; one of them finds the upload failed
        chunk = rng.randbytes((1 << 20) + 7)
        fs.write(fh, len(want), chunk)
        want += chunk
        if node.streamer is None:
            break
        time.sleep(0.01)
    assert node.direct is None and node.streamer is None  # back to the ordinary spool
    chunk = rng.randbytes(5000)
    fs.write(fh, len(want), chunk)
    want += chunk
    with pytest.raises(OSError):
        fs.flush(fh)
    fs.release(fh)
    fs.release(reader)
    assert node.local.read_bytes() == want  # the spool has every byte
    assert [p["path"] for p in fs.spool.pending()] == ["big.bin"]
    src.offline = False
    assert fs.spool.flush_all() == []
    assert src.files["big.bin"] == want
