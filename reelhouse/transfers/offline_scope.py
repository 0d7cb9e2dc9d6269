"""What an offline copy is made of and where it goes (:mod:`.offline`): a scope
(``movie:<id>``, ``season:<id>``) and its files, whether a copy is of a file as it is
now, and the copy's place in the store. Reads the database through the session it is
given; writes nothing."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelhouse.db.models import Episode, MediaFile, Movie, OfflineCopy, Season
from reelhouse.errors import InvalidInput, NotFound
from reelhouse.sources.base import normalize_path
from reelhouse.transfers.confine import local_name

__all__ = ["copy_place", "is_current", "parse_scope", "scope_files"]


def parse_scope(scope: str) -> tuple[str, int]:
    """``("movie" | "season", id)`` of ``movie:<id>`` or ``season:<id>``; raises
    InvalidInput for anything else."""
    kind, _, ident = scope.partition(":")
    if kind not in ("movie", "season") or not ident.isdigit() or len(ident) > 18:
        raise InvalidInput("scope must be movie:<id> or season:<id>")
    return kind, int(ident)


def scope_files(s: Session, scope: str) -> list[MediaFile]:
    """The scope's files (a movie's but its extras; a season's episodes'), missing ones
    too; raises InvalidInput (bad scope), NotFound (an unknown movie or season)."""
    kind, ident = parse_scope(scope)
    if kind == "movie":
        if s.get(Movie, ident) is None:
            raise NotFound(f"no movie with id {ident}")
        q = select(MediaFile).where(MediaFile.movie_id == ident, MediaFile.kind != "extra")
    else:
        if s.get(Season, ident) is None:
            raise NotFound(f"no season with id {ident}")
        q = select(MediaFile).join(Episode).where(Episode.season_id == ident)
    return list(s.scalars(q))


def is_current(copy: OfflineCopy | None, mf: MediaFile) -> bool:
    """A ready or coming copy of the file as it is now (same size and mtime)."""
    return (copy is not None and copy.state in ("ready", "pending")
            and copy.size == mf.size and copy.mtime == mf.mtime)


def copy_place(store: Path, source_id: int, file_id: int, path: str) -> str:
    """Where the copy of file ``file_id`` (at ``path`` on its source) goes in
    ``store``, relative to it: ``offline/<source>/<path>``, unless another copy is in
    its way — a file where its folder would be, or a folder where it would be (a file
    replaced by a folder of its name on the server, or the reverse: the old copy stays
    until it is removed) — then ``offline/<source>/_apart/<file id>/<name>``."""
    rel = normalize_path(f"offline/{source_id}/{local_name(path)}")
    full = store / rel
    folders = [store / p for p in PurePosixPath(rel).parents if str(p) != "."]
    if full.is_dir() or any(f.exists() and not f.is_dir() for f in folders):
        name = local_name(path.rpartition("/")[2])
        rel = normalize_path(f"offline/{source_id}/_apart/{file_id}/{name}")
    return rel
