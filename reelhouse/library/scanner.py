"""The scanner: walk a Source, index its media files, link them to movies/episodes.

Idempotent: files are keyed by (source, path) with a (size, mtime) signature; an
unchanged file is neither re-probed nor rewritten, so a second scan of an unchanged
source changes nothing but ``last_seen`` and reads no byte of any file.

Moves: a new path whose size and fingerprint (library/fingerprint.py: first and last
64 KiB) equal those of an indexed file whose path is gone takes over that file's row, so
its metadata, its movie/episode link and watch progress stay.

Safe: a file is marked missing only when a complete, successful listing of its folder
(or of an ancestor that no longer shows the folder) lacks it. A failed listing, an
unreachable server, or a scan that dies half-way never hides anything.
"""

from __future__ import annotations

import logging
import posixpath
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import MediaFile, utcnow
from reelhouse.errors import Cancelled, ProbeFailed, ReelhouseError
from reelhouse.library.fingerprint import content_hash
from reelhouse.library.linking import NAMING_VERSION, link_file, relink, unplaced_extras
from reelhouse.library.metadata.sidecars import FolderIndex
from reelhouse.library.naming import is_media_path, is_video_file, is_video_folder
from reelhouse.library.prefetch import NOT_RUN, Prepared, ProbeAhead, _NotRun
from reelhouse.library.probe import ProbeResult, probe
from reelhouse.library.streams import store_streams, unprobed
from reelhouse.sources.base import Entry, Source
from reelhouse.sources.reader import SourceReader

__all__ = ["ScanReport", "scan_source"]

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, int], str], None]
#: The metadata hook: ``enrich(source, source_id, media_file_id, folder_index)``, called
#: after a new or changed file was committed (MetadataService.enrich_file); never raises.
Enrich = Callable[[Source, int, int, FolderIndex], None]


#: A scan in which at least this share of the folders could not be listed ends
#: ``failed`` rather than ``partial`` (issue 14: 400 of 407 failed folders ended "done").
FAILED_SHARE = 0.5


@dataclass
class ScanReport:
    """Counts of one scan; ``errors`` holds one line per failed folder or file,
    ``folder_errors`` the failed folders' lines alone."""

    folders: int = 0
    files_seen: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: int = 0
    restored: int = 0
    moved: int = 0
    probed: int = 0
    matched: int = 0  # files sent through metadata matching (NFO, artwork, TMDB)
    total: int = 0
    errors: list[str] = field(default_factory=list)
    folder_errors: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """``done`` when every folder was listed; ``partial`` when some could not be
        (their files were neither added nor marked missing); ``failed`` when
        :data:`FAILED_SHARE` or more of them could not be."""
        failed = len(self.folder_errors)
        if not failed:
            return "done"
        return "failed" if failed >= FAILED_SHARE * (failed + self.folders) else "partial"

    def problem(self, limit: int = 20) -> str | None:
        """One line for a job's ``error``: the failed folders first, then other errors."""
        if self.folder_errors:
            n, total = len(self.folder_errors), len(self.folder_errors) + self.folders
            more = f"; … {n - limit} more" if n > limit else ""
            return f"{n} of {total} folders could not be listed: " + "; ".join(self.folder_errors[:limit]) + more
        return "; ".join(self.errors[:5]) or None

    def counts(self) -> dict[str, int]:
        return {
            "folders": self.folders,
            "files_seen": self.files_seen,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "missing": self.missing,
            "restored": self.restored,
            "moved": self.moved,
            "probed": self.probed,
            "matched": self.matched,
            "errors": len(self.errors),
            "folders_failed": len(self.folder_errors),
            "total": self.total,
            "done": self.files_seen,
        }


def _move(sessions: sessionmaker[Session], file_id: int, entry: Entry, now: datetime) -> None:
    """Point row ``file_id`` at its new path. The row keeps its id, so its technical
    metadata, its movie/episode link (with metadata and manual fixes) and every user's
    watch progress stay; nothing is re-probed."""
    with sessions() as s:
        s.execute(
            update(MediaFile)
            .where(MediaFile.id == file_id)
            .values(path=entry.path, mtime=entry.mtime, last_seen=now, missing_since=None)
        )
        s.commit()


