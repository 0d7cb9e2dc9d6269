"""The fast read paths (library/views.py, issue 14) answer exactly what the ORM paths
answered: the same ``ShowPublic`` / ``MediaFilePublic`` values for a show with missing
files and extras, media-file pages, and title pages cut in SQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from synthetic_library import fill_with_gaps

from reelhouse.api.schemas import MediaFilePublic, MoviePublic, ShowPublic
from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie, Show
from reelhouse.library import queries, views


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    core = Core(load_settings(data_dir=tmp_path / "data"))
    fill_with_gaps(core, 40, "ftp box", [
        {"path": "Shows/2/trailer.mkv", "size": 5, "kind": "extra", "show_id": 2, "extra_type": "trailer"},
        {"path": "Films/3-extra.mkv", "size": 5, "kind": "extra", "movie_id": 3, "extra_type": "featurette"},
        {"path": "Films/3.2160p.mkv", "size": 7, "kind": "movie", "movie_id": 3, "version": "2160p",
         "height": 2160, "duration": 5400.5},
        {"path": "Shows/2/1/1.b.mkv", "size": 5, "kind": "episode", "episode_id": 2101},
    ])
    with core.sessions() as s:
        s.execute(update(Show).where(Show.id == 2).values(genres=["Drama"], overview="ö", poster_image_id=None))
        s.commit()
    yield core
    core.close()


def test_show_detail_is_the_orm_answer(core: Core) -> None:
    with core.sessions() as s:
        for show_id in (1, 2, 3, 4):
            fast = ShowPublic.model_validate(views.show_detail(s, show_id))
            slow = ShowPublic.model_validate(queries.get_show(s, show_id))
            assert fast.model_dump(mode="json") == slow.model_dump(mode="json")
        two = ShowPublic.model_validate(views.show_detail(s, 2))
        assert [e.source_name for e in two.extras] == ["ftp box"]
        assert sum(len(e.files) for season in two.seasons for e in season.episodes) == 20  # one gone, one added
        three = ShowPublic.model_validate(views.show_detail(s, 3))
        assert [season.number for season in three.seasons] == [1]


def test_media_file_pages_are_the_orm_rows(core: Core) -> None:
    with core.sessions() as s:
        for include_missing in (False, True):
            seen: list[int] = []
            cursor = None
            while True:
                rows, total, cursor = views.media_files_page(s, None, include_missing, 17, cursor)
                for row in rows:
                    fast = MediaFilePublic.model_validate(row)
                    slow = MediaFilePublic.model_validate(queries.get_media_file(s, row["id"]))
                    assert fast == slow
                seen += [r["id"] for r in rows]
                if cursor is None:
                    break
            everything = s.scalars(select(MediaFile.id)).all()
            assert total == len(seen) == len(set(seen))
            assert len(seen) == (len(everything) if include_missing else
                                 len([i for i in everything if queries.get_media_file(s, i).missing_since is None]))


@pytest.mark.parametrize("allowed", [None, {2}])
def test_title_pages_cut_in_sql_are_the_old_lists(core: Core, allowed: set[int] | None) -> None:
    from reelhouse.api.visibility import visible_movie, visible_show

    with core.sessions() as s:
        movies = [m for m in (visible_movie(MoviePublic.model_validate(m), allowed)
                              for m in s.scalars(select(Movie).order_by(func.lower(Movie.title),
                                                                        func.coalesce(Movie.year, 0), Movie.id)))
                  if m is not None and m.files]
        shows = [x for x in (visible_show(ShowPublic.model_validate(x), allowed)
                             for x in s.scalars(select(Show).order_by(func.lower(Show.title),
                                                                      func.coalesce(Show.year, 0), Show.id)))
                 if x is not None and x.seasons]
        for kind, expected in (("movie", [m.id for m in movies]), ("show", [x.id for x in shows])):
            got: list[int] = []
            for page in range(4):
                ids, total = views.title_page(s, kind, allowed, page * 13, 13)
                got += ids
                assert total == len(expected)
            assert got == expected
        assert [m.id for m in queries.movies_by_ids(s, [3, 1])] == [3, 1]


@pytest.mark.parametrize("q", ["ilm 1", "how", "ilm", "nothing like this"])
def test_search_totals_and_pages(core: Core, q: str) -> None:
    """A title search's first page reads up to SEARCH_WINDOW matches and counts them
    itself; its total and its cursor walk agree with the titles."""
    from reelhouse.library.grid import GridFilter, grid_page

    with core.sessions() as s:
        expected = sorted(
            [("movie", m.id) for m in s.scalars(select(Movie)) if q in m.title.lower()
             and any(f.missing_since is None and f.kind != "extra" for f in m.files)]
            + [("show", x.id) for x in s.scalars(select(Show)) if q in x.title.lower()
               and ShowPublic.model_validate(x).seasons])
        seen: list[tuple[str, int]] = []
        cursor = None
        while True:
            page = grid_page(s, GridFilter(q=q), 7, cursor)
            assert page.total == len(expected)
            seen += [(i.type, i.id) for i in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert sorted(seen) == expected
