"""A grid page's ``playable`` / ``unplayable_reason`` (``/api/library/items``,
``items_answer``) come from the page's sources query for every title with a good file
(present, no ``probe_error``, on the page's sources), and from
:func:`~reelhouse.library.queries.unplayable_reasons` only for the others: the same
answers as asking it for every title, with no statement of its own on a page of
playable titles (issue 14: those two statements were half a grid page's CPU on a
100,000-file library). SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, update
from synthetic_library import NOW, fill, ftp_source

from reelhouse.api.routes.library import items_answer
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, User
from reelhouse.library import queries
from reelhouse.library.grid import GridFilter, grid_page

from helpers import ENGINES, core_on


@pytest.fixture(params=ENGINES)
def lib(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Core]:
    with core_on(request.param, tmp_path / "data", "rh_gplay") as core:
        fill(core, movies=40, shows=4)  # source 1 (local): a file a film, 20 a show
        with core.sessions() as s:
            ftp_source(s, [
                # film 3: garbled here, good on the FTP source; film 4: garbled on both
                {"path": "f/3.mkv", "kind": "movie", "movie_id": 3},
                {"path": "f/4.mkv", "kind": "movie", "movie_id": 4, "probe_error": "ftp: not a video"},
                # film 6: a good trailer (not a film's file) beside its garbled file
                {"source_id": 1, "path": "f/6-trailer.mkv", "kind": "extra", "movie_id": 6},
                # film 8: a good copy gone missing beside its garbled file
                {"path": "f/8.mkv", "kind": "movie", "movie_id": 8, "missing_since": NOW},
            ])
            s.execute(update(MediaFile).where(MediaFile.movie_id.in_([3, 4, 6, 8, 9]), MediaFile.source_id == 1,
                                              MediaFile.kind == "movie").values(probe_error="cut short"))
            # show 1: every episode garbled; show 2: one episode garbled
            s.execute(update(MediaFile).where(MediaFile.path.like("Shows/1/%")).values(probe_error="garbled"))
            s.execute(update(MediaFile).where(MediaFile.path == "Shows/2/1/1.mkv").values(probe_error="garbled"))
            s.commit()
        yield core


def _user(core: Core) -> User:
    with core.sessions() as s:
        user = s.get(User, 1)
        assert user is not None
        s.expunge(user)
        return user


def _expected(core: Core, f: GridFilter) -> dict[tuple[str, int], str | None]:
    """(type, id) -> reason (None: playable) of every title of the grid for ``f``, by
    asking unplayable_reasons for all of them (the way before)."""
    with core.sessions() as s:
        items = grid_page(s, f, 500).items
        reasons = queries.unplayable_reasons(s, items)
    return {(i.type, i.id): reasons.get((i.type, i.id)) for i in items}


def test_playable_as_unplayable_reasons_says(lib: Core) -> None:
    user = _user(lib)
    expected = _expected(lib, GridFilter())
    assert {k for k, v in expected.items() if v is not None} == {
        ("movie", 4), ("movie", 6), ("movie", 8), ("movie", 9), ("show", 1)}
    for source_id, kind, per_page in ((None, None, 7), (None, None, 500), (2, None, 500), (1, "movie", 5),
                                      (None, "show", 2)):
        f = GridFilter(kind=kind, source_id=source_id)
        want = _expected(lib, f)
        got: dict[tuple[str, int], tuple[bool, str | None]] = {}
        cursor = None
        while True:
            body = json.loads(items_answer(lib, user, None, kind, source_id, None, None, None, None, False, None,
                                           cursor, 1, per_page).body)
            got.update({(i["type"], i["id"]): (i["playable"], i["unplayable_reason"]) for i in body["items"]})
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert got == {k: (v is None, v) for k, v in want.items()}, (source_id, kind)
    # film 3 on the FTP source alone: its good file there
    assert _expected(lib, GridFilter(source_id=2))[("movie", 3)] is None


def test_page_of_playable_titles_asks_nothing_more(lib: Core) -> None:
    """No unplayable_reasons statement for a page of playable titles, and one
    statement for the sources of its films and shows together."""
    user = _user(lib)
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    reads = lib.read_engine or lib.engine  # Core.read_sessions' engine
    event.listen(reads, "before_cursor_execute", seen)
    try:
        # letter D: films 3 (its good copy on the FTP source) and 29, show 3: all playable
        body = json.loads(items_answer(lib, user, None, None, None, None, None, None, None, False, "d", None,
                                       1, 60).body)
        assert sorted((i["type"], i["id"]) for i in body["items"]) == [("movie", 3), ("movie", 29), ("show", 3)]
        assert all(i["playable"] for i in body["items"]), body
        assert not [st for st in statements if "probe_error" in st and "DISTINCT" in st.upper()], statements
        # the sources of the page's films and show: one statement
        assert len([st for st in statements if "GROUP BY" in st]) == 1, statements
        statements.clear()
        body = json.loads(items_answer(lib, user, None, "movie", None, None, None, None, None, False, None, None,
                                       1, 500).body)
        assert {i["id"]: i["unplayable_reason"] for i in body["items"] if not i["playable"]} == {
            4: "cut short", 6: "cut short", 8: "cut short", 9: "cut short"}
    finally:
        event.remove(reads, "before_cursor_execute", seen)
