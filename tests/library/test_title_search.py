"""Title search folds case and accents the same way for every title and every query:
"amelie" finds "Amélie", "ELITE" finds "Élite", "spider man" finds "Spider-Man"
(SQLite's own lower() and LIKE fold ASCII only); the library sorts by the folded title
without its leading article ("The Matrix" under M, "Élite" under E) — through the
library grid, the title lists and the Jellyfin API, on SQLite and PostgreSQL, for rows
written by the ORM, by Core inserts and by the 0015/0016 migrations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from synthetic_library import titled_films

from reelhouse.core import Core
from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show
from reelhouse.db.search_key import search_key, search_pattern, sort_key
from reelhouse.jellyfin.paging import page
from reelhouse.jellyfin.query import ItemQuery
from reelhouse.library import queries
from reelhouse.library.grid import GridFilter, grid_page

from helpers import ENGINES, core_on, migrating

NOW = datetime(2026, 1, 1, tzinfo=UTC)
FILMS = ["Amélie", "Spider-Man", "WALL·E", "Léon", "Straße", "ﬁve", "!!!", "100% Wolf", "under_score",
         "The Matrix", "A Quiet Place", "Zodiac", "Theory of Everything", "Ørnen", "Æon Flux"]


@pytest.mark.parametrize(("title", "key"), [
    ("Amélie", "amelie"), ("ÉLITE", "elite"), ("Spider-Man: No Way Home", "spidermannowayhome"),
    ("Straße", "strasse"), ("ﬁve", "five"), ("WALL·E", "walle"), ("!!!", ""), (None, ""),
    ("Ötzi", "otzi"), ("東京物語", "東京物語"), ("Crème brûlée", "cremebrulee"),
    # Latin letters without a decomposition, as ASCII (anyascii); other scripts as they are
    ("Ørnen", "ornen"), ("Æon Flux", "aeonflux"), ("Œdipe roi", "oediperoi"), ("Łódź", "lodz"),
    ("Đorđe", "dorde"), ("Þór", "thor"), ("Ðe", "de"), ("İstanbul", "istanbul"), ("Brød & Bæst", "brodbaest"),
    ("Брат", "брат"), ("Ζορμπάς", "ζορμπασ"), ("x" * 500 + "Þ" * 500, "x" * 500 + "th" * 300),
])
def test_search_key(title: str | None, key: str) -> None:
    assert search_key(title) == key


@pytest.mark.parametrize(("title", "key"), [
    ("The Matrix", "matrix"), ("A Quiet Place", "quiet place"), ("An Education", "education"),
    ("Élite", "elite"), ("Spider-Man: Far From Home", "spider man far from home"), ("The", "the"),
    ("The Ørnen", "ornen"), ("Æon Flux", "aeon flux"), ("Łódź", "lodz"),
    ("Theory of Everything", "theory of everything"), ("Anastasia", "anastasia"), ("!!!", ""), (None, ""),
])
def test_sort_key(title: str | None, key: str) -> None:
    assert sort_key(title) == key


def test_search_pattern_needs_no_escape() -> None:
    assert search_pattern("100% wolf") == "%100wolf%"
    assert search_pattern("under_score") == "%underscore%"
    assert search_pattern("  !! ") is None


def _fill(core: Core) -> None:
    titled_films(core, FILMS)  # the ORM path (its title event)
    with core.sessions() as s:  # Core inserts (library.batchlink writes titles this way): the column default
        s.execute(insert(Show), [{"id": 1, "title": "Élite", "match_key": "s1"},
                                 {"id": 2, "title": "Dark", "match_key": "s2"}])
        s.execute(insert(Season), [{"id": 1, "show_id": 1, "number": 1}, {"id": 2, "show_id": 2, "number": 1}])
        s.execute(insert(Episode), [{"id": 1, "season_id": 1, "number": 1, "title": "Bienvenidos"},
                                    {"id": 2, "season_id": 2, "number": 1, "title": "Secrets"}])
        s.execute(insert(MediaFile), [{"source_id": 1, "path": f"s/{i}.mkv", "size": 1, "kind": "episode",
                                       "episode_id": i, "show_id": i, "first_seen": NOW, "last_seen": NOW}
                                      for i in (1, 2)])
        s.commit()


@pytest.fixture(scope="module", params=ENGINES)
def core(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Core]:
    """One library per database engine for the whole module."""
    with core_on(request.param, tmp_path_factory.mktemp("data"), "rh_search") as core:
        _fill(core)
        yield core


CASES = [
    ("amelie", ["Amélie"]), ("AMÉLIE", ["Amélie"]), ("Amélie", ["Amélie"]), ("méli", ["Amélie"]),
    ("elite", ["Élite"]), ("ÉLITE", ["Élite"]), ("élite", ["Élite"]),
    ("spider man", ["Spider-Man"]), ("spiderman", ["Spider-Man"]), ("SPIDER-MAN", ["Spider-Man"]),
    ("wall-e", ["WALL·E"]), ("leon", ["Léon"]), ("strasse", ["Straße"]), ("five", ["ﬁve"]),
    ("100%", ["100% Wolf"]), ("under_score", ["under_score"]), ("under%score", ["under_score"]),
    ("!!!", ["!!!"]), ("%", ["100% Wolf"]), ("_", ["under_score"]), ("nothing", []),
    ("ornen", ["Ørnen"]), ("ØRNEN", ["Ørnen"]), ("ørnen", ["Ørnen"]), ("aeon flux", ["Æon Flux"]),
    ("æon", ["Æon Flux"]), ("ÆON", ["Æon Flux"]),
]


@pytest.mark.parametrize(("q", "titles"), CASES)
def test_grid_and_lists(core: Core, q: str, titles: list[str]) -> None:
    with core.sessions() as s:
        got = [i.title for i in grid_page(s, GridFilter(q=q), 50).items]
        assert got == titles
        assert [i.title for i in queries.grid(s, q=q)] == titles


@pytest.mark.parametrize(("q", "titles"), [*CASES, ("secrets", ["Secrets"]), ("dark", ["Secrets"])])
def test_jellyfin_search(core: Core, q: str, titles: list[str]) -> None:
    names = {("movie", m): t for m, t in enumerate(FILMS, start=1)} | {
        ("show", 1): "Élite", ("show", 2): "Dark", ("episode", 1): "Bienvenidos", ("episode", 2): "Secrets"}
    kinds = {"episode"} if q in ("secrets", "dark") else {"movie", "show"}
    with core.sessions() as s:
        got = [names[(r.kind, r.id)] for r in page(s, ItemQuery(user_id=1, kinds=kinds, recursive=True, search=q))]
    assert got == titles


ORDER = ["!!!", "100% Wolf", "Æon Flux", "Amélie", "Dark", "Élite", "ﬁve", "Léon", "The Matrix", "Ørnen",
         "A Quiet Place",
         "Spider-Man", "Straße", "Theory of Everything", "under_score", "WALL·E", "Zodiac"]


def test_grid_order_and_letters(core: Core) -> None:
    with core.sessions() as s:
        got: list[str] = []
        cursor = None
        while True:  # small pages: the keyset cursor walks the sort key too
            p = grid_page(s, GridFilter(), 4, cursor)
            got += [i.title for i in p.items]
            if not (cursor := p.next_cursor):
                break
        assert got == ORDER
        assert [i.title for i in queries.grid(s)] == ORDER
        letter = {x: [i.title for i in grid_page(s, GridFilter(letter=x), 50).items] for x in "aemot#"}
    assert letter == {"a": ["Æon Flux", "Amélie"], "e": ["Élite"], "m": ["The Matrix"], "o": ["Ørnen"],
                      "t": ["Theory of Everything"], "#": ["!!!", "100% Wolf"]}


def test_jellyfin_sort_and_alphabet(core: Core) -> None:
    names = {("movie", m): t for m, t in enumerate(FILMS, start=1)} | {("show", 1): "Élite", ("show", 2): "Dark"}

    def titles(**kw: object) -> list[str]:
        with core.sessions() as s:
            q = ItemQuery(user_id=1, kinds={"movie", "show"}, recursive=True, **kw)  # type: ignore[arg-type]
            return [names[(r.kind, r.id)] for r in page(s, q)]

    assert titles() == ORDER
    assert titles(name_prefix="m") == ["The Matrix"]
    assert titles(name_prefix="e") == ["Élite"]
    assert titles(name_prefix="o") == ["Ørnen"]
    assert titles(name_before="a") == ["!!!", "100% Wolf"]


def test_migration_fills_existing_titles(tmp_path: Path) -> None:
    """Titles written before 0015 get their keys when 0015 and 0016 run."""
    from alembic import command

    with migrating(f"sqlite:///{tmp_path / 'db.sqlite'}") as (cfg, conn):
        command.upgrade(cfg, "0014")
        conn.execute(text("INSERT INTO movies (id, title, match_key, created_at, needs_review, locked)"
                          " VALUES (1, 'Amélie', 'a', '2026-01-01', 0, 0), (2, 'Léon', 'l', '2026-01-01', 0, 0)"))
        conn.execute(text("INSERT INTO shows (id, title, match_key, created_at, needs_review, locked)"
                          " VALUES (7, 'Élite', 'e', '2026-01-01', 0, 0)"))
        command.upgrade(cfg, "head")
        assert conn.execute(select(Movie.id, Movie.search_key, Movie.sort_title).order_by(Movie.id)).all() == [
            (1, "amelie", "amelie"), (2, "leon", "leon")]
        assert conn.execute(select(Show.search_key, Show.sort_title)).one() == ("elite", "elite")


def test_grid_letters(core: Core) -> None:
    """The A-Z bar's letters with titles follow the folded sort keys and the filters."""
    from reelhouse.library.letters import grid_letters

    with core.sessions() as s:
        assert grid_letters(s, GridFilter()) == set("#ADEFLMOQSTUWZ")
        assert grid_letters(s, GridFilter(letter="b")) == set("#ADEFLMOQSTUWZ")  # its own letter ignored
        assert grid_letters(s, GridFilter(q="ornen")) == {"O"}
        assert grid_letters(s, GridFilter(kind="show")) == {"D", "E"}
        assert grid_letters(s, GridFilter(q="nothing")) == set()
