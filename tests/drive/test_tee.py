"""The ring that feeds the spool file and the upload of a streamed file
(reelhouse/drive/tee.py): odd write sizes from an unaligned start, settles mid-way, a
failing spool write, an upload that reads while the writer waits for room, and a
stream whose upload fails half-way — every byte written ends up in the spool file."""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from pathlib import Path

import pytest
from drive.test_fs import make_fs

from reelhouse.drive import rings
from reelhouse.drive.streamer import STREAM_AFTER
from reelhouse.drive.tee import ALIGN, SPOOL_NICE, Tee, TeeCancelled
from reelhouse.sources.memory import MemorySource

SMALL_RING = 8 * 1024 * 1024  # the smallest ring: the writer waits for room often


def spool_file(tmp_path: Path, head: bytes = b"") -> tuple[Path, int]:
    path = tmp_path / "spool.data"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.pwrite(fd, head, 0)
    return path, fd


def test_odd_sizes_from_an_unaligned_start_reach_file_and_upload(tmp_path: Path) -> None:
    rng = random.Random(5)
    want = bytearray(rng.randbytes(ALIGN + 123))  # written the ordinary way first
    path, fd = spool_file(tmp_path, want)
    tee = Tee(path, fd, len(want), size=SMALL_RING)
    sent = bytearray()
    upload = threading.Thread(target=lambda: [sent.extend(c) for c in tee.chunks()])
    upload.start()
    try:
        for i in range(60):
            chunk = rng.randbytes(rng.choice([1, 1000, ALIGN, 65_537, 1 << 20, (1 << 20) - 48]))
            tee.append(memoryview(chunk) if i % 2 else chunk)
            want += chunk
            assert tee.end == len(want)
            if i % 20 == 7:  # settled mid-way: the file holds everything so far
                tee.settle()
                assert os.pread(fd, len(want) + 10, 0) == want
        tee.settle()
        tee.finish()
        upload.join(timeout=30)
    finally:
        tee.close()
    assert path.read_bytes() == want
    assert sent == want[ALIGN + 123:]
    os.close(fd)


def _stream(tee: Tee, data: bytes) -> bytes:
    """Append ``data`` while an upload thread takes it; the bytes the upload got."""
    sent = bytearray()
    upload = threading.Thread(target=lambda: [sent.extend(c) for c in tee.chunks()])
    upload.start()
    tee.append(data)
    tee.settle()
    tee.finish()
    upload.join(timeout=30)
    assert not upload.is_alive()
    return bytes(sent)


def test_the_next_file_reuses_the_ring_and_sees_none_of_the_last_files_bytes(tmp_path: Path) -> None:
    rings._idle.clear()
    first = os.urandom(SMALL_RING + 12_345)  # wraps the ring
    path, fd = spool_file(tmp_path)
    tee = Tee(path, fd, 0, size=SMALL_RING)
    ring = tee._ring
    assert _stream(tee, first) == first
    tee.close()
    tee.close()  # a second close does nothing (the ring is kept once)
    assert rings._idle == [ring]
    with pytest.raises(ValueError):  # the closed tee can no longer touch the kept ring
        tee.append(b"late")
    os.close(fd)

    second = os.urandom(5 * ALIGN + 77)  # shorter: stale bytes of the first would show
    head = b"h" * 100  # an unaligned start: the head is read back into the ring
    path2 = tmp_path / "second.data"
    fd2 = os.open(path2, os.O_RDWR | os.O_CREAT, 0o600)
    os.pwrite(fd2, head, 0)
    tee2 = Tee(path2, fd2, len(head), size=SMALL_RING)
    assert tee2._ring is ring and rings._idle == []
    try:
        assert _stream(tee2, second) == second
    finally:
        tee2.close()
    assert path2.read_bytes() == head + second
    assert path.read_bytes() == first  # the first file was not touched by the second
    os.close(fd2)
    fd3 = os.open(path2, os.O_RDWR)
    big = Tee(path2, fd3, 0, size=2 * SMALL_RING)  # another size: a new ring
    assert big._ring is not ring
    big.detach()
    big.close()
    os.close(fd3)


def test_a_ring_an_upload_may_still_hold_is_not_reused(tmp_path: Path) -> None:
    rings._idle.clear()
    path, fd = spool_file(tmp_path)
    tee = Tee(path, fd, 0, size=SMALL_RING)
    tee.append(b"x" * (4 << 20))
    chunks = tee.chunks()
    held = next(chunks)  # an upload stuck in sendall with this view
    tee.settle()
    tee.close()
    assert rings._idle == []
    assert bytes(held[:1]) == b"x"  # its memory stays valid for it
    held.release()
    chunks.close()
    os.close(fd)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a nice value per thread is Linux's")
def test_the_spool_thread_gives_way_to_the_others(tmp_path: Path) -> None:
    path, fd = spool_file(tmp_path)
    tee = Tee(path, fd, 0, size=SMALL_RING)
    try:
        tee.append(b"x" * ALIGN)
        tee.settle()  # the thread has run (and lowered its priority first)
        tid = tee._thread.native_id
        assert tid is not None
        mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        assert os.getpriority(os.PRIO_PROCESS, tid) == min(19, mine + SPOOL_NICE)
    finally:
        tee.close()
        os.close(fd)


def test_the_writer_waits_for_a_slow_upload_and_a_cancel_frees_it(tmp_path: Path) -> None:
    path, fd = spool_file(tmp_path)
    tee = Tee(path, fd, 0, size=SMALL_RING)
    done = threading.Event()
    want = os.urandom(3 * SMALL_RING)

    def write() -> None:
        tee.append(want)
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    chunks = tee.chunks()
    first = next(chunks)  # the upload holds its first chunk: the ring fills up
    assert len(first) > 0
    assert not done.wait(0.3)  # waiting for room
    tee.cancel()
    try:
        next(chunks)
        raise AssertionError("the cancelled upload went on")
    except TeeCancelled:
        pass
    assert done.wait(10)  # the upload is gone: the writer no longer waits for it
    writer.join()
    tee.settle()
    tee.close()
    assert path.read_bytes() == want
    os.close(fd)


def test_a_failing_spool_write_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "spool.data"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    broken = os.open(path, os.O_RDONLY)  # every write through it fails (EBADF)
    tee = Tee(path, broken, 0, size=SMALL_RING)
    tee.detach()  # no upload
    if tee._dfd is not None:  # direct writes work: break them too
        os.close(tee._dfd)
        tee._dfd = os.open(path, os.O_RDONLY)
    want = bytearray()
    failed = False
    try:
        for _ in range(40):
            chunk = os.urandom(1 << 20)
            try:
                tee.append(chunk)  # raises once the thread has failed
            except OSError:
                failed = True
                break
            want += chunk
        assert failed
        tee._fd = fd  # what the thread could not write goes through a good descriptor
        tee.settle()
    finally:
        tee.close()
        os.close(broken)
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
        assert fs.write(fh, len(want), memoryview(chunk)) == len(chunk)
        want += chunk
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
    assert node.streamer is None  # back to the ordinary spool
    chunk = rng.randbytes(5000)
    fs.write(fh, len(want), chunk)
    want += chunk
    try:
        fs.flush(fh)
        raise AssertionError("the upload of an offline source succeeded")
    except OSError:
        pass
    fs.release(fh)
    fs.release(reader)
    assert node.local.read_bytes() == want  # the spool has every byte
    assert [p["path"] for p in fs.spool.pending()] == ["big.bin"]
    src.offline = False
    assert fs.spool.flush_all() == []
    assert src.files["big.bin"] == want
