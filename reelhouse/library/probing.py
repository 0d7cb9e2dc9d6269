"""Phase 2 of a scan: the reads and lookups that phase 1 (library/scanner.py) left for
later — each file's probe (technical metadata, streams), its fingerprint, and its
title's NFO, artwork and TMDB match (issue 14: a 100,000-file library is browsable
first, and this continues in the background).

:func:`probe_files` does it for a list of file ids, several files at once (the
prefetch's ``workers`` threads, at most ``gate`` reads of a source in this process),
and writes the results in short transactions of up to :data:`WRITE_EVERY` files. It
may run again for the same ids (a worker that died mid-way: its job runs elsewhere):
a file probed already, changed or gone since is skipped without a read. A file whose
probe fails gets its ``probe_error`` and the others go on; a source that fails
mid-probe leaves the file "not probed yet" (a later scan queues it again).

"Not probed yet" is :func:`~reelhouse.library.streams.unprobed`: no container, or
neither ``probe_bytes`` nor ``probe_error`` (a changed file keeps its old values for
display until it is probed again).
"""

from __future__ import annotations

import logging
import posixpath
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from reelhouse.db.models import MediaFile
from reelhouse.errors import Cancelled, ProbeFailed, ReelhouseError
from reelhouse.library.metadata.sidecars import FolderIndex, show_folder, sidecar_key
from reelhouse.library.prefetch import ProbeAhead
from reelhouse.library.probe import ProbeResult
from reelhouse.library.streams import store_streams, unprobed
from reelhouse.sources.base import Entry, Source

__all__ = ["WRITE_EVERY", "Pending", "ProbeReport", "probe_files", "sidecars_from_json", "sidecars_to_json"]

log = logging.getLogger(__name__)

#: Files whose results one transaction writes (at most; also every 0.5 s).
WRITE_EVERY = 50

#: ``enrich(source, source_id, media_file_id, folder_index)``: the metadata hook
#: (MetadataService.enrich_file); never raises.
Enrich = Callable[[Source, int, int, FolderIndex], None]
Progress = Callable[[dict[str, int], str], None]


@dataclass
class Pending:
    """What phase 1 leaves for phase 2: files to probe and fingerprint (new, changed,
    never probed), files whose titles to enrich (new, changed, placed again), in scan
    order, and the sidecar files of their folders."""

    probe: list[int] = field(default_factory=list)
    enrich: list[int] = field(default_factory=list)
    sidecars: FolderIndex = field(default_factory=FolderIndex)

    def ids(self) -> list[int]:
        """Every file of the work, each once, in order."""
        return list(dict.fromkeys([*self.probe, *self.enrich]))

    def __len__(self) -> int:
        return len(self.ids())


@dataclass
class ProbeReport:
    """What phase 2 did: ``done`` files handled (probed, failed, skipped), ``probed``
    probes that succeeded, ``matched`` files sent through metadata matching, one line
    per file that failed in ``errors``."""

    total: int = 0
    done: int = 0
    probed: int = 0
    failed: int = 0
    matched: int = 0
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"total": self.total, "done": self.done, "probed": self.probed, "failed": self.failed,
                "matched": self.matched, "errors": len(self.errors)}


@dataclass(slots=True)
class _Row:
    id: int
    entry: Entry
    probe: bool  # not probed yet (and present): probe and fingerprint it
    fresh: bool  # never probed at all: its title was never enriched either


def _load(sessions: sessionmaker[Session], source_id: int, ids: list[int]) -> dict[int, _Row]:
    rows: dict[int, _Row] = {}
    with sessions() as s:
        for start in range(0, len(ids), 500):
            for r in s.execute(select(MediaFile.id, MediaFile.path, MediaFile.size, MediaFile.mtime,
                                      MediaFile.missing_since, MediaFile.container, MediaFile.probe_bytes,
                                      MediaFile.probe_error)
                               .where(MediaFile.id.in_(ids[start:start + 500]), MediaFile.source_id == source_id)):
                if r.missing_since is not None:
                    continue
                never = r.container is None
                todo = never or (r.probe_bytes is None and r.probe_error is None)
                rows[r.id] = _Row(r.id, Entry(posixpath.basename(r.path), r.path, False, r.size, r.mtime),
                                  todo, never and r.probe_error is None)
    return rows


def _apply(mf: MediaFile, entry: Entry, got: ProbeResult | ReelhouseError | None,
           digest: str | ReelhouseError | None, report: ProbeReport) -> None:
    """Write one file's probe result (or its failure) and fingerprint into ``mf``."""
    ext = posixpath.splitext(entry.path)[1].lstrip(".").lower() or None
    if not entry.size:
        mf.probe_error, mf.container = "empty file (0 bytes)", ext
        report.failed += 1
        report.errors.append(f"{entry.path}: cannot be played: {mf.probe_error}")
        return
    if isinstance(got, ProbeFailed):
        mf.probe_error, mf.probe_bytes, mf.container = got.message, None, ext
        store_streams(mf, ())
        report.failed += 1
        report.errors.append(f"{entry.path}: cannot be played: {got.message}")
    elif isinstance(got, ReelhouseError):  # the source failed mid-probe: not probed yet
        report.errors.append(f"{entry.path}: {got.message}")
        return
    elif isinstance(got, ProbeResult):
        report.probed += 1
        mf.probe_error = None
        mf.container, mf.duration, mf.bitrate = got.container, got.duration, got.bitrate
        mf.video_codec, mf.audio_codec = got.video_codec, got.audio_codec
        mf.width, mf.height, mf.probe_bytes = got.width, got.height, got.bytes_read
        store_streams(mf, got.streams)
    if isinstance(digest, ReelhouseError):
        report.errors.append(f"{entry.path}: fingerprint: {digest.message}")
    elif digest is not None:
        mf.content_hash = digest


