"""Leased slots in a real Redis (reelhouse/leased_slots.py): a limit counted over every
process, renewed while its holder lives, freed when the holder dies without giving
its slots back."""

from __future__ import annotations

import time

import pytest

from reelhouse.leased_slots import LeasedSlots

pytestmark = [pytest.mark.requires_redis]


def test_a_limit_over_two_processes(redis_url: str) -> None:
    # 2 s leases, renewed every 0.67 s: with 1 s, a renewing thread starved for 0.67 s on
    # a loaded machine let a lease run out while its holder lived
    a, b = LeasedSlots(redis_url, ttl=2.0), LeasedSlots(redis_url, ttl=2.0)
    try:
        one, two = a.take("k", 2), b.take("k", 2)
        assert one and two and one != two
        assert a.take("k", 2) is None and b.take("k", 2) is None  # the limit, whoever asks
        assert a.take("other", 2) is not None  # keys do not share
        time.sleep(4.0)  # two leases long: renewed by their holders' threads, still held
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
        deadline = time.monotonic() + 15  # room for a loaded machine
        while alive.take("ws:7", 1) is None:
            assert time.monotonic() < deadline, "the dead holder's slot never ran out"
            time.sleep(0.1)
        assert alive.take("ws:7", 1) is None  # taken now by the living one
    finally:
        alive.close()


# -- users' fair shares (reelhouse/leased_shares.py, issue 14) -------------------------
def _waiting_users(slots: LeasedSlots, key: str) -> list[str]:
    infos = slots._redis.hgetall(f"reelhouse:waitinfo:{key}").values()
    return sorted(v.decode().split("|", 2)[2] for v in infos)


def test_a_users_cap_holds_over_processes(redis_url: str) -> None:
    a, b = LeasedSlots(redis_url, ttl=5.0), LeasedSlots(redis_url, ttl=5.0)
    try:
        one = a.take_share("s", "alice", 2, limit=3)
        two = b.take_share("s", "alice", 2, limit=3)
        assert one[0] and one[1] and two[0] and two[1]
        assert a.take_share("s", "alice", 2, limit=3) == (None, None, "limit")  # 2 held, in 2 processes
        assert b.take_share("s", "alice", 2) == (None, None, "limit")  # an idle one too
        bob = b.take_share("s", "bob", 2, limit=3)
        assert bob[0] and bob[1]
        assert a.take_share("s", "carol", 2, limit=3) == (None, None, "full")  # 3 slots taken
        b.give_back(two[1])  # alice's grant back (her connection idles in b)
        assert b.take_share("s", "alice", 2)[2] == ""  # she may use it again
    finally:
        a.close()
        b.close()


def test_a_second_grant_waits_while_another_user_waits_elsewhere(redis_url: str) -> None:
    a, b = LeasedSlots(redis_url, ttl=5.0), LeasedSlots(redis_url, ttl=5.0)
    try:
        assert a.take_share("s", "alice", 2, limit=2)[2] == ""
        dave_slot, dave_grant, _ = a.take_share("s", "dave", 2, limit=2)
        assert dave_slot and dave_grant
        bob = b.waiter()
        assert b.take_share("s", "bob", 2, limit=2, waiter=bob, waited=0.5, want=1.0)[2] == "full"
        assert _waiting_users(a, "s") == ["bob"]  # registered
        assert b.wanted("s")
        # alice (1 held) may not use an idle connection while bob (none) waits in b:
        assert a.take_share("s", "alice", 2) == (None, None, "waits-elsewhere")
        # nor may carol (none held, but bob waits longer), nor the server's own work:
        assert a.take_share("s", "carol", 2)[2] == "waits-elsewhere"
        assert a.take_share("s", "", 2)[2] == "waits-elsewhere"
        # a waiter of a's own that waited longer than bob comes first (not elsewhere):
        assert a.take_share("s", "alice", 2, others=[("erin", 2, 60.0)])[2] == "waits"
        # one at its cap is not waited for:
        assert a.take_share("s", "carol", 2, others=[("alice", 1, 60.0)])[2] == "waits-elsewhere"
        a.give_back(dave_grant)
        a.give_back(dave_slot)
        slot, grant, why = b.take_share("s", "bob", 2, limit=2, waiter=bob, waited=1.0)
        assert why == "" and slot and grant
        assert _waiting_users(a, "s") == []  # served: no longer waiting
        assert bob not in b._waiting
        assert a.take_share("s", "carol", 2)[2] == ""  # nobody waits now
    finally:
        a.close()
        b.close()


