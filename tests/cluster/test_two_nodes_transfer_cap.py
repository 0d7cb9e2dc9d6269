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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster.support import PG_URL
from sqlalchemy import create_engine, event, text

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models.transfers import Transfer
from reelhouse.errors import Conflict
from reelhouse.sources.registry import SourceSpec

pytestmark = [pytest.mark.requires_postgres, pytest.mark.timeout(180),
              pytest.mark.skipif(not PG_URL, reason="set REELHOUSE_TEST_POSTGRES_URL to run the cluster test")]


@pytest.fixture
def nodes(pg_url: str, tmp_path: Path) -> Iterator[tuple[Core, Core]]:
    made: list[Core] = []
    try:
        for name in ("one", "two"):
            made.append(Core(load_settings(data_dir=tmp_path / name, database_url=pg_url)))
            made[-1].jobs.close()  # the transfers stay queued
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


def test_the_cap_holds_over_two_nodes(nodes: tuple[Core, Core], pg_url: str, tmp_path: Path) -> None:
    one, two = nodes
    media = tmp_path / "media"
    media.mkdir()
    (media / "a.mkv").write_bytes(b"x" * 100)
    sid = one.sources.create(SourceSpec(name="disk", kind="local", path=str(media))).id
    uid = one.users.add("eve", "eve-password").id
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

    def submit(name: str, core: Core) -> None:
        try:
            core.transfers.submit("download", sid, "a.mkv", local_path=f"{name}.mkv", user_id=uid, max_open=1)
            outcomes[name] = "queued"
        except Conflict:
            outcomes[name] = "refused"
        finally:
            if name == "two":
                second_done.set()

    first = threading.Thread(target=submit, args=("one", one))
    first.start()
    assert paused.wait(60), "node 1 never wrote its transfer"
    second = threading.Thread(target=submit, args=("two", two))
    second.start()
    first.join(90)
    second.join(90)
    assert outcomes == {"one": "queued", "two": "refused"}
    assert one.transfers.open_count(uid) == 1 == two.transfers.open_count(uid)
