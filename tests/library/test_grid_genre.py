"""The grid's genre filter matches one whole genre, in any ASCII case, the same on
SQLite and PostgreSQL; LIKE's wildcards in a typed genre are plain characters (a genre
"%" found every title with a genre). On PostgreSQL when ``REELHOUSE_TEST_POSTGRES_URL``
is set."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie, SourceRow
from reelhouse.library.grid import GridFilter, grid_page

from helpers import ENGINES, core_on

NOW = datetime(2026, 1, 1, tzinfo=UTC)
GENRES = {
    "Drama": ["Drama"],
    "SciFi": ["Science Fiction", "Action & Adventure"],
    "Odd": ['50% "quoted" \\ back_slash', "Comédie"],
    "None": None,
}


@pytest.fixture(params=ENGINES)
def lib(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Core]:
    with core_on(request.param, tmp_path / "data", "rh_genre") as core:
        with core.sessions() as s:
            s.execute(insert(SourceRow), [{"id": 1, "name": "disk", "kind": "local", "path": str(tmp_path),
                                           "tls": "none", "verify_tls": True, "created_at": NOW}])
            s.execute(insert(Movie), [{"id": i, "title": t, "match_key": t, "genres": g, "needs_review": False,
                                       "locked": False, "created_at": NOW}
                                      for i, (t, g) in enumerate(GENRES.items(), 1)])
            s.execute(insert(MediaFile), [{"source_id": 1, "path": f"{i}.mkv", "size": 1, "kind": "movie",
                                           "movie_id": i, "first_seen": NOW, "last_seen": NOW}
                                          for i in range(1, len(GENRES) + 1)])
            s.commit()
        yield core


@pytest.mark.parametrize(("genre", "titles"), [
    ("Drama", ["Drama"]),
    ("drama", ["Drama"]),
    ("SCIENCE FICTION", ["SciFi"]),
    ("Science", []),  # a whole genre, not a part of one
    ("Action & Adventure", ["SciFi"]),
    ("%", []),
    ("_rama", []),
    ("Dr%", []),
    ('50% "quoted" \\ back_slash', ["Odd"]),
    ("Comédie", ["Odd"]),
    ("\\", []),
])
def test_genre_filter(lib: Core, genre: str, titles: list[str]) -> None:
    with lib.sessions() as s:
        page = grid_page(s, GridFilter(genre=genre), 10)
    assert [i.title for i in page.items] == titles
    assert page.total == len(titles)
