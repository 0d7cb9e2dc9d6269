"""The scanner: walk a Source, index its media files, link them to movies/episodes.

Two phases (issue 14: a 100,000-file library is browsable in two minutes):

1. Here: walk the source, name and group every new file (naming.parse_media_paths,
   library/batchlink.py) and write the rows in batches of :data:`BATCH` files, one
   transaction each, so the library is browsable while the scan goes on. No byte of
   any file is read in this phase, but for the fingerprints of possible moves.
2. library/probing.py: probes, fingerprints, NFO/artwork and TMDB of the new and
   changed files. :func:`scan_source` runs it in this process after phase 1, unless a
   ``phase2`` hook takes it (the job runner: jobs of kind ``probe`` spread over every
   worker, jobs/probes.py). Until then a file is "not probed yet"
   (library/streams.unprobed) and plays all the same (HLS probes on demand).

Idempotent: files are keyed by (source, path) with a (size, mtime) signature; an
unchanged file is neither re-probed nor rewritten, so a second scan of an unchanged
source writes no file row and reads no byte of any file. Such a rescan costs little
more than the listing (issue 14, benchmarks/rescan.py): a file listed unchanged that
needs no work is one dict lookup (library/known.py) — not named, no ORM row, no phase-2
work — and "last seen" is the source's ``last_listed_at``, one row; only files this
scan could not list keep a time of their own (``MediaFile.unlisted``; before, every row
was rewritten: a dead row version per file per rescan on PostgreSQL).

Moves: a new path whose size and fingerprint (library/fingerprint.py: first and last
64 KiB) equal those of an indexed file whose path is gone takes over that file's row, so
its metadata, its movie/episode link and watch progress stay. Only such candidates are
read in phase 1.

Safe: a file is marked missing only when a complete, successful listing of its folder
(or of an ancestor that no longer shows the folder) lacks it. A failed listing, an
unreachable server, or a scan that dies half-way never hides anything.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.limits import storable_text
from reelhouse.db.models import MediaFile, SourceRow, utcnow
from reelhouse.db.models.base import UTCDateTime
from reelhouse.errors import Cancelled, ReelhouseError
from reelhouse.library.batchlink import BatchLinker, NewFile
from reelhouse.library.fingerprint import content_hash
from reelhouse.library.known import Known, Listed, is_gone, load_known, same_mtime
from reelhouse.library.linking import NAMING_VERSION, link_file, relink, unplaced_extras
from reelhouse.library.naming import Parsed, is_media_path, is_video_folder, parse_media_paths
from reelhouse.library.prefetch import workers_for
from reelhouse.library.probing import Enrich, Pending, ProbeReport, probe_files
from reelhouse.sources.base import Entry, Source

__all__ = ["BATCH", "PHASE1_DONE", "Enrich", "Phase2", "ScanReport", "scan_source"]

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, int], str], None]

#: Files written per transaction in phase 1.
BATCH = 500
#: The start of the progress message that says phase 1 ended (the library is browsable).
PHASE1_DONE = "phase 1 done"

#: A scan in which at least this share of the folders could not be listed ends
#: ``failed`` rather than ``partial`` (issue 14: 400 of 407 failed folders ended "done").
FAILED_SHARE = 0.5

@dataclass
class ScanReport:
    """Counts of one scan; ``errors`` holds one line per failed folder or file,
    ``folder_errors`` the failed folders' lines alone. Phase 1 fills the counts up to
    ``missing``/``moved`` and ``to_probe`` (files it left for phase 2); phase 2 adds
    ``probe_done`` (files it handled), ``probed`` and ``matched``."""

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
    to_probe: int = 0
    probe_done: int = 0
    errors: list[str] = field(default_factory=list)
    folder_errors: list[str] = field(default_factory=list)
    errors_unlisted: int = 0  # errors of probe jobs past the lines each one keeps

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

    def add_phase2(self, got: ProbeReport) -> None:
        """Count what phase 2 did (one run of :func:`probe_files`)."""
        self.probe_done += got.done
        self.probed += got.probed
        self.matched += got.matched
        self.errors.extend(got.errors)

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
            "errors": len(self.errors) + self.errors_unlisted,
            "folders_failed": len(self.folder_errors),
            "total": self.total,
            "done": self.files_seen,
            "to_probe": self.to_probe,
            "probe_done": self.probe_done,
        }


#: ``phase2(pending, report, progress)``: probe and enrich ``pending`` (phase 2), adding
#: what was done to ``report``; raises Cancelled when the scan is stopped.
Phase2 = Callable[[Pending, ScanReport, Progress], None]


class _Moves:
    """Rows whose path is gone, by size: a new path with the same size and fingerprint
    is the same file moved or renamed, and takes the row over (library/fingerprint.py)."""

    def __init__(self, vanished: dict[str, Known]) -> None:
        self.by_size: dict[int, list[tuple[str, Known]]] = {}
        for path, k in vanished.items():
            if k.content_hash is not None and k.size > 0:
                self.by_size.setdefault(k.size, []).append((path, k))
        self.moved_from: set[str] = set()

    def candidates(self, size: int | None) -> bool:
        return bool(size) and bool(self.by_size.get(size or 0))

    def take(self, size: int, digest: str) -> tuple[str, Known] | None:
        for i, (path, k) in enumerate(self.by_size.get(size, [])):
            if k.content_hash == digest:
                del self.by_size[size][i]
                self.moved_from.add(path)
                return path, k
        return None


def _digests(source: Source, entries: list[Entry], report: ScanReport) -> dict[str, str]:
    """Fingerprints of the possible moves, several at once (their only reads in phase 1)."""
    def one(e: Entry) -> tuple[str, str | None]:
        try:
            return e.path, content_hash(source, e.path, e.size or 0)
        except ReelhouseError as exc:
            report.errors.append(f"{e.path}: fingerprint: {exc.message}")
            return e.path, None

    if not entries:
        return {}
    with ThreadPoolExecutor(max_workers=workers_for(source), thread_name_prefix="scan-move") as pool:
        return {path: digest for path, digest in pool.map(one, entries) if digest is not None}


def scan_source(
    sessions: sessionmaker[Session],
    source_id: int,
    source: Source,
    progress: Progress | None = None,
    probe_budget: int = 32 * 1024 * 1024,
    should_stop: Callable[[], bool] | None = None,
    enrich: Enrich | None = None,
    phase2: Phase2 | None = None,
) -> ScanReport:
    """Scan ``source`` (row ``source_id``) into the library and return the counts.

    Phase 1 here; phase 2 (``probe_budget``: bytes one probe may read; ``enrich``: the
    metadata hook) by ``phase2`` if given, else in this thread before returning.
    Raises :class:`SourceUnavailable` (or another source error) when the root folder
    cannot be listed; nothing is changed then. Errors deeper down are counted in the
    report and the scan goes on. Raises ``Cancelled`` once ``should_stop()``.
    """
    report = ScanReport()
    notify = progress or (lambda counts, message: None)
    stop = should_stop or (lambda: False)
    pending = _phase1(sessions, source_id, source, stop, report, notify)
    report.to_probe = len(pending)
    notify(report.counts(), f"{PHASE1_DONE}: {report.files_seen} files indexed, {report.to_probe} to probe")
    if pending.ids():
        if phase2 is not None:
            phase2(pending, report, notify)
        else:
            def seen(counts: dict[str, int], message: str) -> None:
                base = report.counts()
                base.update(probe_done=report.probe_done + counts["done"],
                            probed=report.probed + counts["probed"], matched=report.matched + counts["matched"])
                notify(base, message if message != "done" else "probed")

            report.add_phase2(probe_files(sessions, source_id, source, pending, budget=probe_budget, enrich=enrich,
                                          should_stop=should_stop, progress=seen))
    notify(report.counts(), "done")
    log.info("scan of source %s: %s", source_id, report.counts())
    return report


def _phase1(sessions: sessionmaker[Session], source_id: int, source: Source, stop: Callable[[], bool],
            report: ScanReport, notify: Progress) -> Pending:
    """Walk, then index every listed media file; returns the work left for phase 2."""
    listings: dict[str, list[Entry]] = {}
    media: list[list[Entry]] = []  # the listings of folders whose files are indexed
    pending = Pending()  # its sidecars: NFO/artwork entries per folder, for ``enrich``
    last_note = 0.0
    for folder, result in source.walk(""):
        if stop():
            raise Cancelled("scan cancelled while listing; nothing was changed")
        if not storable_text(folder):
            continue  # under a folder named as skipped below (FTP: its listing fails)
        if isinstance(result, Exception):
            if folder == "":
                raise result
            report.errors.append(f"{folder or '/'}: {result}")
            report.folder_errors.append(f"{folder or '/'}: {result}")
            continue
        report.folders += 1
        result = _storable_entries(result, report)
        listings[folder] = result
        pending.sidecars.add(folder, result)  # indexed when phase 2 asks for it
        if is_video_folder(folder):  # films, episodes and their extras; no samples
            media.append(result)
        if time.monotonic() - last_note > 0.3:
            last_note = time.monotonic()
            notify(report.counts(), f"listing {folder or '/'}")
    # the rows are read after the listing, not during it: a walk over a fast server is
    # bound by Python (one GIL), and a load beside it cost twice its own CPU time
    # (benchmarks/rescan.py: 20,000 rows, 38 ms alone, +80 ms beside the walk)
    files = load_known(sessions, source_id)
    unchanged, rest = files.split(media)  # no naming, no row for the files listed unchanged
    known = files.rest(sessions, unchanged)
    report.files_seen = report.unchanged = len(unchanged)
    rest.sort(key=lambda e: not is_media_path(e.path))  # extras after the titles they belong to
    report.total = len(unchanged) + len(rest)
    listed = Listed(listings)
    seen_paths = {e.path for e in rest}
    moves = _Moves({
        path: k for path, k in known.items()
        if path not in seen_paths and (k.missing is not None or is_gone(path, listed))
    })
    digests = _digests(source, [e for e in rest if e.path not in known and moves.candidates(e.size)], report)
    index = _Index(sessions, source_id, known, moves, digests, report, pending, utcnow())
    index.run(rest, stop, notify)
    _finish(sessions, source_id, known, seen_paths, moves, listed, report, pending, index)
    if pending.ids():  # phase 2 keeps the sidecar entries only, not every listed entry
        pending.sidecars.index_all()
    return pending


def _storable_entries(entries: list[Entry], report: ScanReport) -> list[Entry]:
    """``entries`` without the names the database cannot hold (db/limits.storable_text):
    a name that is not UTF-8 on a local disk or a UTF-8 FTP server (latin-1 ``Caf\\xe9``)
    comes as lone surrogates (PEP 383 ``surrogateescape``). Each is named in the
    report's errors; the scan goes on (one such name failed the whole scan before)."""
    if all(storable_text(e.name) for e in entries):
        return entries
    kept = []
    for e in entries:
        if storable_text(e.name):
            kept.append(e)
        else:
            shown = e.path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            report.errors.append(f"{shown}: skipped, its name is not UTF-8 (rename the file)")
    return kept


