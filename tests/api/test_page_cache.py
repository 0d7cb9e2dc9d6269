"""The library pages' response cache (api/page_cache.py, issue 14): what it serves,
to whom, and that every library write, logout and grant change takes effect at once."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from reelhouse.api.page_cache import PageCache, touches_library
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie, SourceRow
from reelhouse.server import create_app
from tests.helpers import log_in


def _film(core: Core, source: str, title: str) -> int:
    with core.sessions() as s:
        src = s.query(SourceRow).filter_by(name=source).one_or_none()
        if src is None:
            src = SourceRow(name=source, kind="local", path=f"/srv/{source}")
            s.add(src)
            s.flush()
        movie = Movie(title=title, year=2000, match_key=title.lower())
        s.add(movie)
        s.flush()
        s.add(MediaFile(source_id=src.id, path=f"{title}.mp4", size=1, kind="movie", movie_id=movie.id))
        s.commit()
        return src.id


def _titles(c: TestClient, path: str = "/api/library/items") -> list[str]:
    r = c.get(path)
    assert r.status_code == 200, r.text
    return [i["title"] for i in r.json()["items"]]


def _cache(app: FastAPI) -> PageCache:
    cache: PageCache = app.state.page_cache
    return cache


def test_which_statements_touch_the_library() -> None:
    assert not touches_library("SELECT * FROM movies")
    assert not touches_library("  pragma foreign_keys=ON")
    assert not touches_library('UPDATE auth_sessions SET last_seen=? WHERE id=?')
    assert not touches_library("INSERT INTO watch_progress (user_id) VALUES (?)")
    assert not touches_library("WITH t AS (SELECT 1) SELECT * FROM t")
    assert touches_library('INSERT INTO "media_files" (path) VALUES (?)')
    assert touches_library("INSERT OR IGNORE INTO movies (title) VALUES (?)")
    assert touches_library("update shows set title=?")
    assert touches_library("DELETE FROM user_sources WHERE user_id=?")
    assert touches_library("WITH x AS (SELECT 1) UPDATE media_files SET size=0")
    assert touches_library("ALTER TABLE movies ADD COLUMN x INTEGER")  # unknown: yes


def test_a_page_is_served_again_until_the_library_changes(core: Core) -> None:
    _film(core, "disk", "Alpha")
    app = create_app(core)
    with TestClient(app) as c:
        log_in(c)
        assert _titles(c) == ["Alpha"]
        assert len(_cache(app)) == 1
        # served from the cache: the route is not reached (a broken core would show)
        version = _cache(app).version
        assert _titles(c) == ["Alpha"] and _cache(app).version == version
        _film(core, "disk", "Beta")  # a library write through the engine: at once
        assert _cache(app).version > version and len(_cache(app)) == 0
        assert _titles(c) == ["Alpha", "Beta"]
        with core.sessions() as s:  # a rename (an UPDATE) too
            s.query(Movie).filter_by(title="Beta").update({"title": "Gamma"})
            s.commit()
        assert _titles(c) == ["Alpha", "Gamma"]
        # progress-dependent answers are never kept
        c.get("/api/library/items?unwatched=true")
        c.get("/api/library/continue")
        assert all("unwatched" not in k and "continue" not in k for k in _cache(app)._entries)


def test_the_cache_is_skipped_after_expiry_and_for_errors(core: Core) -> None:
    _film(core, "disk", "Alpha")
    app = create_app(core)
    _cache(app).seconds = 0.0
    with TestClient(app) as c:
        log_in(c)
        assert c.get("/api/library/shows/999999").status_code == 404
        assert _titles(c) == ["Alpha"]
        with core.engine.begin() as conn:  # a write the engine does not see as one (raw SQL, other process)
            conn.exec_driver_sql("SELECT 1")
        assert _titles(c) == ["Alpha"]
        assert all("999999" not in k for k in _cache(app)._entries)


def test_logout_is_refused_at_once_not_answered_from_the_cache(core: Core) -> None:
    _film(core, "disk", "Alpha")
    app = create_app(core)
    with TestClient(app) as c:
        log_in(c)
        assert _titles(c) == ["Alpha"] and len(_cache(app)) == 1
        assert c.post("/api/auth/logout").status_code in (200, 204)
        assert c.get("/api/library/items").status_code == 401
        del c.headers["authorization"]
        c.cookies.clear()
        assert c.get("/api/library/items").status_code == 401


def test_a_user_with_grants_never_reads_the_cache_and_grant_changes_apply_at_once(core: Core) -> None:
    kids = _film(core, "kids", "Film for kids")
    _film(core, "grown-ups", "Film for grown-ups")
    app = create_app(core)
    with TestClient(app) as admin, TestClient(app) as kid:
        log_in(admin)
        admin.headers["origin"] = "http://testserver"
        r = admin.post("/api/users", json={"name": "kid", "password": "kid-password"})
        assert r.status_code == 201, r.text
        uid = r.json()["id"]
        log_in(kid, "kid", "kid-password")
        everything = ["Film for grown-ups", "Film for kids"]
        for path in ("/api/library/items", "/api/library/movies", "/api/library/media-files"):
            admin.get(path)  # the admin's answers (all sources) are in the cache
        assert _titles(kid) == everything  # the kid sees all sources: the cache's answer is right
        r = admin.patch(f"/api/users/{uid}", json={"restrict_sources": True, "sources": [kids]})
        assert r.status_code == 200, r.text
        assert _titles(kid) == ["Film for kids"]  # at once, although the admin's page is cached
        assert _titles(kid, "/api/library/movies") == ["Film for kids"]
        paths = [f["path"] for f in kid.get("/api/library/media-files").json()["items"]]
        assert paths == ["Film for kids.mp4"]
        entries = dict(_cache(app)._entries)
        _titles(kid)
        assert dict(_cache(app)._entries).keys() == entries.keys()  # nothing kept for the kid
        assert _titles(admin) == everything
        r = admin.patch(f"/api/users/{uid}", json={"restrict_sources": False})
        assert _titles(kid) == everything


def test_a_scan_in_another_process_is_seen_within_the_window(core: Core) -> None:
    """A write the engine does not see (another process) is seen once the entry expires."""
    import time

    _film(core, "disk", "Alpha")
    app = create_app(core)
    _cache(app).seconds = 60.0  # long enough that a loaded machine's slow write stays inside
    with TestClient(app) as c:
        log_in(c)
        assert _titles(c) == ["Alpha"]
        other = Core(core.settings)  # another process's engine: this app's cache does not watch it
        try:
            _film(other, "disk", "Beta")
        finally:
            other.close()
        assert _titles(c) == ["Alpha"]  # stale within the window (documented bound)
        _cache(app).seconds = 0.3  # an entry's age is compared at read time: after the sleep it is past the window
        time.sleep(0.35)
        assert _titles(c) == ["Alpha", "Beta"]
