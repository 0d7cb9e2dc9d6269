"""The grid filtered by a source (``?source=``) or by a user's grants reads each
title's own file index, never every file of the source per title: 24-26 s for a page
of 20,000 films on SQLite that way, 0.02 s now (plans read as test_query_plans.py)."""

from __future__ import annotations

from pathlib import Path

from library.test_query_plans import plans
from synthetic_library import fill

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.library.grid import GridFilter, grid_page


def test_source_filters_do_not_walk_the_source_index(tmp_path: Path) -> None:
    core = Core(load_settings(data_dir=tmp_path / "d"))
    try:
        fill(core, movies=60, shows=2)
        for f in (GridFilter(source_id=1), GridFilter(source_ids=frozenset({1})),
                  GridFilter(source_ids=frozenset({1}), kind="show")):
            def run(f: GridFilter = f) -> object:
                with core.sessions() as s:
                    return grid_page(s, f, 20)
            seen = plans(core.engine, run)
            assert seen
            for sql, plan in seen:
                assert "ix_media_files_source_id" not in plan, (f, sql, plan)
        with core.sessions() as s:
            assert grid_page(s, GridFilter(source_ids=frozenset({1}), kind="movie"), 100).total == 60
            assert grid_page(s, GridFilter(source_ids=frozenset({2})), 100).total == 0
            assert grid_page(s, GridFilter(source_id=2), 100).total == 0
    finally:
        core.close()
