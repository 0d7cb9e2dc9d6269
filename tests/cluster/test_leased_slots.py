"""Leased slots in a real Redis (reelhouse/leased_slots.py): a limit counted over every
process, renewed while its holder lives, freed when the holder dies without giving
its slots back."""

from __future__ import annotations

import time

import pytest

from reelhouse.leased_slots import LeasedSlots

pytestmark = [pytest.mark.requires_redis]


def test_a_limit_over_two_processes(redis_url: str) -> None:
    a, b = LeasedSlots(redis_url, ttl=1.0), LeasedSlots(redis_url, ttl=1.0)
    try:
        one, two = a.take("k", 2), b.take("k", 2)
        assert one and two and one != two
        assert a.take("k", 2) is None and b.take("k", 2) is None  # the limit, whoever asks
        assert a.take("other", 2) is not None  # keys do not share
        time.sleep(2.0)  # two leases long: renewed by their holders' threads, still held
        assert b.take("k", 2) is None
        b.give_back(two)
        b.give_back(two)  # once only
        three = a.take("k", 2)
        assert three is not None and a.take("k", 2) is None
    finally:
        a.close()
        b.close()


def test_a_dead_holders_slots_run_out(redis_url: str) -> None:
    dead, alive = LeasedSlots(redis_url, ttl=1.0), LeasedSlots(redis_url, ttl=1.0)
    try:
        assert dead.take("ws:7", 1) is not None
        dead._stop.set()  # the process dies: nothing renews, nothing gives back
        assert alive.take("ws:7", 1) is None
        deadline = time.monotonic() + 5
        while alive.take("ws:7", 1) is None:
            assert time.monotonic() < deadline, "the dead holder's slot never ran out"
            time.sleep(0.1)
        assert alive.take("ws:7", 1) is None  # taken now by the living one
    finally:
        alive.close()
