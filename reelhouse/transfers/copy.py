"""Upload and download of one file, safe against interruption.

A file is written under a temporary name (``NAME.reelhouse.part``, next to the final
name: a user's ``NAME.part`` is left alone) and renamed only after its size was checked,
so a half-written file is never taken for a whole one. A ``.part`` left by an
interrupted attempt is resumed from its size: a download asks the source for the rest
(FTP ``REST`` + ``RETR``), an upload sends the rest (FTP ``APPE``, or ``REST`` + ``STOR``).
The size the other side reports decides where to resume, never the count of bytes
sent: bytes in flight may have been lost.

A download's ``.part`` is resumed only while the source file is the version it began
with: its size and mtime are kept beside it (:mod:`.part_files`), a ``.part``
of another version (or of none known) starts over, and a file whose size or mtime
changed while it streamed is discarded and downloaded again (a retry), so a download
is never a splice of two versions.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from reelhouse.errors import (
    Cancelled,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ReelhouseError,
    SourceLoginRefused,
    SourceUnavailable,
)
from reelhouse.sources.base import Entry, Source, normalize_path, parent_of
from reelhouse.sources.sizes import remote_size
from reelhouse.sources.skipping import skip_stop
from reelhouse.transfers.meter import Meter
from reelhouse.transfers.part_files import discard_part, local_part, part_name, part_signature_path
from reelhouse.transfers.store_checks import ROOM_CHECK_EVERY as _ROOM_CHECK_EVERY
from reelhouse.transfers.store_checks import check_room as _check_room
from reelhouse.transfers.store_checks import local_error as _local_error

__all__ = ["CHUNK", "Meter", "download", "upload"]

#: Bytes read from the local file per write to the source (1 MiB: few syscalls and
#: progress callbacks per second at LAN speeds).
CHUNK = 1024 * 1024

#: ``progress(bytes_done, bytes_total)``; ``bytes_total`` is None when unknown.
Progress = Callable[[int, int | None], None]
ShouldStop = Callable[[], bool]


def _signature(entry: Entry, exact: float | None = None) -> str:
    return f"{entry.size} {entry.mtime!r}" + (f" {exact!r}" if exact is not None else "")


def _version(source: Source, rel: str) -> tuple[Entry, str]:
    """The file's entry and its signature: size and listed mtime, plus the mtime to the
    second where the source has a finer one than its listing (FTP ``MDTM``: a LIST
    server shows minutes, so a same-size file replaced within the minute would look
    unchanged and a resume would splice the two versions)."""
    entry = source.stat(rel)
    exact = getattr(source, "exact_mtime", None)
    return entry, _signature(entry, exact(rel) if exact is not None and not entry.is_dir else None)


def _read_signature(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _never() -> bool:
    return False


def download(
    source: Source,
    remote: str,
    dest: Path,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    min_free: int = 0,
) -> int:
    """Copy ``remote`` on ``source`` to local file ``dest``; returns its size (bytes).

    Writes ``dest.part`` (resumed from its size if present), checks the size against
    the source's, then renames it to ``dest``. Raises the source's errors, ``Conflict``
    while another download to ``dest`` runs in this process (two would write one
    ``.part`` together; the first to end renames it away from the other),
    ``SourceUnavailable`` on a size mismatch (worth a retry), ``Cancelled`` when
    ``should_stop()`` turns true (the ``.part`` stays for a later resume),
    ``Conflict`` when ``dest`` is a folder (before a byte is read; its ``.part`` is
    removed when a folder takes the name during the download),
    ``StorageFull`` when the local disk is full or the copy would leave less than
    ``min_free`` bytes free on it (checked before the first byte and every 64 MiB:
    the database and caches share that disk, and any user may queue downloads).

    What becomes of the ``.part`` when the download fails: kept after ``Cancelled``,
    ``SourceUnavailable`` and ``SourceLoginRefused`` (a stop, a source down or refusing
    its stored login, a short read: the job's retry or a later download of the same
    version resumes from it; a cancel by a user removes it, transfers/runner.py);
    removed after any other error, which no retry follows
    (the disk full, also ENOSPC with ``min_free`` 0, where its bytes are what fills the
    disk; the file gone; a name refused).
    A ``.part`` is resumed only if the source file's size and mtime are those it began
    with; a source file that changed while it streamed is ``SourceUnavailable`` (the
    ``.part`` is discarded, so the retry takes the new version whole).
    """
    with _DOWNLOADING.only(os.path.abspath(dest), f"a download to {dest}"):
        try:
            return _download(source, remote, dest, progress, should_stop, min_free)
        except (Cancelled, SourceUnavailable, SourceLoginRefused):
            raise  # kept on purpose: the retry or a later download resumes from it
        except ReelhouseError:
            with contextlib.suppress(OSError):  # failed for good: nothing resumes it
                discard_part(dest)
            raise


def _download(source: Source, remote: str, dest: Path, progress: Progress | None,
              should_stop: ShouldStop | None, min_free: int) -> int:
    note = progress or (lambda done, total: None)
    stop = should_stop or _never
    rel = normalize_path(remote)
    entry, sig = _version(source, rel)
    if entry.is_dir:
        raise InvalidInput(f"{rel!r} is a folder; transfers copy files")
    total = entry.size
    part = local_part(dest)
    sig_path = part_signature_path(dest)
    if dest.is_dir():  # before a byte is read: the rename at the end could never replace it
        raise Conflict(f"cannot write {dest}: it is a folder")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        have = part.stat().st_size if part.exists() else 0
        if (total is not None and have > total) or _read_signature(sig_path) != sig:
            have = 0  # a .part of another version of the file (or of an unknown one)
        _check_room(dest.parent, (total or 0) - have, min_free, dest.name)
        sig_path.write_text(sig, "utf-8")
        with open(part, "r+b" if have else "wb") as fh:
            fh.truncate(have)
            fh.seek(have)
            while True:
                done = have
                note(done, total)
                length = (total - have) if total is not None else 1 << 62
                chunks = source.read_range(rel, have, length)
                next_check = done + _ROOM_CHECK_EVERY
                # a resume on a server without REST skips ``have`` bytes first: a cancel stops that too
                stopping = skip_stop.set(stop)
                try:
                    for chunk in chunks:
                        fh.write(chunk)
                        done += len(chunk)
                        note(done, total)
                        if done >= next_check:
                            _check_room(dest.parent, max(0, (total or 0) - done), min_free, dest.name)
                            next_check = done + _ROOM_CHECK_EVERY
                        if stop():
                            raise Cancelled(f"download of {rel!r} cancelled at byte {done}")
                    break
                except _REFUSED:
                    if not have or done != have:
                        raise
                    # the server refused to resume (REST): take the whole file instead
                    have = 0
                    fh.seek(0)
                    fh.truncate(0)
                finally:
                    skip_stop.reset(stopping)
                    close = getattr(chunks, "close", None)
                    if close is not None:
                        close()
            # no fsync: it doubled the time of a download on a busy disk
            # (benchmarks/faults.py); a copy cut short by a crash is caught by its size
            # (offline copies are served only when the file's size is right)
        size = part.stat().st_size
    except OSError as exc:
        raise _local_error(exc, dest) from exc
    if total is not None and size != total:
        raise SourceUnavailable(
            f"download of {rel!r} ended at {size} of {total} bytes; it will be resumed")
    if _version(source, rel)[1] != sig:
        discard_part(dest)
        raise SourceUnavailable(f"{rel!r} changed on the source during the download; "
                                "it will be downloaded again")
    try:
        os.replace(part, dest)
        sig_path.unlink(missing_ok=True)
    except OSError as exc:
        error = _local_error(exc, dest)
        if isinstance(error, Conflict):  # a folder took the name meanwhile: no retry can rename it
            discard_part(dest)
        raise error from exc
    return size


def upload(
    source: Source,
    local: Path,
    remote: str,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    signature: Path | None = None,
) -> int:
    """Copy local file ``local`` to ``remote`` on ``source`` (``mkdir -p`` of its
    folder first); returns its size (bytes).

    Writes ``remote.part`` (resumed from the size the source reports for it), checks
    the source's size of it, then renames it to ``remote`` (replacing a file of that
    name) and checks the name is there (``InvalidInput`` when the server stored it
    under another: pure-ftpd makes ``a.mkv `` ``a.mkv_``, and said nothing). Errors
    as :func:`download`; ``StorageFull`` when the source is full (FTP 452/552),
    ``InvalidInput`` for a name the source refuses (FTP 553), ``Conflict``
    while another upload to the same name on the same source runs in this process,
    or when the name is a folder's (its ``.part`` is then removed).

    ``signature``: a file where the upload keeps the size, mtime and inode of ``local``
    while its ``.part`` exists; a ``.part`` is resumed only if ``local`` still has them
    (a file edited between two attempts starts over instead of ending as the old
    version's head and the new one's tail). Without it the ``.part`` is resumed by size.
    A signature that cannot be written (the library store's disk is full) sends the
    whole file rather than failing an upload to a source that has room.
    """
    rel = normalize_path(remote)
    if not rel:
        raise InvalidInput("upload needs a file name on the source")
    with _UPLOADING.only((id(source), rel), f"an upload to {rel!r}"):
        return _upload(source, local, rel, progress, should_stop, signature)


#: What a server answers to a resume it does not do (APPE or REST refused, 5xx): the
#: transfer then starts over from byte 0 rather than failing on every retry.
_REFUSED = (PermissionDenied, InvalidInput, NotFound)


def _send(source: Source, fh: BinaryIO, part: str, have: int, total: int, note: Progress,
          stop: ShouldStop, rel: str) -> None:
    """Write ``fh`` from byte ``have`` to ``part`` on ``source`` (at offset ``have``)."""
    fh.seek(have)
    note(have, total)
    sent = have

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        while True:
            if stop():
                raise Cancelled(f"upload of {rel!r} cancelled at byte {sent}")
            block = fh.read(CHUNK)
            if not block:
                return
            yield block
            sent += len(block)
            note(sent, total)

    source.write(part, chunks(), offset=have)


class _Running:
    """The keys of the copies running in this process; :meth:`only` lets one at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: set[object] = set()

    @contextmanager
    def only(self, key: object, what: str) -> Iterator[None]:
        """Run the block as the one copy of ``key``; raises :class:`Conflict` (409) naming
        ``what`` when another runs."""
        with self._lock:
            if key in self._keys:
                raise Conflict(f"{what} is already running; try again when it ends")
            self._keys.add(key)
        try:
            yield
        finally:
            with self._lock:
                self._keys.discard(key)


#: (source object, path) of the uploads running in this process: two uploads of one
#: name would append to each other's ``.part`` (an upload resumes from its size).
_UPLOADING = _Running()
#: The local files (absolute paths) the downloads running in this process write.
_DOWNLOADING = _Running()


def _upload(source: Source, local: Path, rel: str, progress: Progress | None,
            should_stop: ShouldStop | None, signature: Path | None) -> int:
    note = progress or (lambda done, total: None)
    stop = should_stop or _never
    try:
        st = local.stat()
        total = st.st_size
        if not local.is_file():
            raise InvalidInput(f"not a file: {local}")
    except OSError as exc:
        raise _local_error(exc, local) from exc
    version = f"{st.st_size} {st.st_mtime_ns} {st.st_ino}"
    folder = parent_of(rel)
    if folder:
        source.mkdir(folder)
    part = part_name(rel)
    try:
        have = remote_size(source, part) or 0
    except NotFound:
        have = 0
    if have > total or (signature is not None and have and _read_signature(signature) != version):
        have = 0  # a longer .part, or one begun from another version of the file: start over
    if signature is not None:
        try:
            signature.parent.mkdir(parents=True, exist_ok=True)
            signature.write_text(version, "utf-8")
        except OSError:
            # the store is full (or in the way) while the source may have room: send the
            # whole file; a later attempt finds no signature of this version and starts
            # over too, so a .part is never resumed on a guess
            have = 0
            _forget(signature)
    try:
        with open(local, "rb") as fh:
            try:
                _send(source, fh, part, have, total, note, stop, rel)
            except _REFUSED:
                if not have:
                    raise
                # the server refused to resume (APPE, REST): send the whole file again,
                # into a fresh .part (a server may keep a refused name's old bytes)
                try:
                    source.delete(part)
                except (NotFound, PermissionDenied):
                    pass
                _send(source, fh, part, 0, total, note, stop, rel)
    except OSError as exc:
        raise _local_error(exc, local) from exc
    size = remote_size(source, part)
    if size != total:
        raise SourceUnavailable(
            f"upload of {rel!r}: the source has {size} of {total} bytes; it will be resumed")
    try:
        source.rename(part, rel)
    except (Conflict, *_REFUSED) as exc:
        if not _is_folder(source, rel):
            raise
        # a folder has the name (FTP says 550 "not found"): no retry can store the file
        # there, so its .part is dropped and the answer says what is in the way
        try:
            source.delete(part)
        except ReelhouseError:
            pass
        _forget(signature)
        raise Conflict(f"a folder of that name exists already: {rel!r}") from exc
    _forget(signature)
    try:
        remote_size(source, rel)
    except NotFound as exc:  # the server took the rename, then stored another name
        raise InvalidInput(f"the server stored {rel!r} under another name (pure-ftpd turns spaces at the "
                           "end of a name into '_'): rename the file and upload it again") from exc
    return total


def _forget(signature: Path | None) -> None:
    """Remove an upload's signature file, if it has one (a store in the way: no matter)."""
    if signature is not None:
        with contextlib.suppress(OSError):
            signature.unlink(missing_ok=True)


def _is_folder(source: Source, path: str) -> bool:
    """Whether ``path`` is a folder on ``source`` (False when it cannot be told)."""
    try:
        return source.stat(path).is_dir
    except ReelhouseError:
        return False
