"""The bounded lane of threads for the big-library reads (api/read_lane.py, issue 14)."""

from __future__ import annotations

import threading
import time

import anyio
import pytest

from reelhouse.api.read_lane import ReadLane


def test_the_lane_runs_at_most_its_threads_at_once_in_arrival_order() -> None:
    lane = ReadLane(threads=2)
    lock = threading.Lock()
    running, most, started = 0, 0, []

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
            results[i] = await lane.run(read, i)

        async with anyio.create_task_group() as tg:
            for i in range(8):
                tg.start_soon(one, i)
                await anyio.sleep(0.001)  # arrive in order
        return results

    assert anyio.run(main) == [i * 10 for i in range(8)]
    assert most == 2
    # first come, first served (two reads let in by two turns freed at once may start
    # in either order)
    assert max(abs(started.index(i) - i) for i in range(8)) <= 1, started


def test_an_error_of_the_read_is_raised_to_the_caller() -> None:
    lane = ReadLane(threads=1)

    def broken() -> None:
        raise LookupError("no such page")

    async def main() -> None:
        await lane.run(broken)

    with pytest.raises(LookupError, match="no such page"):
        anyio.run(main)
