"""The bounded lane of threads for the big-library reads (api/read_lane.py, issue 14)."""

from __future__ import annotations

import contextvars
import threading
import time
from typing import Any

import anyio
import pytest

from reelhouse.api.read_lane import ReadLane


class _Recorded:
    """The lane's limiter, recording the order in which reads are let in and how many
    hold a turn at once, on the event loop: a worker thread's start, which a loaded
    machine can delay past another read's whole run, says nothing of the lane's order."""

    def __init__(self, limiter: anyio.CapacityLimiter) -> None:
        self.limiter = limiter
        self.admitted: list[int] = []
        self.holding = self.most = 0

    async def __aenter__(self) -> None:
        await self.limiter.__aenter__()
        self.holding += 1
        self.most = max(self.most, self.holding)
        self.admitted.append(_arrival.get())

    async def __aexit__(self, *exc: Any) -> None:
        self.holding -= 1
        await self.limiter.__aexit__(*exc)


#: The read a task asks for (set in its own task, read where the lane lets it in).
_arrival: contextvars.ContextVar[int] = contextvars.ContextVar("arrival")


def test_the_lane_runs_at_most_its_threads_at_once_in_arrival_order() -> None:
    lane = ReadLane(threads=2)
    lock = threading.Lock()
    running, most, started = 0, 0, []
    recorded: list[_Recorded] = []

    def read(i: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            started.append(i)
        time.sleep(0.02)
        with lock:
            running -= 1
        return i * 10

    async def main() -> list[int]:
        results: list[int] = [0] * 8

        async def one(i: int) -> None:
            _arrival.set(i)
            results[i] = await lane.run(read, i)

        await lane.run(lambda: None)  # the lane makes its limiter in this loop
        assert lane._limiter is not None
        recorded.append(_Recorded(lane._limiter))
        lane._limiter = recorded[0]  # type: ignore[assignment]
        async with anyio.create_task_group() as tg:
            for i in range(8):
                tg.start_soon(one, i)
                await anyio.sleep(0.001)  # arrive in order
        return results

    assert anyio.run(main) == [i * 10 for i in range(8)]
    assert recorded[0].most == 2 and 1 <= most <= 2
    # first come, first served (two reads let in by two turns freed at once may be let
    # in in either order)
    admitted = recorded[0].admitted
    assert sorted(admitted) == list(range(8))
    assert max(abs(admitted.index(i) - i) for i in range(8)) <= 1, admitted


def test_an_error_of_the_read_is_raised_to_the_caller() -> None:
    lane = ReadLane(threads=1)

    def broken() -> None:
        raise LookupError("no such page")

    async def main() -> None:
        await lane.run(broken)

    with pytest.raises(LookupError, match="no such page"):
        anyio.run(main)
