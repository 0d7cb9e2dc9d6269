"""The hot library reads answered without FastAPI's routing (api/fast_reads.py): the
same status, headers and bytes as the FastAPI way for plain requests (an admin, a user
with source grants, continue watching), and every request that is not plain — unknown,
repeated or empty parameters, values FastAPI refuses or converts, errors of the route
body — goes the FastAPI way and gets its answer (the 422 text, a 400, a 404)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from synthetic_library import fill, ftp_source

from reelhouse.api import fast_reads
from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, User
from reelhouse.server import create_app
from tests.helpers import ADMIN, ADMIN_PASSWORD, log_in

NOW = datetime(2026, 1, 1, tzinfo=UTC)

PLAIN = [
    "/api/library/items", "/api/library/items?per_page=7", "/api/library/items?per_page=7&page=2",
    "/api/library/items?q=ilm%201&per_page=5", "/api/library/items?q=how+1", "/api/library/items?type=show",
    "/api/library/items?type=movie&year=1951&resolution=1080p&genre=Drama&source_kind=local&letter=B",
    "/api/library/items?letter=%23", "/api/library/items?source_id=1&unwatched=true",
    "/api/library/items?unwatched=0&per_page=500", "/api/library/movies?per_page=3&page=2",
    "/api/library/shows", "/api/library/shows/2", "/api/library/shows/3", "/api/library/media-files",
    "/api/library/media-files?per_page=9&source_id=2&include_missing=1", "/api/library/media-files?page=3&per_page=4",
    "/api/library/continue",
]
NOT_PLAIN = [
    "/api/library/items?per_page=0", "/api/library/items?per_page=501", "/api/library/items?per_page=07",
    "/api/library/items?page=x", "/api/library/items?page=%201", "/api/library/items?per_page=5&per_page=6",
    "/api/library/items?q=", "/api/library/items?type=film", "/api/library/items?unwatched=yes",
    "/api/library/items?letter=ab", "/api/library/items?year=1200", "/api/library/items?q=" + "x" * 201,
    "/api/library/items?cursor=nonsense", "/api/library/items?page=200&per_page=60", "/api/library/items?x=1",
    "/api/library/items?source_id=99999999999", "/api/library/items?source_id=-1",
    "/api/library/shows/0", "/api/library/shows/999", "/api/library/shows/2?x=1", "/api/library/shows/%C2%B2",
    "/api/library/media-files?cursor=bad", "/api/library/media-files?include_missing=TRUE",
    "/api/library/continue?x=1", "/api/library/movies?page=0",
]


@pytest.fixture(params=[0, 1], ids=["threads", "processes"])
def core(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Core]:
    """The library of these tests; its pages computed in the read lane's threads, or in
    a read process (``read_processes``: api/read_processes.py)."""
    core = Core(load_settings(data_dir=tmp_path / "data", read_processes=request.param))
    try:
        fill(core, movies=30, shows=4)  # its user 1 has watched some (continue watching)
        core.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
        with core.sessions() as s:
            ftp_source(s)
            s.execute(update(MediaFile).where(MediaFile.episode_id.in_([2101, 2102, 1101]))
                      .values(source_id=2))
            s.execute(update(MediaFile).where(MediaFile.movie_id == 3).values(source_id=2, missing_since=NOW))
            s.commit()
        core.users.add("kid", "kid-password", restrict_sources=True, sources=[1])
        yield core
    finally:
        core.close()


_computed_elsewhere: list[bool] = []


def _answers(core: Core, urls: list[str], fast: bool, monkeypatch: pytest.MonkeyPatch, user: str = ADMIN,
             ) -> tuple[list[tuple[int, list[tuple[str, str]], bytes]], list[bool]]:
    """Each URL's status, headers and body from a fresh app, and whether the fast way
    answered it; ``fast`` False: the fast way is switched off (every request goes
    through FastAPI)."""
    used: list[bool] = []
    real = fast_reads.answer

    async def spy(scope: Any, who: Any) -> Any:
        answer = await real(scope, who) if fast else None
        used.append(answer is not None)
        return answer

    monkeypatch.setattr(fast_reads, "answer", spy)
    out = []
    with TestClient(create_app(core)) as c:
        log_in(c, user, "kid-password" if user == "kid" else ADMIN_PASSWORD)
        c.cookies.clear()  # the bearer token only: one identity, no cookie header
        core.auth.cache_seconds = 600.0  # the token stays resolved (a loaded machine)
        c.get("/api/health")
        c.get("/api/library/continue")  # resolves the token through FastAPI once
        used.clear()
        for url in urls:
            core.auth.cache_seconds = 600.0
            app_cache = c.app.state.page_cache  # type: ignore[attr-defined]
            app_cache.seconds = 0.0  # no page served from the cache: each one computed
            r = c.get(url)
            out.append((r.status_code, sorted(r.headers.items()), r.content))
        procs = c.app.state.read_processes  # type: ignore[attr-defined]
        _computed_elsewhere.append(procs is not None and bool(procs.pids()))
    monkeypatch.setattr(fast_reads, "answer", real)
    return out, used


@pytest.mark.parametrize("user", [ADMIN, "kid"])
def test_plain_requests_get_the_fastapi_answer(core: Core, monkeypatch: pytest.MonkeyPatch, user: str) -> None:
    fastapi, _ = _answers(core, PLAIN, False, monkeypatch, user)
    fast, used = _answers(core, PLAIN, True, monkeypatch, user)
    assert len(used) == len(PLAIN) and all(used)
    assert core.settings.read_processes == 0 or _computed_elsewhere[-1], "the read process computed them"
    for url, a, b in zip(PLAIN, fastapi, fast, strict=True):
        assert a[0] == 200, (url, a)
        assert a == b, url
    if user == "kid":  # the grants apply the fast way too
        assert b'"source_id":2' not in b"".join(body for _, _, body in fast)


def _scope(core: Core, url: str) -> dict[str, Any]:
    path, _, query = url.partition("?")
    app = create_app(core)
    return {"type": "http", "method": "GET", "path": path, "query_string": query.encode(), "app": app}


def test_requests_that_are_not_plain_go_the_fastapi_way(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    with core.sessions() as s:
        admin = s.query(User).filter_by(name=ADMIN).one()
        s.expunge(admin)
    for url in NOT_PLAIN:
        scope = _scope(core, url)
        assert asyncio.run(fast_reads.answer(scope, admin)) is None, url
    fastapi, _ = _answers(core, NOT_PLAIN, False, monkeypatch)
    fast, used = _answers(core, NOT_PLAIN, True, monkeypatch)
    assert fastapi == fast and not any(used)
    statuses = {url: status for url, (status, _, _) in zip(NOT_PLAIN, fastapi, strict=True)}
    assert statuses["/api/library/items?per_page=07"] == 200  # FastAPI reads it as 7: not ours to answer
    assert statuses["/api/library/items?per_page=0"] == 422
    assert statuses["/api/library/items?cursor=nonsense"] == 400
    assert statuses["/api/library/shows/999"] == 404


def test_the_page_cache_keeps_what_the_fast_way_answered(core: Core) -> None:
    with TestClient(create_app(core)) as c:
        log_in(c)
        core.auth.cache_seconds = 600.0
        first = c.get("/api/library/shows/2")
        assert first.status_code == 200
        assert len(c.app.state.page_cache) >= 1  # type: ignore[attr-defined]
        assert c.get("/api/library/shows/2").content == first.content
        assert first.headers["x-content-type-options"] == "nosniff"  # SecurityMiddleware's headers


def test_the_fast_way_takes_the_routes_parameters_and_defaults() -> None:
    """A parameter added to a route, or a default changed, must be changed here too."""
    from fastapi.routing import APIRoute

    from reelhouse.api.routes import library, progress

    specs = {"/api/library/items": fast_reads._ITEMS, "/api/library/media-files": fast_reads._FILES,
             "/api/library/movies": fast_reads._TITLES, "/api/library/shows": fast_reads._TITLES,
             "/api/library/shows/{show_id}": fast_reads._NONE, "/api/library/continue": fast_reads._NONE}
    seen = set()
    for route in [*library.router.routes, *progress.router.routes]:
        if isinstance(route, APIRoute) and route.path in specs and "GET" in route.methods:
            parsers, defaults = specs[route.path]
            declared = {p.alias: p.field_info.default for p in route.dependant.query_params}
            assert declared == defaults and set(parsers) == set(declared), route.path
            seen.add(route.path)
    assert seen == set(specs)
    assert all(fast_reads.FAST_PATHS.match(p.replace("{show_id}", "7")) for p in specs)


def test_a_token_not_resolved_yet_is_read_in_the_lane_and_answered_the_fast_way(
        core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside the identity window (each client's first request, then one every half
    second) the page cache reads the token itself and the fast way answers, with the
    FastAPI way's bytes; a token that no longer resolves still gets FastAPI's 401."""
    used: list[bool] = []
    real = fast_reads.answer

    async def spy(scope: Any, who: Any) -> Any:
        answer = await real(scope, who)
        used.append(answer is not None)
        return answer

    with TestClient(create_app(core)) as c:
        log_in(c)
        c.cookies.clear()
        c.app.state.page_cache.seconds = 0.0  # type: ignore[attr-defined]
        core.auth.cache_seconds = 0.0  # never trusted without reading the database
        monkeypatch.setattr(fast_reads, "answer", _never)
        slow = [c.get(url) for url in PLAIN]  # every one through FastAPI
        monkeypatch.setattr(fast_reads, "answer", spy)
        fast = [c.get(url) for url in PLAIN]
        assert used == [True] * len(PLAIN)
        for url, a, b in zip(PLAIN, slow, fast, strict=True):
            assert (a.status_code, a.content) == (200, b.content), url
            assert sorted(a.headers.items()) == sorted(b.headers.items()), url
        assert c.post("/api/auth/logout").status_code == 204
        used.clear()
        gone = c.get("/api/library/items")
        assert gone.status_code == 401 and used == []


async def _never(scope: Any, who: Any) -> None:
    return None
