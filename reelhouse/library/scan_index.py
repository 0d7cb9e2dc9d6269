"""Phase 1's writes (library/scanner.py): batches of new, changed, restored and moved
files (:class:`Index`), moves found by fingerprint (:class:`Moves`, :func:`digests`),
and the end of phase 1 (:func:`finish`): relink, mark what a complete listing proves
gone, keep the time of what was not listed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import and_, case, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import MediaFile, SourceRow
from reelhouse.db.models.base import UTCDateTime
from reelhouse.errors import Cancelled, ReelhouseError
from reelhouse.library.batchlink import BatchLinker, NewFile
from reelhouse.library.fingerprint import content_hash
from reelhouse.library.known import Known, Listed, is_gone, same_mtime
from reelhouse.library.linking import NAMING_VERSION, link_file, relink, unplaced_extras
from reelhouse.library.naming import Parsed, absolute_folders, parse_media_paths
from reelhouse.library.prefetch import workers_for
from reelhouse.library.probing import Pending
from reelhouse.library.scan_report import Progress, ScanReport
from reelhouse.sources.base import Entry, Source

__all__ = ["BATCH", "Index", "Moves", "digests", "finish"]

log = logging.getLogger(__name__)

#: Files written per transaction in phase 1.
BATCH = 500


class Moves:
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


def digests(source: Source, entries: list[Entry], report: ScanReport) -> dict[str, str]:
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



class Index:
    """Phase 1's writes: batches of new, changed, restored and moved files."""

    def __init__(self, sessions: sessionmaker[Session], source_id: int, known: dict[str, Known], moves: Moves,
                 digests: dict[str, str], report: ScanReport, pending: Pending, now: datetime,
                 listings: dict[str, list[Entry]] | None = None) -> None:
        self.sessions, self.source_id, self.known, self.moves = sessions, source_id, known, moves
        self.digests, self.report, self.pending, self.now = digests, report, pending, now
        self.linker = BatchLinker()
        self.seen_ids: list[int] = []
        self.stale: list[int] = []  # unchanged files placed by older naming rules
        self.retimed: list[tuple[int, float | None]] = []  # unchanged files listed with a moved time
        self.wrote = False  # a batch was written: files were placed (titles may be left without files)
        #: folder → its listing, all of it (unchanged files too): a new file's naming context
        self.listings = listings or {}
        self.absolute: set[str] = set()  # season folders of absolute numbers (naming.absolute_folders)
        self.folders_read: set[str] = set()  # the folders absolute_folders read

    def run(self, media: list[Entry], stop: Callable[[], bool], notify: Progress) -> None:
        """Index ``media``: the listed files but the clean rows listed unchanged."""
        batch: list[Entry] = []
        last_note = time.monotonic()
        for entry in media:
            old = self.known.get(entry.path)
            # an unknown size is stored as 0: no change at every rescan
            if old is not None and old.size == (entry.size or 0) and same_mtime(old.mtime, entry.mtime) \
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

    def _absolute(self, new: list[str]) -> set[str]:
        """The season folders of absolute numbers among ``new``'s, each read once in all
        its listing (unchanged files too): "Naruto - 150" beside "Naruto - 220" is absolute."""
        todo: dict[str, list[str]] = {}
        for path in new:
            folder = path.rpartition("/")[0]
            if folder not in self.folders_read:
                todo.setdefault(folder, []).append(path)
        for folder, paths in todo.items():
            self.folders_read.add(folder)
            listed = [e.path for e in self.listings.get(folder, ()) if not e.is_dir]
            self.absolute |= absolute_folders(listed or paths)
        return self.absolute

    def _write(self, batch: list[Entry], stop: Callable[[], bool], notify: Progress) -> None:
        """Name the batch's new files (CPU, outside any transaction), then write it."""
        if not batch:
            return
        if stop():  # files indexed so far stay; nothing is marked missing by a partial scan
            raise Cancelled(f"scan cancelled after {self.report.files_seen} of {self.report.total} files")
        new = [entry.path for entry in batch if entry.path not in self.known]
        parsed: dict[str, Parsed] = dict(zip(new, parse_media_paths(new, absolute=self._absolute(new)), strict=True))
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
            changed = old.size != (entry.size or 0) or not same_mtime(old.mtime, entry.mtime)
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


def finish(sessions: sessionmaker[Session], source_id: int, known: dict[str, Known], seen_paths: set[str],
            moves: Moves, listed: Listed, report: ScanReport, pending: Pending, index: Index) -> None:
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

