"""MemoryHolds (party/cluster.py): a member's hold budget in one process, bounded
without forgetting the members that are still holding: a flood of other members'
holds (once a plain dict cleared wholesale past 10,000 entries, handing every member
a fresh budget) leaves an active member's spent budget spent."""

from __future__ import annotations

import asyncio

from reelhouse.party.cluster import HOLD_WINDOW, MemoryHolds

BUDGET = 10.0  # the party's wait timeout, seconds


async def _hold(holds: MemoryHolds, code: str, user: int, start: float, seconds: float) -> None:
    await holds.started(code, user, start)
    await holds.ended(code, user, start + seconds, BUDGET)


def test_an_active_members_budget_survives_a_flood_of_others() -> None:
    async def run() -> None:
        holds = MemoryHolds()
        await _hold(holds, "SPENT", 1, 1000.0, BUDGET)  # held the party for its whole budget
        assert not await holds.may_hold("SPENT", 1, 1001.0, BUDGET)
        for i in range(30_000):  # others' holds in many parties, all within the window
            await _hold(holds, f"P{i % 3000}", 100 + i, 1001.0 + i / 1000, 0.5)
        assert not await holds.may_hold("SPENT", 1, 1040.0, BUDGET)  # still spent
        assert await holds.may_hold("P7", 107, 1040.0, BUDGET)  # 0.5 s held of 10
        assert await holds.may_hold("SPENT", 1, 1010.0 + HOLD_WINDOW + 0.1, BUDGET)  # the window passed

    asyncio.run(run())


def test_only_members_long_gone_or_the_oldest_past_the_cap_are_forgotten() -> None:
    async def run() -> None:
        holds = MemoryHolds(max_members=3)
        await _hold(holds, "A", 1, 0.0, BUDGET)  # ends at 10
        await _hold(holds, "A", 2, 5.0, BUDGET)  # ends at 15
        await _hold(holds, "A", 3, 20.0, BUDGET)  # ends at 30
        # a fourth member past the cap: the one whose last hold ended longest ago goes
        await _hold(holds, "A", 4, 30.0, BUDGET)
        assert await holds.may_hold("A", 1, 41.0, BUDGET)  # forgotten: a fresh budget
        assert [await holds.may_hold("A", u, 41.0, BUDGET) for u in (2, 3, 4)] == [False, False, False]
        # member 2 holds again: it is now the newest, and 3 the oldest
        await _hold(holds, "A", 2, 41.0, 1.0)
        await _hold(holds, "A", 5, 42.0, 1.0)
        assert await holds.may_hold("A", 3, 43.0, BUDGET)
        assert not await holds.may_hold("A", 2, 43.0, BUDGET) and not await holds.may_hold("A", 4, 43.0, BUDGET)
        # a hold ending after the window of the others frees them all at once, cap or not
        await _hold(holds, "B", 9, 200.0, 1.0)
        assert len(holds._held) == 1

    asyncio.run(run())
