"""The scanner: walk a Source, index its media files, link them to movies/episodes.

Idempotent: files are keyed by (source, path) with a (size, mtime) signature; an
unchanged file is neither re-probed nor rewritten, so a second scan of an unchanged
source changes nothing but ``last_seen``.

Safe: a file is marked missing only when a complete, successful listing of its folder
(or of an ancestor that no longer shows the folder) lacks it. A failed listing, an
unreachable server, or a scan that dies half-way never hides anything.
"""

from __future__ import annotations

import logging
import posixpath
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show, utcnow
from reelhouse.errors import Cancelled, ProbeFailed, ReelhouseError
from reelhouse.library.metadata.sidecars import FolderIndex
from reelhouse.library.naming import is_media_path, match_key, parse_media_path
from reelhouse.library.probe import probe
from reelhouse.sources.base import Entry, Source

__all__ = ["ScanReport", "scan_source"]

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, int], str], None]
#: The metadata hook: ``enrich(source, source_id, media_file_id, folder_index)``, called
#: after a new or changed file was committed (MetadataService.enrich_file); never raises.
Enrich = Callable[[Source, int, int, FolderIndex], None]


@dataclass
class ScanReport:
    """Counts of one scan; ``errors`` holds one line per failed folder or file."""

    folders: int = 0
    files_seen: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: int = 0
    restored: int = 0
    probed: int = 0
    total: int = 0
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "folders": self.folders,
            "files_seen": self.files_seen,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "missing": self.missing,
            "restored": self.restored,
            "probed": self.probed,
            "errors": len(self.errors),
            "total": self.total,
            "done": self.files_seen,
        }


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


def _link(s: Session, mf: MediaFile) -> None:
    parsed = parse_media_path(mf.path)
    mf.kind = parsed.kind
    mf.movie_id = None
    mf.episode_id = None
    if parsed.kind == "movie":
        key = match_key(parsed.title, parsed.year)
        movie = s.scalar(select(Movie).where(Movie.match_key == key))
        if movie is None:
            movie = Movie(title=parsed.title, year=parsed.year, match_key=key)
            s.add(movie)
            s.flush()
        mf.movie_id = movie.id
    elif parsed.kind == "episode" and parsed.season is not None and parsed.episode is not None:
        key = match_key(parsed.title)
        show = s.scalar(select(Show).where(Show.match_key == key))
        if show is None:
            show = Show(title=parsed.title, year=parsed.year, match_key=key)
            s.add(show)
            s.flush()
        season = s.scalar(
            select(Season).where(Season.show_id == show.id, Season.number == parsed.season)
        )
        if season is None:
            season = Season(show_id=show.id, number=parsed.season)
            s.add(season)
            s.flush()
        ep = s.scalar(
            select(Episode).where(Episode.season_id == season.id, Episode.number == parsed.episode)
        )
        if ep is None:
            ep = Episode(season_id=season.id, number=parsed.episode, title=parsed.episode_title)
            s.add(ep)
            s.flush()
        mf.episode_id = ep.id


def _apply_probe(mf: MediaFile, source: Source, entry: Entry, budget: int, report: ScanReport) -> None:
    try:
        result = probe(source, entry.path, entry.size or 0, budget=budget)
    except ProbeFailed as exc:
        mf.probe_error = exc.message
        mf.container = posixpath.splitext(entry.path)[1].lstrip(".").lower() or None
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
    with sessions() as s:
        known = {
            mf.path: (mf.id, mf.size, mf.mtime, mf.missing_since, mf.container is None)
            for mf in s.scalars(select(MediaFile).where(MediaFile.source_id == source_id))
        }
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
            continue
        report.folders += 1
        listed[folder] = {e.name for e in result}
        sidecars.add(folder, result)
        media.extend(e for e in result if not e.is_dir and is_media_path(e.path))
        if time.monotonic() - last_note > 0.3:
            last_note = time.monotonic()
            notify(report.counts(), f"listing {folder or '/'}")
    now: datetime = utcnow()
    seen_ids: list[int] = []
    report.total = len(media)
    for entry in media:
        if should_stop is not None and should_stop():
            # files indexed so far stay; nothing is marked missing by a partial scan
            raise Cancelled(f"scan cancelled after {report.files_seen} of {len(media)} files")
        report.files_seen += 1
        old = known.get(entry.path)
        if (old is not None and old[1] == entry.size and old[2] == entry.mtime and old[3] is None
                and not old[4]):  # old[4]: never probed (the source failed mid-probe)
            report.unchanged += 1
            seen_ids.append(old[0])
            continue
        with sessions() as s:
            if old is None:
                mf = MediaFile(source_id=source_id, path=entry.path, size=entry.size or 0,
                               mtime=entry.mtime, first_seen=now, last_seen=now)
                s.add(mf)
                report.added += 1
            else:
                found = s.get(MediaFile, old[0])
                assert found is not None
                mf = found
                if old[3] is not None:
                    report.restored += 1
                if (old[1], old[2]) != (entry.size, entry.mtime):
                    report.updated += 1
                mf.missing_since = None
                mf.last_seen = now
            if old is None or (old[1], old[2]) != (entry.size, entry.mtime) or mf.container is None:
                mf.size = entry.size or 0
                mf.mtime = entry.mtime
                try:
                    _apply_probe(mf, source, entry, probe_budget, report)
                except ReelhouseError as exc:  # the source failed mid-probe: keep the row
                    report.errors.append(f"{entry.path}: {exc.message}")
            _link(s, mf)
            s.commit()
        if enrich is not None and (old is None or (old[1], old[2]) != (entry.size, entry.mtime)):
            enrich(source, source_id, mf.id, sidecars)
        notify(report.counts(), f"indexed {entry.path}")
    with sessions() as s:
        for start in range(0, len(seen_ids), 500):
            s.execute(
                update(MediaFile)
                .where(MediaFile.id.in_(seen_ids[start : start + 500]))
                .values(last_seen=now)
            )
        seen_paths = {e.path for e in media}
        for path, (file_id, _size, _mtime, missing, _unprobed) in known.items():
            if path in seen_paths or missing is not None:
                continue
            if _is_gone(path, listed):
                s.execute(update(MediaFile).where(MediaFile.id == file_id).values(missing_since=now))
                report.missing += 1
        s.commit()
    notify(report.counts(), "done")
    log.info("scan of source %s: %s", source_id, report.counts())
    return report
