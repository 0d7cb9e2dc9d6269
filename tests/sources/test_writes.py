"""The write half of the Source contract (write with offset, mkdir -p, rename, delete),
run against MemorySource, LocalSource and FtpSource on a real FTP server alike."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelhouse.errors import Conflict, InvalidInput, NotFound, StorageFull
from reelhouse.sources.base import Source
from reelhouse.sources.ftp import FtpSource
from reelhouse.sources.memory import MemorySource

from helpers import local_or_ftp

DATA = os.urandom(300_000)


@pytest.fixture(params=["memory", "local", "ftp"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Source]:
    kind = request.param
    if kind == "memory":
        yield MemorySource({"Films/old.mkv": b"old"})
        return
    root, src = local_or_ftp(kind, request, tmp_path / "local")
    (root / "Films").mkdir(parents=True)
    (root / "Films" / "old.mkv").write_bytes(b"old")
    yield src
    if isinstance(src, FtpSource):
        assert src.pool.stats["in_use"] == 0
    src.close()


def chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def read(source: Source, path: str) -> bytes:
    return b"".join(source.read_range(path, 0, 10**9))


def test_write_then_read_back(source: Source) -> None:
    assert source.write("Films/new.mkv", chunks(DATA)) == len(DATA)
    assert read(source, "Films/new.mkv") == DATA
    assert source.stat("Films/new.mkv").size == len(DATA)
    # offset 0 replaces the whole file
    source.write("Films/new.mkv", [b"short"])
    assert read(source, "Films/new.mkv") == b"short"


def test_resume_with_offset(source: Source) -> None:
    source.write("Films/part.mkv", chunks(DATA[:100_000]))
    source.write("Films/part.mkv", chunks(DATA[100_000:]), offset=100_000)  # APPE
    assert read(source, "Films/part.mkv") == DATA
    source.write("Films/part.mkv", chunks(DATA[50_000:]), offset=50_000)  # REST + STOR
    assert read(source, "Films/part.mkv") == DATA
    with pytest.raises(InvalidInput):
        source.write("Films/part.mkv", [b"x"], offset=len(DATA) + 10)


def test_mkdir_p_rename_delete(source: Source) -> None:
    source.mkdir("Shows/The Office/Season 01")
    source.mkdir("Shows/The Office/Season 01")  # exists: fine
    assert source.stat("Shows/The Office/Season 01").is_dir
    source.write("Shows/The Office/Season 01/ep.mkv.part", [b"abc"])
    source.rename("Shows/The Office/Season 01/ep.mkv.part", "Shows/The Office/Season 01/ep.mkv")
    assert read(source, "Shows/The Office/Season 01/ep.mkv") == b"abc"
    with pytest.raises(NotFound):
        source.stat("Shows/The Office/Season 01/ep.mkv.part")
    with pytest.raises(Conflict):
        source.mkdir("Films/old.mkv")
    source.delete("Shows/The Office/Season 01/ep.mkv")
    source.delete("Shows/The Office/Season 01")
    assert [e.name for e in source.list("Shows/The Office")] == []
    with pytest.raises(NotFound):
        source.delete("Films/nope.mkv")
    with pytest.raises(NotFound):
        source.rename("Films/nope.mkv", "Films/x.mkv")


def test_write_into_a_missing_folder_is_not_found(source: Source) -> None:
    with pytest.raises(NotFound):
        source.write("No Such Folder/x.mkv", [b"x"])


@pytest.mark.parametrize("path", ["../x", "Films/../../x"])
def test_writes_cannot_leave_the_root(source: Source, path: str) -> None:
    with pytest.raises(InvalidInput):
        source.write(path, [b"x"])
    with pytest.raises(InvalidInput):
        source.mkdir(path)
    with pytest.raises(InvalidInput):
        source.delete(path)


def test_memory_capacity_is_storage_full() -> None:
    src = MemorySource()
    src.capacity = 1000
    with pytest.raises(StorageFull):
        src.write("a.bin", chunks(DATA, 100))
    assert len(src.files["a.bin"]) <= 1000


def test_a_name_too_long_is_invalid_input(source: Source) -> None:
    if isinstance(source, MemorySource):
        pytest.skip("memory names have no length limit")
    with pytest.raises(InvalidInput):
        source.mkdir("x" * 4000)
    with pytest.raises((InvalidInput, NotFound)):
        source.write("x" * 4000, [b"x"])


def test_a_folder_moved_into_itself_is_refused_by_name(source: Source) -> None:
    """A folder renamed to a path inside itself: rename(2)'s EINVAL was "bad file name:
    'Films' (Invalid argument)" on a local disk (naming neither path's problem), and
    each FTP server answered it its own way; every source kind says what is wrong."""
    with pytest.raises(InvalidInput, match="cannot move 'Films' into itself") as info:
        source.rename("Films", "Films/Sub/Films")
    assert "'Films/Sub/Films'" in str(info.value)
    assert read(source, "Films/old.mkv") == b"old"  # nothing moved
    source.rename("Films", "Films2")  # a sibling whose name starts the same is no problem
    assert read(source, "Films2/old.mkv") == b"old"