def _is_gone(path: str, listed: dict[str, set[str]]) -> bool:
    """True if a complete listing proves ``path`` is no longer there: its folder was
    listed without it, or the nearest listed ancestor lacks the next path component."""
    parts = path.split("/")
    for depth in range(len(parts) - 1, -1, -1):
        folder = "/".join(parts[:depth])
        names = listed.get(folder)
        if names is not None:
            return parts[depth] not in names
    return False


def _apply_probe(mf: MediaFile, source: Source, entry: Entry, budget: int, report: ScanReport,
                 reader: SourceReader, ahead: ProbeResult | ReelhouseError | _NotRun | None = NOT_RUN) -> None:
    """Probe ``entry`` into ``mf``; ``ahead``: the result (or error) a prefetch worker
    got already (library/prefetch.py). Raises the source's errors."""
    if not entry.size:
        mf.probe_error = "empty file (0 bytes)"
        mf.container = posixpath.splitext(entry.path)[1].lstrip(".").lower() or None
        report.errors.append(f"{entry.path}: {mf.probe_error}")
        return
    try:
        if isinstance(ahead, ReelhouseError):
            raise ahead
        result = ahead if isinstance(ahead, ProbeResult) else \
            probe(source, entry.path, entry.size or 0, budget=budget, reader=reader)
    except ProbeFailed as exc:
        mf.probe_error = exc.message
        mf.probe_bytes = None
        mf.container = posixpath.splitext(entry.path)[1].lstrip(".").lower() or None
        store_streams(mf, ())
        report.errors.append(f"{entry.path}: {exc.message}")
        return
    report.probed += 1
    mf.probe_error = None
    mf.container = result.container
    mf.duration = result.duration
    mf.video_codec = result.video_codec
    mf.audio_codec = result.audio_codec
    mf.width = result.width
    mf.height = result.height
    mf.bitrate = result.bitrate
    mf.probe_bytes = result.bytes_read
    store_streams(mf, result.streams)


@dataclass(frozen=True, slots=True)
class _Known:
    """What the scan needs of an indexed file, loaded once before the walk."""

    id: int
    size: int
    mtime: float | None
    missing: datetime | None
    unprobed: bool  # no probe result yet (see library/streams.unprobed): probe it again
    content_hash: str | None
    naming_version: int = NAMING_VERSION  # the naming rules that placed it (library/linking.py)


class _Moves:
    """Rows whose path is gone, by size: a new path with the same size and fingerprint
    is the same file moved or renamed, and takes the row over (library/fingerprint.py)."""

    def __init__(self, vanished: dict[str, _Known]) -> None:
        self.by_size: dict[int, list[tuple[str, _Known]]] = {}
        for path, k in vanished.items():
            if k.content_hash is not None and k.size > 0:
                self.by_size.setdefault(k.size, []).append((path, k))
        self.moved_from: set[str] = set()

    def candidates(self, size: int | None) -> bool:
        return bool(size) and bool(self.by_size.get(size or 0))

    def take(self, size: int, digest: str) -> tuple[str, _Known] | None:
        for i, (path, k) in enumerate(self.by_size.get(size, [])):
            if k.content_hash == digest:
                del self.by_size[size][i]
                self.moved_from.add(path)
                return path, k
        return None


def _fingerprint(source: Source, entry: Entry, report: ScanReport, reader: SourceReader,
                 ahead: Prepared | None = None) -> str | None:
    if not entry.size:
        return None
    try:
        if ahead is not None:
            if isinstance(ahead.digest, ReelhouseError):
                raise ahead.digest
            return ahead.digest
        return content_hash(source, entry.path, entry.size, reader=reader)
    except ReelhouseError as exc:
        report.errors.append(f"{entry.path}: fingerprint: {exc.message}")
        return None


