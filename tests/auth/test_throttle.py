"""Login throttling: exponential backoff per account and per address (fake clock), and
counts shared by the nodes of a cluster through a real redis-server."""

from __future__ import annotations

import pytest

from reelhouse.auth.throttle import LoginThrottle
from reelhouse.errors import TooManyRequests

from helpers import free_port, redis_server


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_backoff_doubles_and_caps() -> None:
    clock = Clock()
    t = LoginThrottle(free=3, max_wait=60, clock=clock)
    for _ in range(3):
        t.check("bob", "10.0.0.1")
        t.failed("bob", "10.0.0.1")
    waits = []
    for _ in range(9):
        with pytest.raises(TooManyRequests) as err:
            t.check("bob", "10.0.0.1")
        waits.append(err.value.retry_after)
        clock.now += err.value.retry_after
        t.check("bob", "10.0.0.1")
        t.failed("bob", "10.0.0.1")
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_per_address_and_per_account() -> None:
    clock = Clock()
    t = LoginThrottle(free=2, clock=clock)
    for name in ("a", "b"):  # one address guessing at two accounts
        t.failed(name, "10.0.0.9")
    with pytest.raises(TooManyRequests):
        t.check("c", "10.0.0.9")  # a third account from the same address waits too
    t.check("c", "10.0.0.10")  # another address is free
    for addr in ("1.1.1.1", "2.2.2.2"):  # many addresses guessing one account
        t.failed("victim", addr)
    with pytest.raises(TooManyRequests):
        t.check("victim", "3.3.3.3")
    t.succeeded("victim")
    t.check("victim", "3.3.3.3")


def test_counts_fade_and_memory_is_bounded() -> None:
    clock = Clock()
    t = LoginThrottle(free=1, max_wait=10, forget_after=100, clock=clock, max_keys=50)
    t.failed("x", "1.2.3.4")
    with pytest.raises(TooManyRequests):
        t.check("x", "1.2.3.4")
    clock.now += 101
    t.check("x", "1.2.3.4")
    for i in range(500):
        t.failed(f"user{i}", f"10.0.{i // 250}.{i % 250}")
    assert len(t._counts) <= 50


@pytest.mark.requires_redis
def test_nodes_sharing_redis_share_the_counts() -> None:
    """Two nodes (two throttles on one Redis): failures on one make the other wait,
    so a guesser gets no more attempts by spreading them over nodes; a success on
    either clears the account for both."""
    with redis_server() as url:
        node_a = LoginThrottle(free=2, max_wait=60, redis_url=url)
        node_b = LoginThrottle(free=2, max_wait=60, redis_url=url)
        try:
            node_a.failed("bob", "10.0.0.1")
            node_b.failed("bob", "10.0.0.2")
            with pytest.raises(TooManyRequests) as err:
                node_a.check("bob", "10.0.0.3")  # the account waits on both nodes
            assert 1 <= err.value.retry_after <= 2
            with pytest.raises(TooManyRequests):
                node_b.check("bob", "10.0.0.4")
            node_b.check("alice", "10.0.0.5")
            node_a.succeeded("bob")
            node_b.check("bob", "10.0.0.6")
        finally:
            node_a.close()
            node_b.close()


def test_redis_away_falls_back_to_the_process_counts() -> None:
    """An unreachable Redis never refuses every login: the process counts by itself."""
    t = LoginThrottle(free=1, max_wait=60, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    try:
        t.check("bob", "10.0.0.1")
        t.failed("bob", "10.0.0.1")
        with pytest.raises(TooManyRequests):
            t.check("bob", "10.0.0.1")
    finally:
        t.close()


def test_pairs_of_address_and_account_with_looser_shared_keys() -> None:
    """Logins (``shared_free``): one account guessed from one address waits after
    ``free`` misses, while the other accounts at that address (a household, a proxy that
    forwards no client address) still log in; the address as a whole, and the account
    over every address, wait only after ``shared_free`` misses."""
    clock = Clock()
    t = LoginThrottle(free=2, max_wait=60, clock=clock, shared_free=8)
    for _ in range(2):
        t.check("Alice", "10.0.0.1")
        t.failed("Alice", "10.0.0.1")
    with pytest.raises(TooManyRequests):
        t.check("ALICE", "10.0.0.1")  # the guessed account from that address (any letter case)
    t.check("bob", "10.0.0.1")  # another account from the same address: free
    t.check("alice", "10.0.0.2")  # the account from another address: free
    t.succeeded("alice", "10.0.0.2")  # its owner logs in elsewhere: the guesser still waits
    with pytest.raises(TooManyRequests):
        t.check("alice", "10.0.0.1")
    for i in range(6):  # spraying accounts from one address: 2 + 6 misses there
        t.failed(f"user{i}", "10.0.0.1")
    with pytest.raises(TooManyRequests) as err:
        t.check("carol", "10.0.0.1")  # the address waits as a whole now
    assert err.value.retry_after == 1
    t.succeeded("carol", "10.0.0.1")  # a success does not reset the address
    with pytest.raises(TooManyRequests):
        t.check("dave", "10.0.0.1")
    t.check("dave", "10.0.0.3")
    for i in range(8):  # many addresses at one account: the account waits everywhere
        t.failed("victim", f"192.0.2.{i}")
    with pytest.raises(TooManyRequests):
        t.check("victim", "198.51.100.1")
