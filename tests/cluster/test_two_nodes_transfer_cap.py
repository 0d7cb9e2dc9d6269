"""The per-user cap of open transfers (``transfer_max_open_per_user``) over two app
instances on one PostgreSQL (issue 14, "Two nodes": transfers work whichever node a
request lands on). Each node guarded its count with a lock of its own, so two nodes
could each admit up to the cap: node 1 counted, and before it committed, node 2
counted the same and queued one too.

Forced, not timed: node 1's transaction stops right after it wrote its transfer (an
``after_flush`` hook) until node 2's submit has ended or waits for a lock in
PostgreSQL (``pg_stat_activity``), whichever comes first."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster.support import PG_URL
from sqlalchemy import create_engine, event, select, text

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import Movie
from reelhouse.db.models.transfers import Transfer
from reelhouse.errors import Conflict
from reelhouse.sources.registry import SourceSpec

from helpers import place

FILMS = ["Film (2020)/Film (2020).mp4", "Other Film (2021)/Other Film (2021).mp4"]

pytestmark = [pytest.mark.requires_postgres, pytest.mark.timeout(180),
              pytest.mark.skipif(not PG_URL, reason="set REELHOUSE_TEST_POSTGRES_URL to run the cluster test")]


@pytest.fixture
def nodes(pg_url: str, tmp_path: Path) -> Iterator[tuple[Core, Core]]:
    made: list[Core] = []
    try:
        for name in ("one", "two"):
            made.append(Core(load_settings(data_dir=tmp_path / name, database_url=pg_url)))
        yield made[0], made[1]
    finally:
        for core in made:
            core.close()


def _lock_waits(pg_url: str) -> int:
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")) or 0)
    finally:
        engine.dispose()


def _race(one: Core, pg_url: str, first: Callable[[], object], second: Callable[[], object]) -> dict[str, str]:
    """Run ``first`` on node 1, stopped right after it wrote its transfer until
    ``second`` (on node 2) has ended or waits for a lock; what each did."""
    second_done = threading.Event()
    paused = threading.Event()

    def pause(session: Any, _context: Any) -> None:
        if paused.is_set() or not any(isinstance(o, Transfer) for o in session.new):
            return
        paused.set()
        deadline = time.monotonic() + 60
        while not second_done.is_set() and not _lock_waits(pg_url):
            assert time.monotonic() < deadline, "node 2's submit neither ended nor waited for a lock"
            second_done.wait(0.05)

    event.listen(one.sessions, "after_flush", pause)
    outcomes: dict[str, str] = {}

    def run(name: str, work: Callable[[], object]) -> None:
        try:
            work()
            outcomes[name] = "queued"
        except Conflict:
            outcomes[name] = "refused"
        finally:
            if name == "two":
                second_done.set()

    threads = [threading.Thread(target=run, args=("one", first))]
    threads[0].start()
    try:
        assert paused.wait(60), "node 1 never wrote its transfer"
        threads.append(threading.Thread(target=run, args=("two", second)))
        threads[1].start()
    finally:
        for t in threads:
            t.join(90)
        event.remove(one.sessions, "after_flush", pause)
    return outcomes


def _local_films(core: Core, tmp_path: Path, film: Path) -> tuple[int, list[int]]:
    """A local source holding two copies of ``film`` (two films), scanned: (source id,
    the movies' ids)."""
    for rel in FILMS:
        place(film, tmp_path / "media", rel)
    sid = core.sources.create(SourceSpec(name="disk", kind="local", path=str(tmp_path / "media"))).id
    assert not core.jobs.run_scan_now(sid).errors
    with core.sessions() as s:
        movies = list(s.scalars(select(Movie.id).order_by(Movie.id)))
    assert len(movies) == 2
    return sid, movies


def test_the_cap_holds_over_two_nodes(nodes: tuple[Core, Core], pg_url: str, tmp_path: Path,
                                      sample_mp4: Path) -> None:
    one, two = nodes
    sid, _ = _local_films(one, tmp_path, sample_mp4)
    for core in nodes:
        core.jobs.close()  # the transfers stay queued
    uid = one.users.add("eve", "eve-password").id
    rel = FILMS[0]
    outcomes = _race(one, pg_url,
                     lambda: one.transfers.submit("download", sid, rel, local_path="one.mp4", user_id=uid,
                                                  max_open=1),
                     lambda: two.transfers.submit("download", sid, rel, local_path="two.mp4", user_id=uid,
                                                  max_open=1))
    assert outcomes == {"one": "queued", "two": "refused"}
    assert one.transfers.open_count(uid) == 1 == two.transfers.open_count(uid)


def test_keeping_offline_counts_against_the_cap_over_two_nodes(
        nodes: tuple[Core, Core], pg_url: str, tmp_path: Path, sample_mp4: Path) -> None:
    """"Keep offline" queues downloads that count against the same cap: the user keeps
    one film offline through node 1 and another through node 2 at once; one is
    refused (before, each node counted, then queued without the locked count: both
    passed, 2 open with a cap of 1)."""
    one, two = nodes
    _, movies = _local_films(one, tmp_path, sample_mp4)
    for core in nodes:
        core.jobs.close()
    uid = one.users.add("eve", "eve-password").id
    outcomes = _race(one, pg_url,
                     lambda: one.offline.keep(f"movie:{movies[0]}", uid, max_open=1),
                     lambda: two.offline.keep(f"movie:{movies[1]}", uid, max_open=1))
    assert outcomes == {"one": "queued", "two": "refused"}
    assert one.transfers.open_count(uid) == 1