def scan_source(
    sessions: sessionmaker[Session],
    source_id: int,
    source: Source,
    progress: Progress | None = None,
    probe_budget: int = 32 * 1024 * 1024,
    should_stop: Callable[[], bool] | None = None,
    enrich: Enrich | None = None,
) -> ScanReport:
    """Scan ``source`` (row ``source_id``) into the library and return the counts.

    Raises :class:`SourceUnavailable` (or another source error) when the root folder
    cannot be listed; nothing is changed then. Errors deeper down are counted in the
    report and the scan goes on.
    """
    report = ScanReport()
    notify = progress or (lambda counts, message: None)
    def load_known() -> dict[str, _Known]:
        with sessions() as s:
            return {
                row.path: _Known(row.id, row.size, row.mtime, row.missing_since,
                                 row.container is None or (row.probe_bytes is None and row.probe_error is None),
                                 row.content_hash, row.naming_version)
                for row in s.execute(
                    select(MediaFile.id, MediaFile.path, MediaFile.size, MediaFile.mtime, MediaFile.missing_since,
                           MediaFile.container, MediaFile.probe_bytes, MediaFile.probe_error,
                           MediaFile.content_hash, MediaFile.naming_version)
                    .where(MediaFile.source_id == source_id)
                )
            }

    # the rows are read while the source is listed (a network-bound wait)
    loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scan-load")
    known_future = loader.submit(load_known)
    loader.shutdown(wait=False)
    listed: dict[str, set[str]] = {}
    sidecars = FolderIndex()  # NFO/artwork entries per folder, for ``enrich``
    media: list[Entry] = []
    last_note = 0.0
    for folder, result in source.walk(""):
        if should_stop is not None and should_stop():
            raise Cancelled("scan cancelled while listing; nothing was changed")
        if isinstance(result, Exception):
            if folder == "":
                raise result
            report.errors.append(f"{folder or '/'}: {result}")
            report.folder_errors.append(f"{folder or '/'}: {result}")
            continue
        report.folders += 1
        listed[folder] = {e.name for e in result}
        sidecars.add(folder, result)
        if is_video_folder(folder):  # films, episodes and their extras; no samples
            media.extend(e for e in result if not e.is_dir and is_video_file(e.name))
        if time.monotonic() - last_note > 0.3:
            last_note = time.monotonic()
            notify(report.counts(), f"listing {folder or '/'}")
    known = known_future.result()
    media.sort(key=lambda e: not is_media_path(e.path))  # extras after the titles they belong to
    now: datetime = utcnow()
    stale: list[int] = []  # unchanged files placed by older naming rules
    seen_ids: list[int] = []
    report.total = len(media)
    seen_paths = {e.path for e in media}
    moves = _Moves({
        path: k for path, k in known.items()
        if path not in seen_paths and (k.missing is not None or _is_gone(path, listed))
    })
    def needs_reads(e: Entry) -> bool:  # the loop below probes it (new, changed or unprobed)
        k = known.get(e.path)
        return k is None or (k.size, k.mtime) != (e.size, e.mtime) or k.unprobed

    ahead = ProbeAhead(source, [e for e in media if needs_reads(e)], probe_budget,
                       lambda size, digest: any(k.content_hash == digest
                                                for _, k in list(moves.by_size.get(size, ()))),
                       moves.candidates)
    try:
        _index(sessions, source_id, source, media, known, moves, ahead, probe_budget, should_stop,
               enrich, sidecars, report, notify, now, seen_ids, stale)
    finally:
        ahead.close()
    _finish(sessions, source_id, source, known, seen_paths, moves, listed, enrich, sidecars, report,
            notify, now, seen_ids, stale)
    return report


