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

A copy may be removed while it plays (its last claim released, an admin's removal, in
this process or another). A range already reading it goes on: it holds the file open,
and a POSIX unlink takes the name only (the space is freed when the range ends). A
range that finds the copy gone says so (``copy_gone``: the offline copies forget it, so
later requests go to the source alone) and reads the source instead, also when the
source was taken as down a moment ago (it may be back); when the source had failed
this very range, its error stands, as for a file without a copy.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator

from reelhouse.errors import InvalidInput, NotFound, ReelhouseError, SeekRefused, SourceUnavailable
from reelhouse.sources.base import Entry, Source

__all__ = ["FallbackSource"]


class FallbackSource:
    """Range reads of one file: ``primary`` first, ``local`` (path ``local_path``) when
    the primary fails; ``copy_gone`` is called when the local copy is not there any
    more. Only the read methods are meant to be used."""

    kind = "fallback"

    def __init__(
        self,
        primary: Source,
        local: Source,
        local_path: str,
        is_down: Callable[[], bool],
        mark_down: Callable[[], None],
        copy_gone: Callable[[], None] = lambda: None,
    ) -> None:
        self.primary = primary
        self.copy_gone = copy_gone
        self.local = local
        self.local_path = local_path
        self.is_down = is_down
        self.mark_down = mark_down
        self.served_from: str | None = None

    def read_range(self, path: str, offset: int, length: int) -> Iterator[bytes]:
        pos = offset
        failure: ReelhouseError | None = None
        if not self.is_down():
            try:
                for chunk in self.primary.read_range(path, offset, length):
                    pos += len(chunk)
                    yield chunk
                return
            except SeekRefused as exc:  # a seek the source cannot make cheaply (FTP without REST): the copy can
                failure = exc
            except SourceUnavailable as exc:
                self.mark_down()
                failure = exc
        local = iter(self.local.read_range(self.local_path, pos, offset + length - pos))
        try:
            first = next(local, b"")  # opens the copy (held open to the range's end)
        except NotFound:
            self._gone(failure)
            yield from self.primary.read_range(path, pos, offset + length - pos)
            return
        self.served_from = "offline-copy"
        if first:
            yield first
            yield from local

    async def aread_range(self, path: str, offset: int, length: int) -> AsyncGenerator[bytes, None]:
        pos = offset
        failure: ReelhouseError | None = None
        if not self.is_down():
            try:
                async for chunk in self.primary.aread_range(path, offset, length):
                    pos += len(chunk)
                    yield chunk
                return
            except SeekRefused as exc:
                failure = exc
            except SourceUnavailable as exc:
                self.mark_down()
                failure = exc
        local = self.local.aread_range(self.local_path, pos, offset + length - pos)
        try:
            first = await anext(local, b"")
        except NotFound:
            self._gone(failure)
            async for chunk in self.primary.aread_range(path, pos, offset + length - pos):
                yield chunk
            return
        self.served_from = "offline-copy"
        if first:
            yield first
            async for chunk in local:
                yield chunk

    def _gone(self, failure: ReelhouseError | None) -> None:
        """The copy was removed: forget it; the primary's error of this range stands
        (else the caller reads the primary, which was taken as down)."""
        self.copy_gone()
        if failure is not None:
            raise failure

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
