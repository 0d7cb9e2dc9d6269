"""FallbackSource: a range read that switches to the local copy when the source fails,
before the first byte or in the middle, and gives exactly the file's bytes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, Iterator

from reelhouse.errors import SeekRefused, SourceUnavailable
from reelhouse.playback.fallback import FallbackSource
from reelhouse.sources.memory import MemorySource

DATA = os.urandom(500_000)


class DiesAfter(MemorySource):
    """Yields ``good`` chunks, then fails like an FTP server that went away."""

    def __init__(self, good: int) -> None:
        super().__init__({"f.mkv": DATA})
        self.good = good

    def read_range(self, path: str, offset: int, length: int) -> Iterator[bytes]:
        for i, chunk in enumerate(super().read_range(path, offset, length)):
            if i >= self.good:
                raise SourceUnavailable("FTP connection lost")
            yield chunk

    async def aread_range(self, path: str, offset: int, length: int) -> AsyncGenerator[bytes, None]:
        for chunk in self.read_range(path, offset, length):
            yield chunk


def make(good: int, down: list[bool]) -> FallbackSource:
    local = MemorySource({"offline/1/f.mkv": DATA})
    return FallbackSource(DiesAfter(good), local, "offline/1/f.mkv",
                          is_down=lambda: down[0], mark_down=lambda: down.__setitem__(0, True))


def test_source_fails_before_the_first_byte() -> None:
    down = [False]
    src = make(0, down)
    assert b"".join(src.read_range("f.mkv", 100, 1000)) == DATA[100:1100]
    assert src.served_from == "offline-copy" and down[0]


def test_source_fails_mid_stream_sync_and_async() -> None:
    for good in (1, 3):
        down = [False]
        src = make(good, down)
        assert b"".join(src.read_range("f.mkv", 7, 400_000)) == DATA[7:400_007]
        assert src.served_from == "offline-copy"

        async def collect(s: FallbackSource) -> bytes:
            return b"".join([c async for c in s.aread_range("f.mkv", 7, 400_000)])

        down = [False]
        assert asyncio.run(collect(make(good, down))) == DATA[7:400_007]


def test_healthy_source_is_used_and_a_down_one_skipped() -> None:
    down = [False]
    src = make(100, down)
    assert b"".join(src.read_range("f.mkv", 0, 10**9)) == DATA
    assert src.served_from is None and not down[0]
    down = [True]
    src = make(100, down)
    assert b"".join(src.read_range("f.mkv", 0, 10)) == DATA[:10]
    assert src.served_from == "offline-copy"


class NoRest(MemorySource):
    """A source that cannot start a read past byte 1000 (an FTP server without REST
    past ``ftp_max_skip``: sources/ftp/retrieval.py)."""

    def read_range(self, path: str, offset: int, length: int) -> Iterator[bytes]:
        if offset > 1000:
            raise SeekRefused("the FTP server does not support REST")
        yield from super().read_range(path, offset, length)

    async def aread_range(self, path: str, offset: int, length: int) -> AsyncGenerator[bytes, None]:
        for chunk in self.read_range(path, offset, length):
            yield chunk


def test_a_seek_the_source_refuses_is_served_from_the_copy_without_marking_it_down() -> None:
    down = [False]
    src = FallbackSource(NoRest({"f.mkv": DATA}), MemorySource({"offline/1/f.mkv": DATA}), "offline/1/f.mkv",
                         is_down=lambda: down[0], mark_down=lambda: down.__setitem__(0, True))
    assert b"".join(src.read_range("f.mkv", 10, 100)) == DATA[10:110] and src.served_from is None
    assert b"".join(src.read_range("f.mkv", 300_000, 1000)) == DATA[300_000:301_000]
    assert src.served_from == "offline-copy" and not down[0]  # the source is fine: not down

    async def collect() -> bytes:
        return b"".join([c async for c in src.aread_range("f.mkv", 400_000, 50)])

    assert asyncio.run(collect()) == DATA[400_000:400_050] and not down[0]
