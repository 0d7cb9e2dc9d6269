"""The TMDB client against a fake TMDB (a real HTTP server replaying recorded JSON):
parsing, the cache, 429 with Retry-After, 5xx, timeouts, giving up, the key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from tmdb_fake import API_KEY, FakeTmdb

from reelhouse.config import load_settings
from reelhouse.db.engine import make_engine, make_sessionmaker
from reelhouse.db.migrate import upgrade
from reelhouse.db.models import TmdbCache, utcnow
from reelhouse.errors import NotFound, SourceUnavailable
from reelhouse.library.metadata.tmdb import TmdbClient


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTmdb]:
    with FakeTmdb() as server:
        yield server


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('tmdb') / 'db.sqlite'}")
    upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make(fake: FakeTmdb, sessions: sessionmaker[Session], sleeps: list[float],
         tmp_path: Path) -> Iterator[Any]:
    clients: list[TmdbClient] = []
    with sessions() as s:
        s.query(TmdbCache).delete()
        s.commit()
    fake.faults.clear()

    def build(**settings: Any) -> TmdbClient:
        client = TmdbClient(load_settings(data_dir=tmp_path, **fake.settings(**settings)), sessions,
                            backoff=0.01, cooldown=30.0, sleep=sleeps.append)
        clients.append(client)
        return client

    yield build
    for c in clients:
        c.close()


def test_search_and_details(make: Any, fake: FakeTmdb) -> None:
    tmdb = make()
    found = tmdb.search_movie("Big Buck Bunny", 2008)
    assert [(c.tmdb_id, c.title, c.year) for c in found] == [(10378, "Big Buck Bunny", 2008)]
    movie = tmdb.movie(10378)
    assert (movie.title, movie.year, movie.genres, movie.rating, movie.imdb_id) == (
        "Big Buck Bunny", 2008, ["Animation", "Comedy", "Family"], 6.3, "tt1254207")
    assert movie.poster_path == "/i9jJzvoXET4D9pOkoEwncSdNNER.jpg"
    show = tmdb.tv(2316)
    assert (show.title, show.year, show.imdb_id) == ("The Office", 2005, "tt0386676")
    shows = tmdb.search_tv("The Office")
    assert [(c.tmdb_id, c.countries) for c in shows] == [(2316, ("US",)), (2996, ("GB",))]
    season = tmdb.season(2316, 1)
    assert season.episodes[2].title == "Diversity Day" and season.poster_path
    assert tmdb.search_movie("No Such Film Anywhere") == []
    assert len(tmdb.image("/abc.jpg", "w780")) > 1000


def test_cache_makes_repeats_free_and_hides_the_key(make: Any, fake: FakeTmdb,
                                                    sessions: sessionmaker[Session]) -> None:
    tmdb = make()
    before = fake.count()
    assert tmdb.movie(45745).title == "Sintel"
    assert tmdb.movie(45745).title == "Sintel"
    assert make().movie(45745).title == "Sintel"  # another client, same database
    assert fake.count() - before == 1 and tmdb.requests == 1
    with sessions() as s:
        keys = [row.key for row in s.query(TmdbCache)]
    assert keys and not any(API_KEY in k for k in keys)
    with sessions() as s:  # past the TTL: asked again
        s.execute(update(TmdbCache).values(fetched_at=utcnow() - timedelta(days=30)))
        s.commit()
    tmdb.movie(45745)
    assert fake.count() - before == 2
    with sessions() as s:
        s.execute(update(TmdbCache).values(fetched_at=utcnow() - timedelta(days=30)))
        s.commit()
    assert tmdb.prune() == 1 and tmdb.prune() == 0


def test_429_waits_retry_after(make: Any, fake: FakeTmdb, sleeps: list[float]) -> None:
    fake.script("/3/search/movie", [(429, {"retry-after": "2"}), (429, {"retry-after": "1"})])
    before = fake.count()
    assert make().search_movie("Sintel", 2010)[0].tmdb_id == 45745
    assert fake.count() - before == 3
    assert sleeps == [2.0, 1.0]


def test_429_retry_after_is_capped(make: Any, fake: FakeTmdb, sleeps: list[float]) -> None:
    fake.script("/3/movie/1091", [(429, {"retry-after": "86400"})])
    assert make().movie(1091).year == 1982
    assert sleeps == [60.0]


def test_500s_back_off_then_succeed(make: Any, fake: FakeTmdb, sleeps: list[float]) -> None:
    fake.script("/3/movie/10378", [(500, {}), (503, {})])
    assert make().movie(10378).tmdb_id == 10378
    assert sleeps == [0.01, 0.02]  # exponential backoff


def test_gives_up_then_stays_quiet(make: Any, fake: FakeTmdb) -> None:
    fake.script("/3/search/tv", [(502, {})] * 10)
    tmdb = make(tmdb_retries=2)
    before = fake.count()
    with pytest.raises(SourceUnavailable, match="server error 502"):
        tmdb.search_tv("Dark")
    assert fake.count() - before == 3  # the first try and two retries
    with pytest.raises(SourceUnavailable, match="not asking again"):
        tmdb.movie(10378)
    assert fake.count() - before == 3  # cooling down: no request


def test_timeouts_retry_then_give_up(make: Any, fake: FakeTmdb) -> None:
    fake.script("/3/movie/45745", [("sleep", 2.0), ("sleep", 2.0)])
    tmdb = make(tmdb_timeout=0.5, tmdb_retries=1)
    with pytest.raises(SourceUnavailable, match="timed out"):
        tmdb.movie(45745)
    # the retry must be answered within the timeout: 3 s, not 0.5 s, so a loaded 2-core CI
    # machine cannot time the quick answer out too (the first try still sleeps past it)
    fake.script("/3/movie/1091", [("sleep", 6.0)])
    assert make(tmdb_timeout=3.0, tmdb_retries=1).movie(1091).title == "The Thing"  # the retry answers


def test_unreachable_server(tmp_path: Path, sessions: sessionmaker[Session]) -> None:
    settings = load_settings(data_dir=tmp_path, tmdb_api_key="k", tmdb_base_url="http://127.0.0.1:9/3",
                             tmdb_retries=1)
    tmdb = TmdbClient(settings, sessions, backoff=0.0, sleep=lambda s: None)
    try:
        with pytest.raises(SourceUnavailable, match="connection failed"):
            tmdb.search_movie("Sintel")
        assert tmdb.requests == 2
    finally:
        tmdb.close()


def test_wrong_key_and_unknown_id(make: Any, fake: FakeTmdb) -> None:
    with pytest.raises(SourceUnavailable, match="API key"):
        make(tmdb_api_key="wrong").movie(10378)
    with pytest.raises(NotFound):
        make().movie(999999)


def test_v4_token_goes_in_the_header(make: Any, fake: FakeTmdb) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9." + "a" * 60 + ".sig"
    with pytest.raises(SourceUnavailable, match="API key"):
        make(tmdb_api_key=token).movie(10378)
    assert "api_key" not in fake.requests[-1]


def test_no_key_no_request(fake: FakeTmdb, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    tmdb = TmdbClient(load_settings(data_dir=tmp_path, tmdb_base_url=fake.base_url), sessions)
    before = fake.count()
    try:
        assert not tmdb.enabled
        with pytest.raises(SourceUnavailable, match="not configured"):
            tmdb.search_movie("Sintel")
    finally:
        tmdb.close()
    assert fake.count() == before


def test_rate_limit_spaces_requests(make: Any, fake: FakeTmdb, sleeps: list[float]) -> None:
    tmdb = make(tmdb_rate_limit=2)
    for tmdb_id in (10378, 45745, 1091):
        tmdb.movie(tmdb_id)
    assert len(sleeps) == 1 and sleeps[0] == pytest.approx(5.0, abs=1.0)  # 2 per 10 s: ~5 s to wait
