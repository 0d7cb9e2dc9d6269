"""The grid's source kinds, source ids and file counts (``_fill_sources`` of
library/grid.py) are right for pages of every size, on SQLite and PostgreSQL (when
``REELHOUSE_TEST_POSTGRES_URL`` is set), and are read with one statement per type
whatever the page's length: the page's ids are one bound value (a JSON array on SQLite,
an ``int[]`` on PostgreSQL), not an expanding ``IN`` whose SQL differed with each
number of ids (issue 14: rendered again for each page, and prepared again by the
database for each length)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, update
from synthetic_library import NOW, fill, ftp_source

from reelhouse.core import Core
from reelhouse.db.models import Episode, MediaFile, Movie, Season, SourceRow
from reelhouse.library.grid import GridFilter, grid_page

from helpers import ENGINES, core_on


@pytest.fixture(params=ENGINES)
def lib(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Core]:
    with core_on(request.param, tmp_path / "data", "rh_gsrc") as core:
        fill(core, movies=70, shows=6)  # source 1 (local): one file a film, 20 a show
        with core.sessions() as s:
            # films 1-20: a second copy on the FTP source; every third of them a third
            # copy there; film 5 a trailer (not counted); film 7's copy gone missing
            extra = [{"path": f"f/{i}.mkv", "kind": "movie", "movie_id": i} for i in range(1, 21)]
            extra += [{"path": f"f/{i}b.mkv", "kind": "movie", "movie_id": i} for i in range(3, 21, 3)]
            extra += [{"path": "f/5-trailer.mkv", "kind": "extra", "movie_id": 5}]
            # show 2: one episode also on the FTP source
            extra += [{"path": "s/2.mkv", "kind": "episode", "episode_id": 2101}]
            ftp_source(s, extra)
            s.execute(update(MediaFile).where(MediaFile.path == "f/7.mkv").values(missing_since=NOW))
            s.commit()
        yield core


def _expected(core: Core) -> dict[tuple[str, int], tuple[int, list[int], list[str]]]:
    """(type, id) -> (file count, sorted source ids, source kinds) computed file by file."""
    out: dict[tuple[str, int], tuple[int, list[int], list[str]]] = {}
    with core.sessions() as s:
        kinds = dict(s.query(SourceRow.id, SourceRow.kind).all())
        rows: list[Any] = s.query(MediaFile.movie_id, MediaFile.source_id).filter(
            MediaFile.movie_id.is_not(None), MediaFile.kind != "extra", MediaFile.missing_since.is_(None)).all()
        owners = [(("movie", m), src) for m, src in rows]
        rows = (s.query(Season.show_id, MediaFile.source_id).join(Episode, Episode.season_id == Season.id)
                .join(MediaFile, MediaFile.episode_id == Episode.id)
                .filter(MediaFile.missing_since.is_(None)).all())
        owners += [(("show", sh), src) for sh, src in rows]
        movies = {m for (m,) in s.query(Movie.id).all()}
    for key, src in owners:
        count, ids, _ = out.get(key, (0, [], []))
        out[key] = (count + 1, sorted(set(ids) | {src}), [])
    assert {m for (t, m) in out if t == "movie"} == movies
    return {k: (n, ids, [kinds[i] for i in ids]) for k, (n, ids, _) in out.items()}


def test_sources_of_every_page_size(lib: Core) -> None:
    expected = _expected(lib)
    assert expected[("movie", 3)][:2] == (3, [1, 2]) and expected[("movie", 7)][:2] == (1, [1])
    assert expected[("show", 2)][:2] == (21, [1, 2])
    statements: set[str] = set()

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "count(*)" in statement and "GROUP BY" in statement:
            statements.add(statement)

    event.listen(lib.engine, "before_cursor_execute", seen)
    try:
        with lib.sessions() as s:
            for f in (GridFilter(), GridFilter(kind="movie"), GridFilter(q="ilm")):
                for size in (1, 2, 7, 13, 60):
                    cursor, walked = None, 0
                    while True:
                        page = grid_page(s, f, size, cursor)
                        for item in page.items:
                            count, ids, kinds = expected[(item.type, item.id)]
                            assert (item.file_count, sorted(item.source_ids)) == (count, ids), (f, size, item)
                            assert sorted(item.source_kinds) == sorted(set(kinds)), (f, size, item)
                            assert [i for i in item.source_ids if i in ids] == item.source_ids
                        walked += len(page.items)
                        cursor = page.next_cursor
                        if cursor is None:
                            break
                    assert walked == (76 if f.kind is None and f.q is None else 70), (f, size)
    finally:
        event.remove(lib.engine, "before_cursor_execute", seen)
    # pages of 1 to 60 ids, films and shows: one statement a type (and filter), not one a length
    assert 2 <= len(statements) <= 3, sorted(statements)
