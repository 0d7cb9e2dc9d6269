"""Shared by the Jellyfin API tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from reelhouse.core import Core
from reelhouse.db.models import Movie, Show

AUTH = ('MediaBrowser Client="reelhouse tests", Device="pytest", DeviceId="dev-1", '
        'Version="1.0"')


@dataclass
class Library:
    root: Path
    source_id: int
    files: dict[str, int]  # path relative to the source → media file id


def set_genres(core: Core, title: str, genres: list[str], table: type[Movie] | type[Show] = Movie) -> None:
    """Give the film (or, with ``table=Show``, the series) named ``title`` these genres,
    as a scan would from its NFO or TMDB."""
    with core.sessions() as s:
        row = s.scalar(select(table).where(table.title == title))
        assert row is not None, title
        row.genres = genres
        s.commit()
