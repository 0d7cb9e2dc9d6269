"""A local folder as a Source. Paths can never leave the root: ``..`` is refused and
symlinks that resolve outside the root are treated as permission errors."""

from __future__ import annotations

import asyncio
import builtins
import errno
import os
import stat
from collections.abc import AsyncGenerator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from reelhouse.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ReelhouseError,
    SourceUnavailable,
    StorageFull,
)
from reelhouse.sources.base import DEFAULT_CHUNK, Entry, join, normalize_path
from reelhouse.sources.walk import walk_source

__all__ = ["LocalSource"]

#: The local disks' own bounded executor for stream reads: never asyncio's default one,
#: which FTP waits or anything else could fill, so a local stream never waits behind
#: an FTP server (tests/faults/test_isolation.py). Threads start on first use.
_LOCAL_IO = ThreadPoolExecutor(max_workers=8, thread_name_prefix="local-io")


def _translate(exc: OSError, path: str) -> ReelhouseError:
    if isinstance(exc, FileNotFoundError) or exc.errno == errno.ENOTDIR:
        return NotFound(f"no such file or folder: {path!r}")
    if isinstance(exc, PermissionError):
        return PermissionDenied(f"permission denied: {path!r}")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull(f"no space left on the disk while writing {path!r}")
    if exc.errno == errno.EEXIST or isinstance(exc, FileExistsError):
        return Conflict(f"a file of that name exists already: {path!r}")
    if exc.errno in (errno.ENAMETOOLONG, errno.EINVAL, errno.EISDIR):
        return InvalidInput(f"bad file name: {path!r} ({exc.strerror})")
    return SourceUnavailable(f"cannot read {path!r}: {exc.strerror or exc}")