def _index(sessions: sessionmaker[Session], source_id: int, source: Source, media: list[Entry],
           known: dict[str, _Known], moves: _Moves, ahead: ProbeAhead, probe_budget: int,
           should_stop: Callable[[], bool] | None, enrich: Enrich | None, sidecars: FolderIndex,
           report: ScanReport, notify: Progress, now: datetime, seen_ids: list[int],
           stale: list[int]) -> None:
    """Index each listed media file: add, update, move or leave it (the scan's loop)."""
    for entry in media:
        if should_stop is not None and should_stop():
            # files indexed so far stay; nothing is marked missing by a partial scan
            raise Cancelled(f"scan cancelled after {report.files_seen} of {len(media)} files")
        report.files_seen += 1
        old = known.get(entry.path)
        if (old is not None and old.size == entry.size and old.mtime == entry.mtime and old.missing is None
                and not old.unprobed):
            report.unchanged += 1
            seen_ids.append(old.id)
            if old.naming_version < NAMING_VERSION:
                stale.append(old.id)
            continue
        digest = None
        # one reader per file: the probe and the fingerprint share its fetched blocks,
        # so the head (and the tail, where an index lives) is read once; a worker of
        # ``ahead`` read them already, while the rows of the files before were written
        prepared = ahead.take(entry)
        reader = prepared.reader
        if old is None and moves.candidates(entry.size):
            digest = _fingerprint(source, entry, report, reader, prepared)
            taken = moves.take(entry.size or 0, digest) if digest is not None else None
            if taken is not None:
                _move(sessions, taken[1].id, entry, now)
                report.moved += 1
                seen_ids.append(taken[1].id)
                notify(report.counts(), f"moved {taken[0]} → {entry.path}")
                continue
        with sessions() as s:
            if old is None:
                mf = MediaFile(source_id=source_id, path=entry.path, size=entry.size or 0,
                               mtime=entry.mtime, first_seen=now, last_seen=now)
                s.add(mf)
                report.added += 1
            else:
                found = s.get(MediaFile, old.id)
                assert found is not None
                mf = found
                if old.missing is not None:
                    report.restored += 1
                if (old.size, old.mtime) != (entry.size, entry.mtime):
                    report.updated += 1
                mf.missing_since = None
                mf.last_seen = now
            if old is None or (old.size, old.mtime) != (entry.size, entry.mtime) or unprobed(mf):
                mf.size = entry.size or 0
                mf.mtime = entry.mtime
                try:
                    _apply_probe(mf, source, entry, probe_budget, report, reader, prepared.probe)
                    mf.content_hash = digest or _fingerprint(source, entry, report, reader, prepared)
                except ReelhouseError as exc:  # the source failed mid-probe: keep the row
                    report.errors.append(f"{entry.path}: {exc.message}")
            link_file(s, mf)
            s.commit()
        if enrich is not None and (old is None or (old.size, old.mtime) != (entry.size, entry.mtime)):
            enrich(source, source_id, mf.id, sidecars)
            report.matched += 1
        notify(report.counts(), f"indexed {entry.path}")


def _finish(sessions: sessionmaker[Session], source_id: int, source: Source, known: dict[str, _Known],
            seen_paths: set[str], moves: _Moves, listed: dict[str, set[str]], enrich: Enrich | None,
            sidecars: FolderIndex, report: ScanReport, notify: Progress, now: datetime,
            seen_ids: list[int], stale: list[int]) -> None:
    """After the loop: relink, mark what was seen, and what is proven gone."""
    with sessions() as s:  # place again what older rules placed, and extras found before their film
        relinked = relink(s, stale + unplaced_extras(s, source_id))
        s.commit()
    if enrich is not None:
        for file_id in relinked:
            enrich(source, source_id, file_id, sidecars)
            report.matched += 1
    with sessions() as s:
        for start in range(0, len(seen_ids), 500):
            s.execute(
                update(MediaFile)
                .where(MediaFile.id.in_(seen_ids[start : start + 500]))
                .values(last_seen=now)
            )
        for path, k in known.items():
            if path in seen_paths or path in moves.moved_from or k.missing is not None:
                continue
            if _is_gone(path, listed):
                s.execute(update(MediaFile).where(MediaFile.id == k.id).values(missing_since=now))
                report.missing += 1
        s.commit()
    notify(report.counts(), "done")
    log.info("scan of source %s: %s", source_id, report.counts())
