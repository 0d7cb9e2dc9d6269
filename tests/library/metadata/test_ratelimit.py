"""The token bucket, on a fake clock."""

from __future__ import annotations

import threading

import pytest

from reelhouse.library.metadata.ratelimit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_burst_then_steady_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(40, 10.0, clock, clock.sleep)
    for _ in range(40):
        assert bucket.acquire() == 0.0
    assert bucket.delay() == pytest.approx(0.25)
    assert bucket.acquire() == pytest.approx(0.25)  # 4 tokens per second
    for _ in range(39):
        bucket.acquire()
    assert clock.now == pytest.approx(10.0)  # 80 requests took 10 s: 40 per 10 s after the burst


def test_refills_up_to_capacity_only() -> None:
    clock = Clock()
    bucket = TokenBucket(2, 1.0, clock, clock.sleep)
    clock.now = 1000.0
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, pytest.approx(0.5)]


def test_threads_share_the_budget() -> None:
    clock = Clock()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            clock.slept.append(seconds)

    bucket = TokenBucket(5, 1.0, clock, sleep)
    threads = [threading.Thread(target=bucket.acquire) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(clock.slept) == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])


def test_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0, 10.0)
