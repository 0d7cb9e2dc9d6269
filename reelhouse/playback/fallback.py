"""A stream that falls back to a local copy when its source fails.

:class:`FallbackSource` reads a range from the primary source (an FTP server); if the
primary raises :class:`SourceUnavailable` — before the first byte or in the middle,
after its own reconnects gave up — the rest of the range comes from the local copy,
so the client gets one uninterrupted response with the file's bytes. Once a source
failed, ``is_down`` says so for a while and later ranges go to the copy at once. A
range the primary refuses as too costly to reach (:class:`SeekRefused`: an FTP server
without REST) comes from the copy too, without marking the source down.
``served_from`` is ``"offline-copy"`` once any byte came from the copy
(:class:`~reelhouse.playback.direct.RangeStreamResponse` reports it in the
``X-Reelhouse-Served-From`` header).
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator

from reelhouse.errors import InvalidInput, SeekRefused, SourceUnavailable
from reelhouse.sources.base import Entry, Source

__all__ = ["FallbackSource"]


class FallbackSource:
    """Range reads of one file: ``primary`` first, ``local`` (path ``local_path``) when
    the primary fails. Only the read methods are meant to be used."""

    kind = "fallback"

    def __init__(
        self,
        primary: Source,
        local: Source,
        local_path: str,
        is_down: Callable[[], bool],
        mark_down: Callable[[], None],
    ) -> None:
        self.primary = primary
        self.local = local
        self.local_path = local_path
        self.is_down = is_down
        self.mark_down = mark_down
        self.served_from: str | None = None

    def read_range(self, path: str, offset: int, length: int) -> Iterator[bytes]:
        pos = offset
        if not self.is_down():
            try:
                for chunk in self.primary.read_range(path, offset, length):
                    pos += len(chunk)
                    yield chunk
                return
            except SeekRefused:  # a seek the source cannot make cheaply (FTP without REST): the copy can
                pass
            except SourceUnavailable:
                self.mark_down()
        self.served_from = "offline-copy"
        yield from self.local.read_range(self.local_path, pos, offset + length - pos)

    async def aread_range(self, path: str, offset: int, length: int) -> AsyncGenerator[bytes, None]:
        pos = offset
        if not self.is_down():
            try:
                async for chunk in self.primary.aread_range(path, offset, length):
                    pos += len(chunk)
                    yield chunk
                return
            except SeekRefused:
                pass
            except SourceUnavailable:
                self.mark_down()
        self.served_from = "offline-copy"
        async for chunk in self.local.aread_range(self.local_path, pos, offset + length - pos):
            yield chunk

    # the rest of the Source protocol: the primary's answers
    def list(self, path: str) -> builtins.list[Entry]:
        return self.primary.list(path)

    def stat(self, path: str) -> Entry:
        return self.primary.stat(path)

    def walk(self, path: str = "") -> Iterator[tuple[str, builtins.list[Entry] | Exception]]:
        return self.primary.walk(path)

    def test(self) -> None:
        self.primary.test()

    def write(self, path: str, chunks: Iterable[bytes], offset: int = 0) -> int:
        raise InvalidInput("a fallback stream is read-only")

    def mkdir(self, path: str) -> None:
        raise InvalidInput("a fallback stream is read-only")

    def rename(self, old: str, new: str) -> None:
        raise InvalidInput("a fallback stream is read-only")

    def delete(self, path: str) -> None:
        raise InvalidInput("a fallback stream is read-only")

    def close(self) -> None:
        return None
