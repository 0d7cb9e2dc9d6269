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

Modules: this one walks and orders the work; library/scan_index.py writes the rows
(batches, moves, the end of phase 1); library/scan_report.py holds the counts.

Safe: a file is marked missing only when a complete, successful listing of its folder
(or of an ancestor that no longer shows the folder) lacks it. A failed listing, an
unreachable server, or a scan that dies half-way never hides anything.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.limits import storable_text
from reelhouse.db.models import utcnow
from reelhouse.errors import Cancelled
from reelhouse.library.known import Listed, is_gone, load_known
from reelhouse.library.naming import is_media_path, is_video_folder
from reelhouse.library.probing import Enrich, Pending, probe_files
from reelhouse.library.scan_index import BATCH, Index, Moves, digests, finish
from reelhouse.library.scan_report import FAILED_SHARE, Phase2, Progress, ScanReport
from reelhouse.sources.base import UNREAD_KEPT, Entry, LinkNotFollowed, Listing, Source
from reelhouse.sources.walk import FolderLoop, LinkedFolderSkipped

__all__ = ["BATCH", "FAILED_SHARE", "PHASE1_DONE", "Enrich", "Phase2", "Progress", "ScanReport", "scan_source"]

log = logging.getLogger(__name__)

#: The start of the progress message that says phase 1 ended (the library is browsable).
PHASE1_DONE = "phase 1 done"


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
        if isinstance(result, LinkedFolderSkipped):  # a loop, or walked through another path
            report.notes.append(f"{folder}: {result}")
            continue
        if isinstance(result, FolderLoop | LinkNotFollowed):  # a link back up: its files are listed
            # where it leads; a link the server will not follow: no listing will ever show it
            report.errors.append(f"{folder}: {result}")
            continue
        if isinstance(result, Exception):
            if folder == "":
                raise result
            report.errors.append(f"{folder or '/'}: {result}")
            report.folder_errors.append(f"{folder or '/'}: {result}")
            continue
        report.folders += 1
        unread = result.unread if isinstance(result, Listing) else ()
        result = _storable_entries(result, report)
        if unread:  # files may be behind those lines: none is marked missing here
            report.errors.append(
                f"{folder or '/'}: {len(unread)}{'+' if len(unread) >= UNREAD_KEPT else ''} line(s) of its "
                f"listing could not be read (a name with a line break, or a listing format reelhouse does "
                f"not know), so nothing in it is marked missing: {', '.join(map(repr, unread))}")
        else:
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
    rest = _listed_once(rest, report)
    rest.sort(key=lambda e: not is_media_path(e.path))  # extras after the titles they belong to
    report.total = len(unchanged) + len(rest)
    listed = Listed(listings)
    seen_paths = {e.path for e in rest}
    moves = Moves({
        path: k for path, k in known.items()
        if path not in seen_paths and (k.missing is not None or is_gone(path, listed))
    })
    hashes = digests(source, [e for e in rest if e.path not in known and moves.candidates(e.size)], report)
    index = Index(sessions, source_id, known, moves, hashes, report, pending, utcnow(), listings)
    index.run(rest, stop, notify)
    finish(sessions, source_id, known, seen_paths, moves, listed, report, pending, index)
    if pending.ids():  # phase 2 keeps the sidecar entries only, not every listed entry
        pending.sidecars.index_all()
    return pending


def _listed_once(entries: list[Entry], report: ScanReport) -> list[Entry]:
    """``entries`` (the files to index: new or changed ones) with each path once, the
    first listed kept; each later one is named in the report's errors. A server that
    lists a name twice (a broken or hostile one; overlapping virtual folders) failed the
    whole scan on the database's unique (source, path): "internal error: UNIQUE
    constraint failed"."""
    seen: set[str] = set()
    kept: list[Entry] = []
    for e in entries:
        if e.path in seen:
            report.errors.append(f"{e.path}: listed twice by the server; the first entry is kept")
            continue
        seen.add(e.path)
        kept.append(e)
    return kept


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