class _Index:
    """Phase 1's writes: batches of new, changed, restored and moved files."""

    def __init__(self, sessions: sessionmaker[Session], source_id: int, known: dict[str, Known], moves: _Moves,
                 digests: dict[str, str], report: ScanReport, pending: Pending, now: datetime) -> None:
        self.sessions, self.source_id, self.known, self.moves = sessions, source_id, known, moves
        self.digests, self.report, self.pending, self.now = digests, report, pending, now
        self.linker = BatchLinker()
        self.seen_ids: list[int] = []
        self.stale: list[int] = []  # unchanged files placed by older naming rules
        self.retimed: list[tuple[int, float | None]] = []  # unchanged files listed with a moved time
        self.wrote = False  # a batch was written: files were placed (titles may be left without files)

    def run(self, media: list[Entry], stop: Callable[[], bool], notify: Progress) -> None:
        """Index ``media``: the listed files but the clean rows listed unchanged."""
        batch: list[Entry] = []
        last_note = time.monotonic()
        for entry in media:
            old = self.known.get(entry.path)
            if old is not None and old.size == entry.size and same_mtime(old.mtime, entry.mtime) \
                    and old.missing is None:
                if old.mtime != entry.mtime:  # the listing's time moved (zone, precision)
                    self.retimed.append((old.id, entry.mtime))
                self.report.files_seen += 1
                self.seen_ids.append(old.id)
                if old.naming_version < NAMING_VERSION:
                    self.stale.append(old.id)
                if old.unprobed:  # phase 2 of an earlier scan did not get to it: not "unchanged"
                    self.pending.probe.append(old.id)
                else:
                    self.report.unchanged += 1
                continue
            batch.append(entry)
            if len(batch) >= BATCH:
                self._write(batch, stop, notify)
                batch = []
            if time.monotonic() - last_note > 0.3:
                last_note = time.monotonic()
                notify(self.report.counts(), f"indexing {entry.path}")
        self._write(batch, stop, notify)

    def _write(self, batch: list[Entry], stop: Callable[[], bool], notify: Progress) -> None:
        """Name the batch's new files (CPU, outside any transaction), then write it."""
        if not batch:
            return
        if stop():  # files indexed so far stay; nothing is marked missing by a partial scan
            raise Cancelled(f"scan cancelled after {self.report.files_seen} of {self.report.total} files")
        new = [entry.path for entry in batch if entry.path not in self.known]
        parsed: dict[str, Parsed] = dict(zip(new, parse_media_paths(new), strict=True))
        counted = (self.report.added, self.report.updated, self.report.restored, self.report.moved)
        try:
            self._transaction(batch, parsed)
        except IntegrityError:  # a title went (or came) meanwhile: look them up again, once
            log.warning("scan of source %s: a title changed under the batch; writing it again", self.source_id)
            self.linker.forget()
            self.report.added, self.report.updated, self.report.restored, self.report.moved = counted
            self._transaction(batch, parsed)
        self.report.files_seen += len(batch)
        notify(self.report.counts(), f"indexed {batch[-1].path}")

    def _transaction(self, batch: list[Entry], parsed: dict[str, Parsed]) -> None:
        new: list[NewFile] = []
        probe: list[int] = []
        enrich: list[int] = []
        taken_here: list[tuple[str, Known]] = []
        seen = len(self.seen_ids)
        try:
            with self.sessions() as s:
                self._rows(s, batch, parsed, new, probe, enrich, taken_here)
                ids = self.linker.insert(s, new)
                s.commit()
                self.wrote = True
        except IntegrityError:  # undo the moves taken: the batch is written again
            for path, k in taken_here:
                self.moves.by_size.setdefault(k.size, []).append((path, k))
                self.moves.moved_from.discard(path)
            del self.seen_ids[seen:]
            raise
        self.report.added += len(new)
        fresh = [ids[str(f.values["path"])] for f in new]
        self.pending.probe.extend(probe + fresh)
        self.pending.enrich.extend(enrich + fresh)

    def _rows(self, s: Session, batch: list[Entry], parsed: dict[str, Parsed], new: list[NewFile],
              probe: list[int], enrich: list[int], taken_here: list[tuple[str, Known]]) -> None:
        """Moves and changed/restored rows in ``s``; the new files are collected in ``new``."""
        for entry in batch:
            old = self.known.get(entry.path)
            if old is None:
                digest = self.digests.get(entry.path)
                taken = self.moves.take(entry.size or 0, digest) if digest is not None else None
                if taken is not None:  # the row follows its file: id, metadata, links, progress
                    taken_here.append(taken)
                    s.execute(update(MediaFile).where(MediaFile.id == taken[1].id).values(
                        path=entry.path, mtime=entry.mtime, last_seen=self.now, unlisted=None, missing_since=None))
                    self.report.moved += 1
                    self.seen_ids.append(taken[1].id)
                    continue
                new.append(NewFile({"source_id": self.source_id, "path": entry.path, "size": entry.size or 0,
                                    "mtime": entry.mtime, "first_seen": self.now, "last_seen": self.now,
                                    "content_hash": digest}, parsed[entry.path]))
                continue
            mf = s.get(MediaFile, old.id)
            if mf is None:  # deleted meanwhile (its source was removed): nothing to keep
                continue
            if old.missing is not None:
                self.report.restored += 1
            changed = old.size != entry.size or not same_mtime(old.mtime, entry.mtime)
            mf.mtime = entry.mtime
            if changed:  # probed again in phase 2; the old values show until then
                self.report.updated += 1
                mf.size, mf.probe_bytes, mf.probe_error = entry.size or 0, None, None
            mf.missing_since, mf.last_seen, mf.unlisted = None, self.now, None
            link_file(s, mf)
            if changed:
                enrich.append(mf.id)
            if changed or old.unprobed:
                probe.append(mf.id)


