"""Tests for reelhouse.sources.reader.SourceReader: file semantics (read/seek/tell),
block cache, byte budget; over the memory double, a local folder and a real FTP server."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reelhouse.errors import NotFound, ProbeFailed
from reelhouse.sources.memory import MemorySource
from reelhouse.sources.reader import SourceReader

from helpers import local_or_ftp

DATA = os.urandom(100_000)


def reader(data: bytes = DATA, **kw: int) -> SourceReader:
    """A reader over ``data``; read-ahead off (one block per miss) unless ``max_fetch``."""
    kw.setdefault("max_fetch", kw.get("block_size", 64 * 1024))
    return SourceReader(MemorySource({"f.mkv": data}), "f.mkv", len(data), **kw)


def test_basic_file_semantics() -> None:
    r = reader(block_size=4096)
    assert r.readable() and r.seekable() and not r.writable()
    assert r.tell() == 0
    assert r.read(10) == DATA[:10] and r.tell() == 10
    assert r.seek(5000) == 5000 and r.read(5000) == DATA[5000:10000]  # across blocks
    assert r.seek(-10, io.SEEK_END) == len(DATA) - 10
    assert r.read() == DATA[-10:]
    assert r.read(5) == b"" and r.read() == b""
    assert r.seek(3, io.SEEK_SET) == 3 and r.seek(4, io.SEEK_CUR) == 7
    assert r.read(1) == DATA[7:8]
    assert r.seek(len(DATA) + 50) == len(DATA) + 50 and r.read(10) == b""  # past the end
    with pytest.raises(ValueError):
        r.seek(-1)
    with pytest.raises(ValueError):
        r.seek(0, 7)
    r.seek(0)
    assert r.read(-1) == DATA
    buf = bytearray(20)
    r.seek(100)
    assert r.readinto(buf) == 20 and bytes(buf) == DATA[100:120]


def test_buffered_wrapper() -> None:
    r = io.BufferedReader(reader(block_size=1000), buffer_size=333)
    assert r.read(5) == DATA[:5]
    r.seek(50_000)
    assert r.read(70_000) == DATA[50_000:]


def test_blocks_are_cached() -> None:
    r = reader(block_size=10_000, cache_blocks=2)
    r.read(100)
    r.seek(0)
    r.read(100)
    assert r.range_reads == 1 and r.bytes_read == 10_000
    r.seek(15_000)
    r.read(10)  # block 1
    r.seek(25_000)
    r.read(10)  # block 2 evicts block 0
    r.seek(0)
    r.read(10)
    assert r.range_reads == 4 and r.bytes_read == 40_000


def test_last_block_is_short() -> None:
    r = reader(DATA[:25_000], block_size=10_000)
    r.seek(20_000)
    assert r.read() == DATA[20_000:25_000]
    assert r.bytes_read == 5_000


def test_budget() -> None:
    r = reader(block_size=10_000, budget=25_000)
    r.read(20_000)
    assert r.bytes_read == 20_000
    r.seek(0)
    r.read(20_000)  # cached: free
    with pytest.raises(ProbeFailed):
        r.read(10_000)  # a third block would go over
    assert r.bytes_read == 20_000


def test_read_ahead_grows_on_sequential_misses() -> None:
    r = reader(block_size=1000, max_fetch=8000, cache_blocks=100)
    assert r.read(20_000) == DATA[:20_000]
    # fetches of 1, 2, 4, 8, 8 blocks (capped at max_fetch): 5 reads for 20 blocks
    assert r.range_reads == 5 and r.bytes_read == 23_000


def test_read_ahead_resets_on_seek() -> None:
    r = reader(block_size=1000, max_fetch=8000, cache_blocks=100)
    r.read(3000)  # 1 + 2 blocks
    r.seek(90_000)
    r.read(10)  # a seek: one block only
    assert r.range_reads == 3 and r.bytes_read == 4000
    r.seek(91_000)
    r.read(10)  # sequential again: two blocks
    assert r.range_reads == 4 and r.bytes_read == 6000


def test_read_ahead_stops_at_cached_blocks_and_end() -> None:
    r = reader(DATA[:10_500], block_size=1000, max_fetch=8000, cache_blocks=100)
    r.seek(4000)
    r.read(10)  # block 4
    r.seek(0)
    r.read(10)  # block 0
    r.read(4000)  # blocks 1..3 in one read (block 4 cached), then 5.. sequential
    assert r.read() == DATA[4010:10_500]
    assert r.bytes_read == 10_500  # nothing read twice, nothing past the end


def test_read_ahead_shrinks_to_fit_the_budget() -> None:
    r = reader(block_size=1000, max_fetch=8000, budget=4500)
    assert r.read(4000) == DATA[:4000]  # 1 + 2 blocks, then one block (4 would not fit)
    assert r.bytes_read == 4000
    with pytest.raises(ProbeFailed, match="budget"):
        r.read(1000)


def test_on_fetch_sees_every_range() -> None:
    seen: list[tuple[int, int]] = []
    r = SourceReader(MemorySource({"f": DATA}), "f", len(DATA), block_size=1000,
                     max_fetch=4000, on_fetch=lambda off, data: seen.append((off, len(data))))
    r.read(3500)
    r.seek(-10, io.SEEK_END)
    r.read()
    assert seen == [(0, 1000), (1000, 2000), (3000, 4000), (99_000, 1000)]


def test_missing_file() -> None:
    r = SourceReader(MemorySource({}), "nope.mkv", 100)
    with pytest.raises(NotFound):
        r.read(1)


@settings(max_examples=100, deadline=None)
@given(ops=st.lists(st.tuples(st.integers(-5, 120_000), st.integers(-1, 30_000),
                              st.sampled_from([io.SEEK_SET, io.SEEK_CUR, io.SEEK_END])),
                    max_size=15),
       block=st.sampled_from([1000, 4096, 65536, 256 * 1024]))
def test_matches_bytes_slicing(ops: list[tuple[int, int, int]], block: int) -> None:
    r = reader(block_size=block, cache_blocks=3)
    pos = 0
    for offset, n, whence in ops:
        target = {io.SEEK_SET: 0, io.SEEK_CUR: pos, io.SEEK_END: len(DATA)}[whence] + offset
        if target < 0:
            with pytest.raises(ValueError):
                r.seek(offset, whence)
            continue
        assert r.seek(offset, whence) == target
        pos = target
        want = DATA[pos:] if n < 0 else DATA[pos : pos + n]
        assert r.read(n) == want
        pos += len(want)
        assert r.tell() == pos


@pytest.mark.parametrize("kind", ["local", "ftp"])
def test_over_real_sources(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    root, src = local_or_ftp(kind, request, tmp_path)
    (root / "Films").mkdir()
    (root / "Films" / "a b.mkv").write_bytes(DATA)
    try:
        r = SourceReader(src, "Films/a b.mkv", len(DATA), block_size=8192, max_fetch=8192)
        r.seek(-100, io.SEEK_END)
        assert r.read() == DATA[-100:]
        r.seek(12_345)
        assert r.read(30_000) == DATA[12_345:42_345]
        assert r.range_reads == 6
    finally:
        src.close()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 7), max_size=4), st.integers(0, 700), st.integers(0, 700))
def test_pread_uses_cached_blocks_and_reads_only_the_gaps(cached: list[int], offset: int, length: int) -> None:
    data = bytes(range(256)) * 3  # 768 bytes in 100-byte blocks
    r = reader(data, block_size=100)
    for index in cached:
        r.seek(index * 100)
        r.read(1)
    before, reads = r.bytes_read, r.range_reads
    assert r.pread(offset, length) == data[offset : offset + length]
    span = range(offset, min(offset + length, len(data)))
    missing = sum(1 for b in span if b // 100 not in set(cached))
    assert r.bytes_read - before == missing  # only the bytes no cached block holds
    assert r.tell() == (cached[-1] * 100 + 1 if cached else 0)  # the position did not move
    assert r.range_reads - reads <= len(cached) + 1


def test_slow_start_keeps_fetches_small_until_a_long_run() -> None:
    data = os.urandom(3 * 1024 * 1024)
    r = reader(data, slow_start=512 * 1024, max_fetch=1024 * 1024)
    sizes: list[int] = []
    r.on_fetch = lambda _offset, chunk: sizes.append(len(chunk))
    assert r.read(len(data)) == data
    kib = [s // 1024 for s in sizes]
    assert kib[:5] == [64, 128, 128, 128, 128]  # two blocks at most while the run is short
    assert max(kib) == 1024  # then the usual doubling up to max_fetch
