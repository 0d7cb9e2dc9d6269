"""The big-library pages written by orjson (api/library_json.py) are byte for byte what
the ``…Public`` schemas wrote through pydantic: the show page, media-file pages, grid
tiles and continue watching, on a real library (with missing files, extras, odd
values) and on generated rows (floats, text, datetimes, None)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, update
from synthetic_library import NOW, fill_with_gaps

from reelhouse.api.library_json import grid_item, json_bytes, resume_item, show_public
from reelhouse.api.render import json_response
from reelhouse.api.schemas import GridItemPublic, MediaFilePublic, Page, ResumePublic, ShowPublic
from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import Image, MediaFile, Season, Show, WatchProgress
from reelhouse.library import queries, views
from reelhouse.library.grid import GridFilter, grid_page
from reelhouse.library.progress import ResumeItem
from reelhouse.library.queries import GridItem


def _pydantic(schema: Any, value: Any) -> bytes:
    return bytes(json_response(schema, value).body)


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    core = Core(load_settings(data_dir=tmp_path / "data"))
    fill_with_gaps(core, 30, "ftp «box» \"2\"", [
        {"path": "Shows/2/trailer é.mkv", "size": 5, "kind": "extra", "show_id": 2, "extra_type": "trailer"},
        {"path": "Shows/2/a.mkv", "size": 5, "kind": "extra", "show_id": 2, "extra_type": None},
        {"path": "Shows/2/1/1.b.mkv", "size": 2**40, "kind": "episode", "episode_id": 2101,
         "mtime": 1700000000.25, "duration": 1234.5, "bitrate": 8_000_000, "width": 1920, "height": 1080,
         "container": "matroska", "video_codec": "hevc", "audio_codec": "aac", "version": "Director's Cut",
         "part": 2, "probe_error": "odd\nfile\x01", "first_seen": NOW + timedelta(microseconds=4500),
         "last_seen": NOW + timedelta(days=3, seconds=7)},
    ])
    with core.sessions() as s:
        s.execute(insert(Image), [{"id": i, "origin": "tmdb", "ref": f"r{i}", "file": f"{i}.jpg",
                                   "content_type": "image/jpeg", "width": 1, "height": 1, "created_at": NOW}
                                  for i in (3, 7, 8)])
        s.execute(update(MediaFile).where(MediaFile.episode_id == 2103).values(duration=60))
        s.execute(update(Show).where(Show.id == 2).values(
            genres=["Drama", "Sci-Fi 😀"], overview="ö\u2028/\\", poster_image_id=7, backdrop_image_id=8,
            rating=7, match_confidence=0.123456789, tmdb_id=99, imdb_id="tt1", needs_review=True, locked=True))
        s.execute(update(Season).where(Season.id == 21).values(poster_image_id=3))
        s.execute(update(WatchProgress).values(position=61, duration=None))
        s.commit()
    yield core
    core.close()


def test_show_page_is_the_schemas_bytes(core: Core) -> None:
    with core.sessions() as s:
        for show_id in (1, 2, 3, 4):
            fast = json_bytes(show_public(views.show_detail(s, show_id)))
            assert fast == _pydantic(ShowPublic, ShowPublic.model_validate(queries.get_show(s, show_id)))
            # the restricted users' way (pydantic over the same dicts) agrees as well
            assert fast == _pydantic(ShowPublic, ShowPublic.model_validate(views.show_detail(s, show_id)))
        assert b'"genres":["Drama","Sci-Fi \xf0\x9f\x98\x80"]' in json_bytes(show_public(views.show_detail(s, 2)))


def test_media_file_pages_are_the_schemas_bytes(core: Core) -> None:
    with core.sessions() as s:
        for include_missing in (False, True):
            cursor = None
            pages = 0
            while True:
                rows, total, cursor = views.media_files_page(s, None, include_missing, 17, cursor)
                page = {"items": rows, "total": total, "page": 1, "per_page": 17, "next_cursor": cursor}
                orm = [queries.get_media_file(s, r["id"]) for r in rows]
                assert json_bytes(page) == _pydantic(Page[MediaFilePublic], {**page, "items": orm})
                pages += 1
                if cursor is None:
                    break
            assert pages > 3


def test_grid_pages_are_the_schemas_bytes(core: Core) -> None:
    with core.sessions() as s:
        for f in (GridFilter(), GridFilter(kind="show"), GridFilter(q="ilm 1")):
            result = grid_page(s, f, 7)
            page = {"items": result.items, "total": result.total, "page": 1, "per_page": 7,
                    "next_cursor": result.next_cursor}
            fast = json_bytes({**page, "items": [grid_item(i) for i in result.items]})
            assert fast == _pydantic(Page[GridItemPublic], page)


def test_continue_watching_is_the_schemas_bytes(core: Core) -> None:
    items = core.progress.continue_watching(1)
    assert items
    assert json_bytes([resume_item(i) for i in items]) == _pydantic(list[ResumePublic], items)


def test_every_schema_field_is_written(core: Core) -> None:
    """A field added to a schema must be added to the writer too (or this fails)."""
    with core.sessions() as s:
        show = show_public(views.show_detail(s, 2))
        rows, _, _ = views.media_files_page(s, None, False, 1)
    assert list(show) == [*ShowPublic.model_fields, *ShowPublic.model_computed_fields]
    assert list(show["seasons"][0]) == list(ShowPublic.model_fields["seasons"].annotation.__args__[0].model_fields)
    assert list(rows[0]) == list(MediaFilePublic.model_fields)
    assert list(grid_item(GridItem("movie", 1, "t", None))) == list(GridItemPublic.model_fields)
    assert list(resume_item(ResumeItem(1, "t", None, 1.0, None))) == list(ResumePublic.model_fields)


_text = st.text(max_size=12)
_opt_float = st.none() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False, allow_infinity=False)
_moment = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC))
_opt_int = st.none() | st.integers(-2**31, 2**31 - 1)


@settings(max_examples=300, deadline=None)
@given(st.tuples(
    st.integers(1, 2**31 - 1), st.integers(1, 2**31 - 1), _text, st.sampled_from(["ftp", "local"]),
    st.text(min_size=1, max_size=30), st.integers(0, 2**62), _opt_float, _text, st.none() | _text, _opt_float,
    st.none() | _text, st.none() | _text, _opt_int, _opt_int, _opt_int, st.none() | _text, st.none() | _moment,
    _opt_int, _opt_int, _opt_int, st.none() | _text, st.none() | _text, _opt_int, _moment, _moment))
def test_generated_file_rows(values: tuple[Any, ...]) -> None:
    """Any row of the files' columns: the writer's dict gives pydantic's bytes for the
    row as the schema reads it (a dict of the columns by name, the way of before)."""
    as_columns = dict(zip([k for k, _ in views.FILE_COLUMNS], values, strict=True))
    fast = json_bytes(views._file(values))
    assert fast == _pydantic(MediaFilePublic, as_columns)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 2**31), _text, st.none() | _text,
       st.floats(min_value=0, max_value=1e7, allow_nan=False) | st.integers(0, 10**7),
       st.none() | st.floats(min_value=1e-3, max_value=1e7) | st.integers(1, 10**7))
def test_generated_resume_items(file_id: int, title: str, subtitle: str | None, position: float,
                                duration: float | None) -> None:
    items = [ResumeItem(file_id, title, subtitle, position, duration)]
    assert json_bytes([resume_item(i) for i in items]) == _pydantic(list[ResumePublic], items)
