"""Title search for names with signs and punctuation: "C++" found every title with a
"c" (its folded key is "c"), "C#" and "Disney+" alike; "M*A*S*H", "Se7en", "(500) Days
of Summer", "Amélie" and "WALL·E" are found by their words, whatever punctuation the
query or the title has — through the library grid, the title lists and the Jellyfin
API, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from synthetic_library import titled_films

from reelhouse.core import Core
from reelhouse.jellyfin.paging import page
from reelhouse.jellyfin.query import ItemQuery
from reelhouse.library import queries
from reelhouse.library.grid import GridFilter, grid_page

from helpers import ENGINES, core_on

FILMS = ["C++", "C# Basics", "Casablanca", "The C Programming Language", "Disney+ Special", "Disney Classics",
         "M*A*S*H", "Smash", "Se7en", "(500) Days of Summer", "Amélie", "WALL·E", "+1", "Film+"]


@pytest.fixture(scope="module", params=ENGINES)
def core(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Core]:
    with core_on(request.param, tmp_path_factory.mktemp("data"), "rh_signs") as core:
        titled_films(core, FILMS)
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
