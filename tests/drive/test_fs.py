"""DriveFS over a MemorySource: every errno of the table provoked, caches invalidated by
our own writes, the spool keeping what could not be uploaded (no FUSE, no network)."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from reelhouse.drive.cache import BlockCache, ListingCache
from reelhouse.drive.errnos import NTSTATUS, errno_for, windows_errno
from reelhouse.drive.fs import DriveFS
from reelhouse.drive.recovery import recover
from reelhouse.drive.spool import Spool
from reelhouse.drive.status import Counters, Health
from reelhouse.errors import SourceUnavailable
from reelhouse.sources.memory import MemorySource


def make_fs(tmp_path: Path, src: MemorySource, read_only: bool = False, ttl: float = 30.0,
            spool_dir: str = "spool", clock: Callable[[], float] | None = None) -> DriveFS:
    counters = Counters()
    return DriveFS(src, listings=ListingCache(ttl, ttl, clock), blocks=BlockCache(tmp_path / "blocks", 8 << 20,
                   block_size=64 * 1024), spool=Spool(tmp_path / spool_dir, src, counters, attempts=2, delay=0),
                   counters=counters, health=Health(), read_only=read_only)


@pytest.fixture
def src() -> MemorySource:
    return MemorySource({"Films/a.mkv": bytes(range(256)) * 1000, "notes.txt": b"hello",
                         "Full/x.txt": b"x"})


def raises(code: int, fn: object, *args: object) -> None:
    with pytest.raises(OSError) as info:
        fn(*args)  # type: ignore[operator]
    assert info.value.errno == code, (info.value, os.strerror(code))


def test_stat_readdir_and_reads(tmp_path: Path, src: MemorySource) -> None:
    fs = make_fs(tmp_path, src)
    assert fs.getattr("/").is_dir
    names = dict(fs.readdir("/"))
    assert set(names) == {"Films", "notes.txt", "Full"} and names["Films"].is_dir
    assert fs.getattr("/notes.txt").size == 5
    data = src.files["Films/a.mkv"]
    fh = fs.open("/Films/a.mkv", os.O_RDONLY)
    got = b"".join(fs.read(fh, off, 4096) for off in range(0, len(data), 4096))
    assert got == data
    for off in (100_000, 7, 255_000, 64 * 1024 - 3):  # random preads, block-aligned REST reads
        assert fs.read(fh, off, 5000) == data[off:off + 5000]
    assert fs.read(fh, len(data) + 10, 100) == b""
    fs.release(fh)
    assert fs.counters.open_files == 0


def test_errnos_for_real(tmp_path: Path, src: MemorySource) -> None:
    fs = make_fs(tmp_path, src)
    raises(errno.ENOENT, fs.getattr, "/nope")
    raises(errno.ENOENT, fs.open, "/Films/nope.mkv", os.O_RDONLY)
    raises(errno.EEXIST, fs.create, "/notes.txt", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    raises(errno.EEXIST, fs.mkdir, "/Films")
    raises(errno.ENOTEMPTY, fs.rmdir, "/Films")
    raises(errno.ENOTDIR, fs.rmdir, "/notes.txt")
    raises(errno.ENOTDIR, fs.readdir, "/notes.txt")
    raises(errno.EISDIR, fs.unlink, "/Films")
    raises(errno.EISDIR, fs.open, "/Films", os.O_RDONLY)
    raises(errno.ENOENT, fs.mkdir, "/no/such/parent")
    src.capacity = 10
    fh = fs.create("/big.bin", os.O_WRONLY | os.O_CREAT)
    fs.write(fh, 0, b"y" * 100)
    raises(errno.ENOSPC, fs.flush, fh)
    fs.release(fh)
    src.capacity = None
    src.offline = True
    fs.listings.clear()
    raises(errno.ENOTCONN, fs.readdir, "/Films")
    assert fs.health.state in ("reconnecting", "down")
    ro = make_fs(tmp_path, MemorySource({"a": b"1"}), read_only=True, spool_dir="ro")
    for fn, args in [(ro.create, ("/b", os.O_WRONLY)), (ro.mkdir, ("/d",)), (ro.unlink, ("/a",)),
                     (ro.rename, ("/a", "/c")), (ro.open, ("/a", os.O_RDWR)), (ro.truncate, ("/a", 0))]:
        raises(errno.EROFS, fn, *args)


def test_errno_table_timeouts_and_ntstatus() -> None:
    try:
        try:
            raise TimeoutError("timed out")
        except TimeoutError as exc:
            raise SourceUnavailable("FTP server timed out while listing") from exc
    except SourceUnavailable as exc:
        assert errno_for(exc) == errno.ETIMEDOUT
    assert errno_for(SourceUnavailable("refused")) == errno.ENOTCONN
    assert errno_for(RuntimeError("?")) == errno.EIO
    for code in (errno.ENOENT, errno.EACCES, errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR,
                 errno.EISDIR, errno.EROFS, errno.ENOSPC, errno.ETIMEDOUT, errno.ENOTCONN, errno.EIO):
        assert NTSTATUS[code][1] & 0xC0000000 == 0xC0000000


def test_writes_update_the_caches_at_once(tmp_path: Path, src: MemorySource) -> None:
    fs = make_fs(tmp_path, src, ttl=3600)
    fs.readdir("/")  # cached for an hour
    fh = fs.create("/new.txt", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    assert "new.txt" in dict(fs.readdir("/"))  # visible before the upload
    fs.write(fh, 0, b"abc")
    fs.write(fh, 3, b"def")
    fh2 = fs.open("/new.txt", os.O_RDONLY)
    assert fs.read(fh2, 0, 100) == b"abcdef"  # a reader sees the written bytes
    fs.flush(fh)
    assert src.files["new.txt"] == b"abcdef" and "new.txt.part" not in src.files
    fs.release(fh)
    fs.release(fh2)
    assert fs.getattr("/new.txt").size == 6
    raises(errno.EEXIST, lambda: fs.rename("/new.txt", "/notes.txt", noreplace=True))  # mv -n
    assert src.files["notes.txt"] == b"hello"
    fs.rename("/new.txt", "/Films/moved.txt", noreplace=True)
    assert "new.txt" not in dict(fs.readdir("/")) and fs.getattr("/Films/moved.txt").size == 6
    fs.unlink("/Films/moved.txt")
    raises(errno.ENOENT, fs.getattr, "/Films/moved.txt")
    fs.mkdir("/Season 01")
    assert fs.readdir("/Season 01") == []
    fs.rmdir("/Season 01")
    raises(errno.ENOENT, fs.getattr, "/Season 01")
    # append and truncate of an existing file
    fh = fs.open("/notes.txt", os.O_WRONLY | os.O_APPEND)
    fs.write(fh, 5, b" world")
    fs.release(fh)
    assert src.files["notes.txt"] == b"hello world"
    fs.truncate("/notes.txt", 4)
    assert src.files["notes.txt"] == b"hell"
    fh = fs.open("/notes.txt", os.O_WRONLY | os.O_TRUNC)
    fs.release(fh)
    assert src.files["notes.txt"] == b""
    assert not list((tmp_path / "spool").iterdir())  # nothing left in the spool


def test_failed_upload_stays_in_the_spool_and_is_retried_next_mount(tmp_path: Path,
                                                                      src: MemorySource) -> None:
    fs = make_fs(tmp_path, src)
    fh = fs.create("/keep.txt", os.O_WRONLY | os.O_CREAT)
    fs.write(fh, 0, b"precious")
    src.offline = True
    raises(errno.ENOTCONN, fs.fsync, fh)
    fs.release(fh)
    assert [p["path"] for p in fs.spool.pending()] == ["keep.txt"]
    fh = fs.open("/keep.txt", os.O_RDONLY)  # still readable from the spool
    assert fs.read(fh, 0, 100) == b"precious"
    fs.release(fh)
    fs.spool.close()
    assert len(list((tmp_path / "spool").glob("*.json"))) == 1
    src.offline = False
    again = make_fs(tmp_path, src)  # the next mount
    assert recover(again.spool) == []
    assert src.files["keep.txt"] == b"precious"
    assert not list((tmp_path / "spool").iterdir())


def test_a_big_sequential_write_is_uploaded_while_written(tmp_path: Path, src: MemorySource) -> None:
    from reelhouse.drive.streamer import STREAM_AFTER

    fs = make_fs(tmp_path, src)
    block = os.urandom(1024 * 1024)
    fh = fs.create("/big.bin", os.O_WRONLY | os.O_CREAT)
    total = STREAM_AFTER + 3 * len(block)
    for pos in range(0, total, len(block)):
        fs.write(fh, pos, block)
    node = fs.spool.node("big.bin")
    assert node is not None and node.streamer is not None  # uploading already
    fs.release(fh)
    assert src.files["big.bin"] == block * (total // len(block)) and "big.bin.part" not in src.files
    # a write elsewhere cancels the stream: the file is uploaded whole at close
    fh = fs.create("/other.bin", os.O_WRONLY | os.O_CREAT)
    for pos in range(0, total, len(block)):
        fs.write(fh, pos, block)
    fs.write(fh, 5, b"PATCH")
    node = fs.spool.node("other.bin")
    assert node is not None and node.streamer is None
    fs.release(fh)
    want = bytearray(block * (total // len(block)))
    want[5:10] = b"PATCH"
    assert src.files["other.bin"] == bytes(want)


#: WinFsp's errno → NTSTATUS table (winfsp src/dll/fuse/errno.i, Windows section), for the
#: MSVC CRT errno numbers, and the numbers CPython on Windows gives (ETIMEDOUT and
#: ENOTCONN are Winsock's there)
_WINFSP = {1: "STATUS_ACCESS_DENIED", 2: "STATUS_OBJECT_NAME_NOT_FOUND", 4: "STATUS_CANCELLED",
           5: "STATUS_IO_DEVICE_ERROR", 9: "STATUS_INVALID_HANDLE", 13: "STATUS_ACCESS_DENIED",
           16: "STATUS_DEVICE_BUSY", 17: "STATUS_OBJECT_NAME_COLLISION", 20: "STATUS_NOT_A_DIRECTORY",
           21: "STATUS_FILE_IS_A_DIRECTORY", 22: "STATUS_INVALID_PARAMETER", 28: "STATUS_DISK_FULL",
           30: "STATUS_MEDIA_WRITE_PROTECTED", 38: "STATUS_NAME_TOO_LONG", 40: "STATUS_INVALID_DEVICE_REQUEST",
           41: "STATUS_DIRECTORY_NOT_EMPTY", 126: "STATUS_CONNECTION_INVALID", 138: "STATUS_TRANSACTION_TIMED_OUT"}
_WINDOWS_PYTHON = {"EPERM": 1, "ENOENT": 2, "EINTR": 4, "EIO": 5, "EBADF": 9, "EAGAIN": 11, "EACCES": 13,
                   "EBUSY": 16, "EEXIST": 17, "ENOTDIR": 20, "EISDIR": 21, "EINVAL": 22, "ENOSPC": 28,
                   "EROFS": 30, "ENAMETOOLONG": 38, "ENOSYS": 40, "ENOTEMPTY": 41, "ENOTCONN": 10057,
                   "ETIMEDOUT": 10060}


def test_the_ntstatus_table_is_what_winfsp_reports() -> None:
    # each errno the drive answers, raised on Windows and passed through the adapter's
    # windows_errno, is the NTSTATUS the README's table says (else WinFsp says "access denied")
    for code, (status, _) in NTSTATUS.items():
        sent = windows_errno(_WINDOWS_PYTHON[errno.errorcode[code]])
        assert _WINFSP.get(sent, "STATUS_ACCESS_DENIED") == status, errno.errorcode[code]
