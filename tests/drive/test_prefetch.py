"""The drive's background listing (no FUSE, no network): the order a depth-first walk
needs, a queued folder taken by its caller instead of waiting behind guesses, bounds
that fail the dropped guesses (never a caller waiting forever), and a clean stop."""

from __future__ import annotations

import threading
import time

from reelhouse.drive.cache import ListingCache
from reelhouse.drive.prefetch import Prefetcher
from reelhouse.sources.base import Entry
from reelhouse.sources.memory import MemorySource


class Gated(MemorySource):
    """A MemorySource whose listings wait for ``gate`` (except those in ``free``) and
    are recorded in ``asked``, in order."""

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__(files)
        self.gate = threading.Event()
        self.free: set[str] = set()
        self.asked: list[str] = []
        self.started = threading.Event()

    def list(self, path: str) -> list[Entry]:
        self.asked.append(path)
        self.started.set()
        if path not in self.free:
            assert self.gate.wait(10)
        return listing(self, path)


def listing(src: MemorySource, path: str) -> list[Entry]:
    """The listing in name order (a MemorySource lists folders in set order)."""
    return sorted(MemorySource.list(src, path), key=lambda e: e.name)


def tree() -> dict[str, bytes]:
    return {f"S{s}/Season {e}/ep.mkv": b"x" for s in range(3) for e in range(3)}


def wait_for(check: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_depth_first_order_and_a_queued_folder_taken_by_its_caller() -> None:
    src = Gated(tree())
    listings = ListingCache(30, 60)
    pre = Prefetcher(src, listings, workers=1, depth=2)
    try:
        pre.queue("", listing(src, ""))  # the user read the root
        assert src.started.wait(10)  # the worker waits in the listing of S0
        # S2 still waits in the queue: its caller lists it now, not behind S0 and S1
        src.free.add("S2")
        assert [e.name for e in pre.take("S2") or []] == ["Season 0", "Season 1", "Season 2"]
        src.gate.set()
        wait_for(lambda: len(src.asked) == 3 + 9)
        # preorder after S0 (the worker's first): S0's seasons before S1, then S1's; S2
        # was listed by its caller, its seasons queued after
        assert src.asked[:1] == ["S0"] and src.asked[1] == "S2"
        rest = src.asked[2:]
        assert rest[:3] == [f"S0/Season {e}" for e in range(3)]
        assert rest[3:7] == ["S1", *(f"S1/Season {e}" for e in range(3))]
        assert rest[7:] == [f"S2/Season {e}" for e in range(3)]
        wait_for(lambda: listings.listing("S2/Season 2") is not None)
        assert pre.take("S0") is None  # listed and cached: nothing in flight
    finally:
        src.gate.set()
        pre.close()


def test_dropped_guesses_fail_fast_and_close_stops() -> None:
    files = {f"F{i:03d}/x": b"" for i in range(40)}
    src = Gated(files)
    pre = Prefetcher(src, ListingCache(30, 60), workers=1, fanout=64, bound=10)
    try:
        pre.queue("", listing(src, ""))
        assert src.started.wait(10)  # the worker holds F000; 39 wait, 10 are kept
        assert pre.take("F039") is None  # dropped: the caller asks the server itself
        got: list[object] = []
        waiter = threading.Thread(target=lambda: got.append(pre.take("F000")))
        waiter.start()  # waits for the worker's listing in flight
        src.gate.set()
        waiter.join(10)
        assert got and [e.name for e in got[0]] == ["x"]  # type: ignore[attr-defined]
    finally:
        src.gate.set()
        pre.close()
    assert pre.take("F005") is None
    assert all(not t.is_alive() for t in pre._threads)


def test_no_workers_queues_nothing() -> None:
    src = Gated(tree())
    pre = Prefetcher(src, ListingCache(30, 60), workers=0)
    pre.queue("", listing(src, ""))
    assert pre.take("S0") is None and src.asked == []
    pre.close()


def test_a_listing_asked_before_our_change_is_not_kept() -> None:
    listings = ListingCache(30, 60)
    old = [Entry("x", "a/x", False, 1)]
    since = listings.mark()
    listings.put(Entry("new", "a/new", False, 3))  # our write while the listing was asked
    listings.put_listing("a", old, since)
    assert listings.listing("a") is None and isinstance(listings.lookup("a/new"), Entry)
    since = listings.mark()
    listings.remove("a")  # a folder renamed away: nothing under it is kept either
    listings.put_listing("a/b", [Entry("y", "a/b/y", False, 1)], since)
    listings.put_listing("c", [Entry("z", "c/z", False, 1)], since)  # elsewhere: kept
    assert listings.listing("a/b") is None and listings.listing("c") is not None
    listings.put_listing("a", old, listings.mark())  # asked after the change: kept
    assert listings.listing("a") == old

    src = Gated(tree())  # the same through the background listing
    pre = Prefetcher(src, listings, workers=1)
    try:
        pre.queue("", listing(src, ""))
        assert src.started.wait(10)  # S0 is being listed
        listings.put(Entry("made.txt", "S0/made.txt", False, 1))
        src.gate.set()
        wait_for(lambda: listings.listing("S1") is not None)
        assert listings.listing("S0") is None  # asked again next time, with made.txt
    finally:
        src.gate.set()
        pre.close()