def _finish(sessions: sessionmaker[Session], source_id: int, known: dict[str, Known], seen_paths: set[str],
            moves: _Moves, listed: Listed, report: ScanReport, pending: Pending, index: _Index) -> None:
    """After the loop: relink, mark what is proven gone, and what was seen. ``known``:
    every row but the clean ones listed unchanged."""
    with sessions() as s:  # place again what older rules placed, and extras found before their film
        placed = index.stale + unplaced_extras(s, source_id)
        if placed or index.wrote:  # relink also prunes the titles left without files
            pending.enrich.extend(relink(s, placed))
            s.commit()
    unseen: list[int] = []  # present, not listed as media, not proven gone: last_seen stays
    with sessions() as s:
        source = s.get(SourceRow, source_id)
        if source is None:  # removed meanwhile: nothing to keep
            return
        before = source.last_listed_at  # what "listed" meant for rows not marked unlisted
        # a row's own last_seen from now on: the later of it and the last complete listing
        own = (MediaFile.last_seen if before is None else
               case((and_(MediaFile.unlisted.is_(None), MediaFile.last_seen < literal(before, UTCDateTime)),
                     literal(before, UTCDateTime)), else_=MediaFile.last_seen))
        for path, k in known.items():
            if path in seen_paths or path in moves.moved_from or k.missing is not None:
                continue
            if is_gone(path, listed):
                s.execute(update(MediaFile).where(MediaFile.id == k.id)
                          .values(missing_since=index.now, last_seen=own, unlisted=None))
                report.missing += 1
            else:
                unseen.append(k.id)
        if index.retimed:  # the time the server lists now, so the next scan finds it equal (one executemany)
            s.execute(update(MediaFile), [{"id": i, "mtime": mtime} for i, mtime in index.retimed])
        for start in range(0, len(unseen), 500):  # keep their own time: not listed by this scan
            s.execute(update(MediaFile).where(MediaFile.id.in_(unseen[start:start + 500]))
                      .values(last_seen=own, unlisted=True), execution_options={"synchronize_session": False})
        # rows this scan listed again after one that did not: the source's time is theirs
        # again (none in an unchanged rescan: nothing is written)
        skip = set(unseen)
        back = [i for i in s.scalars(select(MediaFile.id).where(
            MediaFile.source_id == source_id, MediaFile.unlisted.is_not(None),
            MediaFile.missing_since.is_(None))) if i not in skip]
        for start in range(0, len(back), 500):
            s.execute(update(MediaFile).where(MediaFile.id.in_(back[start:start + 500]))
                      .values(unlisted=None), execution_options={"synchronize_session": False})
        source.last_listed_at = index.now
        s.commit()

