"""Tests for reelhouse.sources.memory, the test double: it must behave like a Source."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reelhouse.errors import NotFound, SourceUnavailable
from reelhouse.sources.base import Entry
from reelhouse.sources.memory import MemorySource


def test_folders_are_implied_by_paths() -> None:
    src = MemorySource({"/A/B/c.mkv": b"123", "d.mkv": b"", "A/e.mp4": b"45"}, mtime=5.0)
    assert sorted(src.list(""), key=lambda e: e.name) == [
        Entry("A", "A", True), Entry("d.mkv", "d.mkv", False, 0, 5.0)]
    assert sorted(src.list("A"), key=lambda e: e.name) == [
        Entry("B", "A/B", True), Entry("e.mp4", "A/e.mp4", False, 2, 5.0)]
    assert src.list("A/B") == [Entry("c.mkv", "A/B/c.mkv", False, 3, 5.0)]
    assert src.stat("A/B") == Entry("B", "A/B", True)
    assert src.stat("/A/B/c.mkv/") == Entry("c.mkv", "A/B/c.mkv", False, 3, 5.0)
    with pytest.raises(NotFound):
        src.list("Z")
    with pytest.raises(NotFound):
        src.list("A/B/c.mkv")
    with pytest.raises(NotFound):
        src.stat("nope")
    with pytest.raises(NotFound):
        list(src.read_range("nope", 0, 1))


def test_offline_and_failing() -> None:
    src = MemorySource({"A/x.mkv": b"x", "B/y.mkv": b"y"})
    src.failing = {"A"}
    with pytest.raises(SourceUnavailable):
        src.list("A")
    assert src.list("B")
    src.offline = True
    for call in (lambda: src.list(""), lambda: src.stat("B/y.mkv"),
                 lambda: list(src.read_range("B/y.mkv", 0, 1)), src.test):
        with pytest.raises(SourceUnavailable):
            call()
    src.offline = False
    src.test()
    src.close()


@settings(max_examples=100)
@given(data=st.binary(max_size=200_000), offset=st.integers(0, 250_000),
       length=st.integers(0, 250_000))
def test_read_range_is_a_slice(data: bytes, offset: int, length: int) -> None:
    src = MemorySource({"f": data})
    chunks = list(src.read_range("f", offset, length))
    assert b"".join(chunks) == data[offset : offset + length]
    assert all(chunks)  # no empty chunks

    async def collect() -> bytes:
        return b"".join([c async for c in src.aread_range("f", offset, length)])

    assert asyncio.run(collect()) == data[offset : offset + length]


def test_mutation_is_seen() -> None:
    src = MemorySource({"a.mkv": b"1"})
    src.files["b.mkv"] = b"22"
    src.mtimes["b.mkv"] = 7.0
    assert {e.name for e in src.list("")} == {"a.mkv", "b.mkv"}
    del src.files["a.mkv"]
    assert {e.name for e in src.list("")} == {"b.mkv"}