def probe_files(sessions: sessionmaker[Session], source_id: int, source: Source, work: Pending, *,
                budget: int, enrich: Enrich | None = None, should_stop: Callable[[], bool] | None = None,
                progress: Progress | None = None, workers: int | None = None,
                gate: threading.Semaphore | None = None) -> ProbeReport:
    """Probe, fingerprint and enrich the files of ``work`` (rows of source ``source_id``);
    ``budget``: bytes one probe may read. Returns the counts. Raises ``Cancelled`` when
    ``should_stop()`` turns true (what was written stays)."""
    ids = work.ids()
    report = ProbeReport(total=len(ids))
    notify = progress or (lambda counts, message: None)
    rows = _load(sessions, source_id, ids)
    wanted = set(work.probe)
    enrich_ids = set(work.enrich)
    todo = [rows[i] for i in ids if i in rows and rows[i].probe and i in wanted]
    ahead = ProbeAhead(source, [r.entry for r in todo], budget, lambda size, digest: False,
                       lambda size: False, workers=workers, gate=gate)
    batch: list[tuple[_Row, Any, Any]] = []
    written = time.monotonic()
    try:
        for file_id in ids:
            if should_stop is not None and should_stop():
                _write(sessions, batch, report)
                raise Cancelled(f"probing stopped after {report.done} of {report.total} files")
            row = rows.get(file_id)
            if row is not None and row.probe and file_id in wanted:
                try:
                    got = ahead.take(row.entry)
                    batch.append((row, got.probe, got.digest))
                except Exception as exc:  # a bug in one probe never stops the others
                    log.exception("probing %s failed", row.entry.path)
                    batch.append((row, ProbeFailed(f"internal error: {exc}"), None))
            elif row is not None and (file_id in enrich_ids or row.fresh):
                batch.append((row, None, None))
            else:
                report.done += 1  # gone, missing or probed already: nothing to do
                continue
            if len(batch) >= WRITE_EVERY or time.monotonic() - written > 0.5:
                _finish_batch(sessions, source, source_id, batch, report, enrich, enrich_ids, work.sidecars)
                batch, written = [], time.monotonic()
                notify(report.counts(), f"probed {report.done} of {report.total} files")
        _finish_batch(sessions, source, source_id, batch, report, enrich, enrich_ids, work.sidecars)
    finally:
        ahead.close()
    notify(report.counts(), "done")
    return report


def _finish_batch(sessions: sessionmaker[Session], source: Source, source_id: int,
                  batch: list[tuple[_Row, Any, Any]], report: ProbeReport, enrich: Enrich | None,
                  enrich_ids: set[int], sidecars: FolderIndex) -> None:
    done = _write(sessions, batch, report)
    for row in done:  # network and source reads of the metadata: outside any transaction
        if enrich is not None and (row.id in enrich_ids or row.fresh):
            enrich(source, source_id, row.id, sidecars)
            report.matched += 1
    batch.clear()


def _write(sessions: sessionmaker[Session], batch: list[tuple[_Row, Any, Any]], report: ProbeReport) -> list[_Row]:
    """Write a batch in one transaction; a row whose file changed or went since it was
    read is left as it is (the scan that saw the change queued it again)."""
    if not batch:
        return []
    done: list[_Row] = []
    with sessions() as s:
        for start in range(0, len(batch), 500):
            part = batch[start:start + 500]
            found = {mf.id: mf for mf in s.scalars(select(MediaFile).options(selectinload(MediaFile.streams))
                                                    .where(MediaFile.id.in_([row.id for row, _, _ in part])))}
            for row, got, digest in part:
                report.done += 1
                mf = found.get(row.id)
                if mf is None or (mf.size, mf.mtime) != (row.entry.size, row.entry.mtime) \
                        or mf.missing_since is not None:
                    continue
                if got is not None or not row.entry.size:
                    if unprobed(mf):
                        _apply(mf, row.entry, got, digest, report)
                done.append(row)
        s.commit()
    return done


# -- the sidecar files of a work's folders, as JSON (a job's payload) ------------------
def sidecars_to_json(index: FolderIndex, paths: Iterable[str]) -> dict[str, Any]:
    """The part of ``index`` that the files at ``paths`` may need (their folders and
    show folders), as plain JSON."""
    folders: set[str] = set()
    for path in paths:
        folders.add(posixpath.dirname(path))
        show = show_folder(path)
        if show:
            folders.add(show)
    found = {folder: got for folder in sorted(folders) if (got := index.files(folder)) is not None}
    return {folder: {"count": count, "files": [[e.name, e.path, e.size, e.mtime] for e in files.values()]}
            for folder, (files, count) in found.items()}


def sidecars_from_json(data: dict[str, Any]) -> FolderIndex:
    """A FolderIndex from :func:`sidecars_to_json`."""
    index = FolderIndex()
    for folder, item in data.items():
        index.sidecars[folder] = {sidecar_key(str(f[0])): Entry(str(f[0]), str(f[1]), False, f[2], f[3])
                                  for f in item.get("files", [])}
        index.media_count[folder] = int(item.get("count", 0))
    return index
