"""Cursor pages of the grid (library/grid.py) walk the same sequence as one big page:
also when a cursor page reads the second type only up to the first type's last title
(the ``c_hi`` bound), with movies and shows of equal titles and years side by side."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update
from synthetic_library import fill

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import Movie, Show
from reelhouse.db.search_key import sort_key
from reelhouse.library.grid import GridFilter, grid_page


def test_cursor_pages_walk_the_one_page_order(tmp_path: Path) -> None:
    core = Core(load_settings(data_dir=tmp_path / "data"))
    try:
        fill(core, movies=60, shows=8)
        with core.sessions() as s:  # shows named and dated like films: ties on (title, year)
            for show_id, movie_id, years in ((1, 5, 0), (2, 6, 0), (3, 40, -3), (4, 41, 2), (5, 59, 0),
                                             (6, 7, -1), (7, 8, -9)):
                title, year = s.query(Movie.title, Movie.year).filter(Movie.id == movie_id).one()
                s.execute(update(Show).where(Show.id == show_id)
                          .values(title=title, sort_title=sort_key(title), year=year + years))
            s.commit()
        with core.sessions() as s:
            for f in (GridFilter(), GridFilter(letter="b"), GridFilter(genre="Drama")):
                whole = [(i.type, i.id) for i in grid_page(s, f, 10_000).items]
                for size in (1, 3, 7, 11):
                    seen, cursor = [], None
                    while True:
                        page = grid_page(s, f, size, cursor)
                        seen += [(i.type, i.id) for i in page.items]
                        cursor = page.next_cursor
                        if cursor is None:
                            break
                    assert seen == whole, (f, size)
                assert len(whole) > 2
    finally:
        core.close()