def test_the_longest_waiting_comes_first_whatever_the_clocks(redis_url: str) -> None:
    a, b = LeasedSlots(redis_url, ttl=5.0), LeasedSlots(redis_url, ttl=5.0)
    try:
        assert a.take_share("s", "x", 0, limit=1)[2] == ""
        carol, dave = b.waiter(), a.waiter()
        assert b.take_share("s", "carol", 2, limit=1, waiter=carol, waited=5.0)[2] == "full"
        # dave is local to a but carol (b) waits longer: dave is refused for her
        assert a.take_share("s", "dave", 2, limit=1, waiter=dave, waited=1.0)[2] == "waits-elsewhere"
        assert _waiting_users(a, "s") == ["carol", "dave"]
        assert a.take_share("s", "dave", 2, waiter=dave, waited=1.1)[2] == "waits-elsewhere"
        # her own since is kept from her first registration, whatever she says later
        assert b.take_share("s", "carol", 2, waiter=carol, waited=0.0)[2] == ""
        assert a.take_share("s", "dave", 2, waiter=dave, waited=1.2)[2] == ""
    finally:
        a.close()
        b.close()


def test_a_dead_processs_grants_and_waiters_run_out(redis_url: str) -> None:
    dead, alive = LeasedSlots(redis_url, ttl=1.0), LeasedSlots(redis_url, ttl=1.0)
    try:
        assert dead.take_share("s", "alice", 1)[2] == ""
        assert dead.take_share("s", "bob", 1, limit=1)[2] == ""
        assert dead.take_share("s", "carol", 1, limit=1, waiter=dead.waiter())[2] == "full"
        dead._stop.set()  # the process dies: nothing renews, nothing gives back
        assert alive.take_share("s", "alice", 1, limit=1)[2] == "limit"
        deadline = time.monotonic() + 15  # room for a loaded machine
        while alive.take_share("s", "alice", 1, limit=1)[2]:
            assert time.monotonic() < deadline, "the dead process's grants never ran out"
            time.sleep(0.1)
        assert _waiting_users(alive, "s") == []  # her grant, bob's slot, carol's wait: gone
    finally:
        alive.close()


def test_unwait_and_give_back_tell_the_news(redis_url: str) -> None:
    a, b = LeasedSlots(redis_url, ttl=5.0), LeasedSlots(redis_url, ttl=5.0)
    heard: list[str] = []
    try:
        b.listen("s", heard.append)
        deadline = time.monotonic() + 15  # room for a loaded machine
        while not heard:  # the subscriber is up when its own news arrives
            b._redis.publish("reelhouse:slotnews:s", "hello")
            assert time.monotonic() < deadline
            time.sleep(0.05)
        _, grant, _ = a.take_share("s", "alice", 1, limit=1)
        waiter = a.waiter()
        assert a.take_share("s", "bob", 1, limit=1, waiter=waiter)[2] == "full"
        a.unwait(waiter)
        assert grant is not None
        a.give_back(grant)
        while heard.count("shares") < 2:
            assert time.monotonic() < deadline, heard
            time.sleep(0.02)
        assert _waiting_users(a, "s") == []
    finally:
        a.close()
        b.close()


def test_grants_given_back_in_the_next_grants_script(redis_url: str) -> None:
    a = LeasedSlots(redis_url, ttl=5.0)
    try:
        _, here, _ = a.take_share("s", "alice", 1)
        _, there, _ = a.take_share("t", "alice", 1)  # another key (a server resolved anew)
        assert here and there
        assert a.take_share("s", "alice", 1)[2] == "limit"
        _, again, why = a.take_share("s", "alice", 1, returns=[here, there])
        assert why == "" and again  # hers given back first, in the same script
        assert a._redis.zcard("reelhouse:shares:s") == 1 and a._redis.zcard("reelhouse:shares:t") == 0
        assert here not in a._held and there not in a._held
    finally:
        a.close()
