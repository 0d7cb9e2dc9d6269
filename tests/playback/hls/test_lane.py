"""FairLane: bounded threads of its own, a user's jobs capped below the lane's size, the
next job the oldest of the user running the fewest, cancelled and closed jobs never
run. Jobs block on events the test sets: no timing."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from reelhouse.errors import ServiceBusy
from reelhouse.playback.hls.lane import FairLane


def _until(cond: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.01)


@pytest.fixture
def lane() -> Iterator[FairLane]:
    made = FairLane(3, "test-lane")
    yield made
    made.close()


def test_one_user_never_takes_every_thread(lane: FairLane) -> None:
    gate = threading.Event()
    started: list[str] = []

    def job(name: str) -> str:
        started.append(name)
        assert gate.wait(30)
        return name

    alice = [lane.submit("alice", job, f"a{i}") for i in range(5)]
    _until(lambda: lane.stats == {"running": 2, "waiting": 3}, "alice runs two of her five")
    bob = lane.submit("bob", job, "b0")  # the third thread is his
    _until(lambda: "b0" in started, "bob's job started while alice's wait")
    assert lane.stats == {"running": 3, "waiting": 3}
    gate.set()
    assert bob.result(30) == "b0" and [f.result(30) for f in alice] == [f"a{i}" for i in range(5)]
    assert started.index("b0") == 2  # before alice's third


def test_the_user_running_fewest_goes_next(lane: FairLane) -> None:
    gates = {name: threading.Event() for name in ("a0", "a1", "x0", "a2", "c0")}
    order: list[str] = []

    def job(name: str) -> None:
        order.append(name)
        assert gates[name].wait(30)

    futures = [lane.submit("alice", job, "a0"), lane.submit("alice", job, "a1"), lane.submit("xavier", job, "x0")]
    _until(lambda: len(order) == 3, "three running")
    futures += [lane.submit("alice", job, "a2"), lane.submit("carol", job, "c0")]
    gates["x0"].set()  # a thread frees: carol (none running) before alice (two), though alice asked first
    _until(lambda: len(order) == 4, "the next one started")
    assert order[3] == "c0"
    for g in gates.values():
        g.set()
    for f in futures:
        f.result(30)


def test_a_cancelled_job_never_runs_and_close_fails_the_queued(lane: FairLane) -> None:
    gate = threading.Event()
    ran: list[int] = []

    def job(n: int) -> None:
        ran.append(n)
        assert gate.wait(30)

    running = [lane.submit("u", job, i) for i in range(2)]
    _until(lambda: len(ran) == 2, "two running")

    async def give_up() -> None:
        task = asyncio.ensure_future(lane.run("u", job, 99))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(give_up())
    queued = lane.submit("u", job, 3)
    lane.close()
    with pytest.raises(ServiceBusy):
        queued.result(30)
    with pytest.raises(ServiceBusy):
        lane.submit("u", job, 4)
    gate.set()
    for f in running:
        f.result(30)
    assert sorted(ran) == [0, 1]  # 99 was cancelled, 3 failed with the close
