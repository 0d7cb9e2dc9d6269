"""Title search for names with signs and punctuation: "C++" found every title with a
"c" (its folded key is "c"), "C#" and "Disney+" alike; "M*A*S*H", "Se7en", "(500) Days
of Summer", "Amélie" and "WALL·E" are found by their words, whatever punctuation the
query or the title has — through the library grid, the title lists and the Jellyfin
API, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie, SourceRow
from reelhouse.jellyfin.query import ItemQuery, page
from reelhouse.library import queries
from reelhouse.library.grid import GridFilter, grid_page

from helpers import postgres_schema

NOW = datetime(2026, 1, 1, tzinfo=UTC)
FILMS = ["C++", "C# Basics", "Casablanca", "The C Programming Language", "Disney+ Special", "Disney Classics",
         "M*A*S*H", "Smash", "Se7en", "(500) Days of Summer", "Amélie", "WALL·E", "+1", "Film+"]
PG_URL = os.environ.get("REELHOUSE_TEST_POSTGRES_URL", "")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.requires_postgres)])
def core(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Core]:
    data = tmp_path_factory.mktemp("data")
    with contextlib.ExitStack() as stack:
        if request.param == "postgres":
            if not PG_URL:
                pytest.skip("set REELHOUSE_TEST_POSTGRES_URL to run the PostgreSQL tests")
            url = stack.enter_context(postgres_schema(PG_URL, "rh_signs"))
            core = Core(load_settings(data_dir=data, database_url=url))
        else:
            core = Core(load_settings(data_dir=data))
        stack.callback(core.close)
        with core.sessions() as s:
            s.add(SourceRow(id=1, name="disk", kind="local", path="/m", created_at=NOW))
            s.flush()
            for i, title in enumerate(FILMS, start=1):
                s.add(Movie(id=i, title=title, match_key=f"m{i}"))
            s.execute(insert(MediaFile), [{"source_id": 1, "path": f"m/{i}.mkv", "size": 1, "kind": "movie",
                                           "movie_id": i, "first_seen": NOW, "last_seen": NOW}
                                          for i in range(1, len(FILMS) + 1)])
            s.commit()
        yield core


CASES = [
    ("C++", ["C++"]), ("c++", ["C++"]), ("C#", ["C# Basics"]), ("c# basics", ["C# Basics"]),
    ("Disney+", ["Disney+ Special"]), ("+1", ["+1"]), ("film+", ["Film+"]),
    # "*" and "." separate words (a "*" may be typed as a wildcard): the words match as a key does
    ("M*A*S*H", ["M*A*S*H", "Smash"]), ("mash", ["M*A*S*H", "Smash"]), ("m.a.s.h.", ["M*A*S*H", "Smash"]),
    ("Se7en", ["Se7en"]), ("se7en", ["Se7en"]),
    ("(500) Days of Summer", ["(500) Days of Summer"]), ("500 days", ["(500) Days of Summer"]),
    ("Amélie", ["Amélie"]), ("amelie", ["Amélie"]), ("WALL·E", ["WALL·E"]), ("wall-e", ["WALL·E"]),
    ("Casablanca", ["Casablanca"]),
]



@pytest.mark.parametrize(("q", "titles"), CASES)
def test_grid_lists_and_jellyfin_find_titles_with_signs(core: Core, q: str, titles: list[str]) -> None:
    with core.sessions() as s:
        assert sorted(i.title for i in grid_page(s, GridFilter(q=q), 50).items) == sorted(titles)
        assert sorted(i.title for i in queries.grid(s, q=q)) == sorted(titles)
        found = page(s, ItemQuery(user_id=1, kinds={"movie"}, recursive=True, search=q))
        assert sorted(FILMS[r.id - 1] for r in found) == sorted(titles)
