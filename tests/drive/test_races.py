"""DriveFS under the races several processes make (no FUSE): a kernel CREATE for a file
another process made meanwhile, and a spool file dropped by one thread while another
still looks at it (its descriptor closed, then reused by an unrelated file); and a
hostile listing."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from drive.test_fs import make_fs

from reelhouse.drive.fs import EXCLUSIVE_FRESH
from reelhouse.sources.base import Entry
from reelhouse.sources.memory import MemorySource


def test_create_of_an_existing_file_without_o_trunc_keeps_its_bytes(tmp_path: Path) -> None:
    # two shells `>> log`: both kernels looked the name up before either made it, so the
    # second one's open(O_CREAT|O_APPEND) reaches us as a CREATE of a file that exists
    src = MemorySource({"log.txt": b"first line\n"})
    fs = make_fs(tmp_path, src)
    fh = fs.create("/log.txt", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    fs.write(fh, 11, b"second line\n")
    fs.release(fh)
    assert src.files["log.txt"] == b"first line\nsecond line\n"
    fh = fs.create("/log.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)  # `>` still empties it
    fs.release(fh)
    assert src.files["log.txt"] == b""


def test_a_spool_file_dropped_meanwhile_is_not_used(tmp_path: Path) -> None:
    src = MemorySource({"a.txt": b"old"})
    fs = make_fs(tmp_path, src)
    fh = fs.create("/a.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    fs.write(fh, 0, b"written")
    stale = fs.spool.node("a.txt")
    fs.release(fh)  # uploaded, its spool file closed and dropped
    assert stale is not None and fs.spool.node("a.txt") is None
    other = os.open(tmp_path / "unrelated", os.O_RDWR | os.O_CREAT)  # may take the old number
    os.write(other, b"unrelated bytes, longer than the file")
    # another thread took the node from the spool just before it was dropped
    fs.spool.node = lambda path: stale  # type: ignore[method-assign]
    try:
        assert fs.getattr("/a.txt").size == 7
        reader = fs.open("/a.txt", os.O_RDONLY)
        assert fs.read(reader, 0, 100) == b"written"
        fs.release(reader)
        fs.truncate("/a.txt", 3)
    finally:
        os.close(other)
    assert src.files["a.txt"] == b"wri"
    assert (tmp_path / "unrelated").read_bytes() == b"unrelated bytes, longer than the file"


def test_a_listed_name_the_kernel_cannot_carry_is_left_out(tmp_path: Path) -> None:
    # a hostile server may list a name with NUL: sent to the kernel as "a" it would show
    # a second "a" beside the real one, which no lookup could tell apart
    class Hostile(MemorySource):
        def list(self, path: str) -> list[Entry]:
            return [*super().list(path), Entry("a\x00b.txt", "a\x00b.txt", False, 7, None)]

    fs = make_fs(tmp_path, Hostile({"a": b"real"}))
    assert [name for name, _ in fs.readdir("/")] == ["a"]
    assert fs.getattr("/a").size == 4


def test_an_exclusive_create_lists_its_folder_again_unless_just_listed(tmp_path: Path) -> None:
    # another client made "lock" after the folder was listed (the cache keeps it 30 s):
    # within EXCLUSIVE_FRESH of that listing it is trusted (a cp of many files into one
    # folder lists it at most that often); later, O_EXCL lists the folder again first:
    # EEXIST, and the other client's bytes stay
    class Counted(MemorySource):
        listed = 0

        def list(self, path: str) -> list[Entry]:
            self.listed += 1
            return super().list(path)

    now = [1000.0]
    src = Counted({"notes.txt": b"mine"})
    fs = make_fs(tmp_path, src, clock=lambda: now[0])
    assert [name for name, _ in fs.readdir("/")] == ["notes.txt"] and src.listed == 1
    fh = fs.create("/early", os.O_WRONLY | os.O_CREAT | os.O_EXCL)  # just listed: no listing
    fs.release(fh)
    assert src.listed == 1
    src.files["lock"], src.mtimes["lock"] = b"theirs", 1.0
    now[0] += EXCLUSIVE_FRESH
    with pytest.raises(OSError) as info:
        fs.create("/lock", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    assert info.value.errno == errno.EEXIST and src.listed == 2
    assert src.files["lock"] == b"theirs"
    assert sorted(name for name, _ in fs.readdir("/")) == ["early", "lock", "notes.txt"] and src.listed == 2
    now[0] += 0.1
    fh = fs.create("/free", os.O_WRONLY | os.O_CREAT | os.O_EXCL)  # listed 0.1 s ago
    fs.release(fh)
    assert src.files["free"] == b"" and src.listed == 2