class LocalSource:
    """Files under ``root`` on this machine.

    Raises :class:`InvalidInput` at construction when ``root`` is not an existing folder.
    """

    kind = "local"

    def __init__(self, root: str | os.PathLike[str], chunk_size: int = DEFAULT_CHUNK) -> None:
        self.root = Path(root).expanduser().resolve()
        self.chunk_size = chunk_size

    def _resolve(self, path: str) -> Path:
        rel = normalize_path(path)
        full = (self.root / rel) if rel else self.root
        try:
            real = full.resolve(strict=False)
        except (OSError, RuntimeError) as exc:  # symlink loops
            raise PermissionDenied(f"cannot resolve {path!r}") from exc
        if real != self.root and not real.is_relative_to(self.root):
            raise PermissionDenied(f"{path!r} points outside the source root")
        return real

    def _entry(self, rel: str, full: Path) -> Entry:
        st = full.stat()
        is_dir = full.is_dir()
        return Entry(
            name=rel.rsplit("/", 1)[-1],  # the link's own name, not its target's
            path=rel,
            is_dir=is_dir,
            size=None if is_dir else st.st_size,
            mtime=st.st_mtime,
        )

    def list(self, path: str) -> list[Entry]:
        rel = normalize_path(path)
        full = self._resolve(rel)
        if not self.root.is_dir():
            raise SourceUnavailable(f"source folder is missing: {self.root}")
        entries = []
        try:
            with os.scandir(full) as found:
                for item in found:
                    child = join(rel, item.name)
                    try:
                        if item.is_symlink():  # judged by its target, which must stay inside
                            target = self._resolve(child)
                            if target.is_dir() and self._cycle(rel, target):
                                continue
                            entries.append(self._entry(child, target))
                            continue
                        # not a link, in a resolved folder: inside the root (no resolve per
                        # entry: a 100,000-file walk, issue 14)
                        st = item.stat(follow_symlinks=False)
                        is_dir = stat.S_ISDIR(st.st_mode)
                        entries.append(Entry(item.name, child, is_dir, None if is_dir else st.st_size,
                                             st.st_mtime))
                    except (OSError, PermissionDenied):
                        continue  # dangling or escaping symlink, or gone meanwhile
        except OSError as exc:
            raise _translate(exc, rel) from exc
        return entries

    def _cycle(self, rel: str, target: Path) -> bool:
        """Whether a folder link in folder ``rel`` leads back to ``rel`` or a folder above
        it on its path (``Films/up -> ..``, ``A/to-b -> B`` beside ``B/to-a -> A``): a
        walk would follow it forever. Asked for folder links only, rare."""
        parts = rel.split("/") if rel else []
        return any(self._resolve("/".join(parts[:depth])) == target for depth in range(len(parts) + 1))

    def folder_identity(self, path: str) -> tuple[int, int] | None:
        """The folder at ``path`` as the disk knows it (device, inode), or None when it
        cannot be read: two paths with one identity are one folder (a link or a bind
        mount back up). The walk asks it of a folder listed exactly like an ancestor
        (``Films/Films/Films`` made by one ``mkdir -p`` lists each level alike, to the
        clock's tick, and was skipped as a loop), once a folder per walk."""
        try:  # the kernel follows links (no confinement needed to compare two folders)
            st = os.stat(self.root / normalize_path(path))
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def same_folder(self, a: str, b: str) -> bool | None:
        """Whether paths ``a`` and ``b`` are one folder (:meth:`folder_identity`); None
        when either cannot be read."""
        first, second = self.folder_identity(a), self.folder_identity(b)
        return None if first is None or second is None else first == second

    def stat(self, path: str) -> Entry:
        rel = normalize_path(path)
        try:
            return self._entry(rel, self._resolve(rel))
        except OSError as exc:
            raise _translate(exc, rel) from exc

    def _open(self, rel: str, offset: int) -> tuple[int, int]:
        if offset < 0:
            raise InvalidInput("offset must be >= 0")
        full = self._resolve(rel)
        try:
            fd = os.open(full, os.O_RDONLY)
        except OSError as exc:
            raise _translate(exc, rel) from exc
        return fd, offset

    def read_range(self, path: str, offset: int, length: int) -> Iterator[bytes]:
        rel = normalize_path(path)
        fd, pos = self._open(rel, offset)
        try:
            remaining = length
            while remaining > 0:
                chunk = os.pread(fd, min(self.chunk_size, remaining), pos)
                if not chunk:
                    return
                pos += len(chunk)
                remaining -= len(chunk)
                yield chunk
        except OSError as exc:
            raise _translate(exc, rel) from exc
        finally:
            os.close(fd)

    async def aread_range(self, path: str, offset: int, length: int) -> AsyncGenerator[bytes, None]:
        rel = normalize_path(path)
        fd, pos = self._open(rel, offset)
        # Reads of 1 MiB per thread hop: the hop costs ~50 µs, a 1 MiB pread from page
        # cache ~100 µs, so the hop is amortised (benchmarks/stream_throughput.py).
        size = max(self.chunk_size, 1024 * 1024)
        loop = asyncio.get_running_loop()
        try:
            remaining = length
            while remaining > 0:
                try:
                    chunk = await loop.run_in_executor(_LOCAL_IO, os.pread, fd, min(size, remaining), pos)
                except OSError as exc:
                    raise _translate(exc, rel) from exc
                if not chunk:
                    return
                pos += len(chunk)
                remaining -= len(chunk)
                yield chunk
        finally:
            os.close(fd)

    def walk(self, path: str = "") -> Iterator[tuple[str, builtins.list[Entry] | Exception]]:
        return walk_source(self, path)

    # -- writing -----------------------------------------------------------------------
    def write(self, path: str, chunks: Iterable[bytes], offset: int = 0) -> int:
        rel = normalize_path(path)
        if not rel:
            raise InvalidInput("cannot write to the source root")
        if offset < 0:
            raise InvalidInput("offset must be >= 0")
        full = self._resolve(rel)
        written = 0
        try:
            flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if offset == 0 else 0)
            fd = os.open(full, flags, 0o644)
            try:
                if offset:
                    size = os.fstat(fd).st_size
                    if offset > size:
                        raise InvalidInput(f"cannot resume {rel!r} at byte {offset}: it has {size}")
                    os.ftruncate(fd, offset)
                    os.lseek(fd, offset, os.SEEK_SET)
                for chunk in chunks:
                    view = memoryview(chunk)
                    while view:
                        n = os.write(fd, view)
                        view = view[n:]
                        written += n
            finally:
                os.close(fd)
        except OSError as exc:
            raise _translate(exc, rel) from exc
        return written

    def _file_in_the_way(self, rel: str) -> str | None:
        """The first of ``rel`` and its folders that is a file (not a folder), or None."""
        parts = rel.split("/")
        for n in range(1, len(parts) + 1):
            sub = "/".join(parts[:n])
            full = self.root / sub
            if full.exists() and not full.is_dir():
                return sub
        return None

    def mkdir(self, path: str) -> None:
        """``mkdir -p``; Conflict when the name or one of its folders is a file (as the
        FTP source says it)."""
        rel = normalize_path(path)
        full = self._resolve(rel)
        try:
            in_the_way = self._file_in_the_way(rel)
            if in_the_way is not None:
                raise Conflict(f"a file of that name exists already: {in_the_way!r}")
            if not full.is_dir():
                # one level at a time, from the top: Path.mkdir(parents=True) recurses once
                # a level and raised RecursionError (a 500) for a path ~1,000 folders deep
                parts = rel.split("/")
                for depth in range(1, len(parts) + 1):
                    (self.root / "/".join(parts[:depth])).mkdir(exist_ok=True)
        except OSError as exc:
            raise _translate(exc, rel) from exc

    def rename(self, old: str, new: str) -> None:
        """``os.replace``: a file replaces a file. Conflict (naming ``new``) when a file
        would replace a folder, a folder a file or a folder that is not empty, or a
        folder of ``new`` is a file; NotFound when ``old`` does not exist; InvalidInput
        when ``new`` is inside the folder ``old``."""
        src, dst = normalize_path(old), normalize_path(new)
        if not src or not dst:
            raise InvalidInput("cannot rename the source root")
        if dst.startswith(src + "/"):  # EINVAL from rename(2): "bad file name" named neither
            raise InvalidInput(f"cannot move {src!r} into itself ({dst!r})")
        src_full = self._resolve(src)
        try:
            os.replace(src_full, self._resolve(dst))
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                raise Conflict(f"a folder that is not empty has that name already: {dst!r}") from exc
            if exc.errno == errno.EISDIR:
                raise Conflict(f"a folder of that name exists already: {dst!r}") from exc
            if exc.errno == errno.ENOTDIR and os.path.lexists(src_full):
                in_the_way = self._file_in_the_way(dst) or dst
                raise Conflict(f"a file of that name exists already: {in_the_way!r}") from exc
            raise _translate(exc, src) from exc

    def delete(self, path: str) -> None:
        rel = normalize_path(path)
        if not rel:
            raise InvalidInput("cannot delete the source root")
        full = self._resolve(rel)
        try:
            if full.is_dir():
                full.rmdir()
            else:
                full.unlink()
        except OSError as exc:
            if exc.errno == errno.ENOTEMPTY:
                raise Conflict(f"folder is not empty: {rel!r}") from exc
            raise _translate(exc, rel) from exc

    def test(self) -> None:
        if not self.root.is_dir():
            raise NotFound(f"folder does not exist: {self.root}")
        self.list("")

    def close(self) -> None:
        return None
