"""An in-memory Source: the test double for fast unit tests (no I/O at all)."""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, Iterator

from reelhouse.errors import InvalidInput, NotFound, SourceUnavailable
from reelhouse.sources.base import Entry, normalize_path, parent_of, walk_source

__all__ = ["MemorySource"]


class MemorySource:
    """Files held in a dict ``{path: bytes}``; folders are implied by the paths.

    Set ``offline = True`` to make every call raise :class:`SourceUnavailable`, or put a
    folder path in ``failing`` to make only its listing fail.
    """

    kind = "memory"

    def __init__(self, files: dict[str, bytes] | None = None, mtime: float = 1_700_000_000.0):
        self.files: dict[str, bytes] = {normalize_path(k): v for k, v in (files or {}).items()}
        self.mtimes: dict[str, float] = dict.fromkeys(self.files, mtime)
        self.offline = False
        self.failing: set[str] = set()

    def _check(self) -> None:
        if self.offline:
            raise SourceUnavailable("memory source is offline")

    def _dirs(self) -> set[str]:
        dirs = {""}
        for path in self.files:
            parent = parent_of(path)
            while parent not in dirs:
                dirs.add(parent)
                parent = parent_of(parent)
        return dirs

    def list(self, path: str) -> list[Entry]:
        self._check()
        folder = normalize_path(path)
        if folder in self.failing:
            raise SourceUnavailable(f"listing of {folder!r} failed")
        dirs = self._dirs()
        if folder not in dirs:
            raise NotFound(f"no such folder: {folder!r}")
        out = [
            Entry(p.rsplit("/", 1)[-1], p, False, len(d), self.mtimes[p])
            for p, d in self.files.items()
            if parent_of(p) == folder
        ]
        out += [Entry(d.rsplit("/", 1)[-1], d, True) for d in dirs if d and parent_of(d) == folder]
        return out

    def stat(self, path: str) -> Entry:
        self._check()
        p = normalize_path(path)
        if p in self.files:
            return Entry(p.rsplit("/", 1)[-1], p, False, len(self.files[p]), self.mtimes[p])
        if p in self._dirs():
            return Entry(p.rsplit("/", 1)[-1], p, True)
        raise NotFound(f"no such file: {p!r}")

    def read_range(self, path: str, offset: int, length: int) -> Iterator[bytes]:
        if offset < 0:
            raise InvalidInput("offset must be >= 0")
        self._check()
        p = normalize_path(path)
        if p not in self.files:
            raise NotFound(f"no such file: {p!r}")
        data = self.files[p][offset : offset + length]
        for i in range(0, len(data), 65536):
            yield data[i : i + 65536]

    async def aread_range(self, path: str, offset: int, length: int) -> AsyncGenerator[bytes, None]:
        for chunk in self.read_range(path, offset, length):
            yield chunk

    def walk(self, path: str = "") -> Iterator[tuple[str, builtins.list[Entry] | Exception]]:
        return walk_source(self, path)

    def test(self) -> None:
        self.list("")

    def close(self) -> None:
        return None
