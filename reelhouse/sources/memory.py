"""An in-memory Source: the test double for fast unit tests (no I/O at all)."""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, Iterable, Iterator

from reelhouse.errors import Conflict, InvalidInput, NotFound, SourceUnavailable, StorageFull
from reelhouse.sources.base import Entry, normalize_path, parent_of
from reelhouse.sources.walk import walk_source

__all__ = ["MemorySource"]


class MemorySource:
    """Files held in a dict ``{path: bytes}``; folders are implied by the paths.

    Set ``offline = True`` to make every call raise :class:`SourceUnavailable`, or put a
    folder path in ``failing`` to make only its listing fail. ``capacity`` (bytes, or
    ``None`` for no limit) makes writes past it raise :class:`StorageFull`. Folders made
    with :meth:`mkdir` are kept in ``folders`` (empty folders exist too).
    """

    kind = "memory"

    def __init__(self, files: dict[str, bytes] | None = None, mtime: float = 1_700_000_000.0):
        self.files: dict[str, bytes] = {normalize_path(k): v for k, v in (files or {}).items()}
        self.mtimes: dict[str, float] = dict.fromkeys(self.files, mtime)
        self.offline = False
        self.failing: set[str] = set()
        self.capacity: int | None = None
        self.folders: set[str] = set()

    def _check(self) -> None:
        if self.offline:
            raise SourceUnavailable("memory source is offline")

    def _dirs(self) -> set[str]:
        dirs = {""}
        for path in [*self.files, *(f + "/x" for f in self.folders)]:
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

    def write(self, path: str, chunks: Iterable[bytes], offset: int = 0) -> int:
        self._check()
        p = normalize_path(path)
        if not p or p in self._dirs():
            raise InvalidInput(f"not a file name: {p!r}")
        if parent_of(p) not in self._dirs():
            raise NotFound(f"no such folder: {parent_of(p)!r}")
        if offset < 0 or offset > len(self.files.get(p, b"")):
            raise InvalidInput(f"cannot write {p!r} at byte {offset}")
        data = bytearray(self.files.get(p, b"")[:offset])
        self.files[p] = bytes(data)
        self.mtimes[p] = self.mtimes.get(p, 1_700_000_000.0)
        used = sum(len(v) for k, v in self.files.items() if k != p)
        written = 0
        for chunk in chunks:
            self._check()
            if self.capacity is not None and used + len(data) + len(chunk) > self.capacity:
                self.files[p] = bytes(data)
                raise StorageFull(f"memory source is full while writing {p!r}")
            data += chunk
            written += len(chunk)
        self.files[p] = bytes(data)
        return written

    def mkdir(self, path: str) -> None:
        self._check()
        p = normalize_path(path)
        if p in self.files:
            raise Conflict(f"a file of that name exists already: {p!r}")
        while p and p not in self.folders:
            self.folders.add(p)
            p = parent_of(p)

    def rename(self, old: str, new: str) -> None:
        self._check()
        src, dst = normalize_path(old), normalize_path(new)
        if src in self.files:
            self.files[dst] = self.files.pop(src)
            self.mtimes[dst] = self.mtimes.pop(src)
            return
        if src and src in self._dirs():
            prefix = src + "/"
            if dst.startswith(prefix):
                raise InvalidInput(f"cannot move {src!r} into itself ({dst!r})")
            for key in [k for k in self.files if k.startswith(prefix)]:
                self.files[dst + "/" + key[len(prefix):]] = self.files.pop(key)
                self.mtimes[dst + "/" + key[len(prefix):]] = self.mtimes.pop(key)
            self.folders = {dst + f[len(src):] if f == src or f.startswith(prefix) else f
                            for f in self.folders}
            return
        raise NotFound(f"no such file: {src!r}")

    def delete(self, path: str) -> None:
        self._check()
        p = normalize_path(path)
        if p in self.files:
            del self.files[p]
            self.mtimes.pop(p, None)
            return
        if p and p in self._dirs():
            if any(parent_of(k) == p for k in self.files) or any(
                    parent_of(f) == p for f in self.folders):
                raise Conflict(f"folder is not empty: {p!r}")
            self.folders.discard(p)
            return
        raise NotFound(f"no such file: {p!r}")

    def test(self) -> None:
        self.list("")

    def close(self) -> None:
        return None
