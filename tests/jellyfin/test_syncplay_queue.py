"""The SyncPlay play queue's rules (reelhouse/jellyfin/syncplay_queue.py), table-driven
after Jellyfin's PlayQueueManager, and invariants under random operations."""

from __future__ import annotations

import itertools
import random

from hypothesis import given
from hypothesis import strategies as hs

from reelhouse.jellyfin.syncplay_queue import PlayQueue, one_item


def _queue(names: str, playing: int = 0) -> PlayQueue:
    counter = itertools.count(1)
    return PlayQueue.new([(n, i) for i, n in enumerate(names)], playing, 1.0, lambda: f"p{next(counter)}")


def _names(q: PlayQueue) -> str:
    return "".join(e.item_id for e in q.playlist())


def _playing(q: PlayQueue) -> str | None:
    current = q.current()
    return current.item_id if current else None


def test_new_queue_resets_the_modes() -> None:
    q = _queue("abc", 1)
    assert (_names(q), _playing(q), q.index(), q.shuffle, q.repeat, q.reason) == \
        ("abc", "b", 1, "Sorted", "RepeatNone", "NewPlaylist")
    assert [e.playlist_item_id for e in q.items] == ["p1", "p2", "p3"]
    assert len({e.playlist_item_id for e in _queue("aaa").items}) == 3  # the same film twice: two entries


def test_queue_and_queue_next() -> None:
    counter = itertools.count(10)

    def make() -> str:
        return f"n{next(counter)}"

    q = _queue("abc", 1)
    assert _names(q.add([("x", 9), ("y", 9)], "Queue", 2.0, make)) == "abcxy"
    nxt = q.add([("x", 9), ("y", 9)], "QueueNext", 2.0, make)
    assert (_names(nxt), nxt.reason, _playing(nxt)) == ("abxyc", "QueueNext", "b")
    shuffled = q.set_shuffle("Shuffle", 2.0, random.Random(1))
    both = shuffled.add([("x", 9)], "QueueNext", 3.0, make)
    assert _names(both)[:2] == "bx" and _names(both.set_shuffle("Sorted", 4.0, random.Random())) == "abxc"


def test_next_previous_and_repeat() -> None:
    q = _queue("abc")
    assert q.previous(2.0) is None  # first, RepeatNone: no change
    q2 = q.next(2.0)
    assert q2 is not None and _playing(q2) == "b" and q2.reason == "NextItem"
    last = _queue("abc", 2)
    assert last.next(2.0) is None
    wrap = last.set_repeat("RepeatAll", 2.0).next(3.0)
    assert wrap is not None and _playing(wrap) == "a"
    back = _queue("abc").set_repeat("RepeatAll", 2.0).previous(3.0)
    assert back is not None and _playing(back) == "c"
    one = _queue("abc", 1).set_repeat("RepeatOne", 2.0).next(3.0)
    assert one is not None and _playing(one) == "b" and one.reason == "NextItem"  # the same again
    assert PlayQueue().next(1.0) is None


def test_remove_move_set_and_clear() -> None:
    q = _queue("abcd", 2)  # c plays
    out, went = q.remove(["p1"], 2.0)
    assert (_names(out), _playing(out), went) == ("bcd", "c", False)
    out, went = q.remove(["p3"], 2.0)
    assert (_names(out), _playing(out), went) == ("abd", "b", True)  # the one before it
    out, went = _queue("abc", 0).remove(["p1"], 2.0)
    assert (_playing(out), went) == ("b", True)  # it was first: the next
    out, went = _queue("a").remove(["p1"], 2.0)
    assert (_names(out), _playing(out), went) == ("", None, True)
    moved = q.move("p3", 0, 2.0)
    assert moved is not None and (_names(moved), _playing(moved), moved.index()) == ("cabd", "c", 0)
    far = q.move("p1", 99, 2.0)
    assert far is not None and _names(far) == "bcda"
    assert q.move("nope", 0, 2.0) is None and q.set_playing("nope", 2.0) is None
    chosen = q.set_playing("p4", 2.0)
    assert chosen is not None and (_playing(chosen), chosen.reason) == ("d", "SetCurrentItem")
    kept = q.clear(True, 2.0)
    assert (_names(kept), _playing(kept)) == ("c", "c")
    assert (_names(q.clear(False, 2.0)), _playing(q.clear(False, 2.0))) == ("", None)


def test_shuffle_keeps_the_playing_entry_first() -> None:
    q = _queue("abcdefgh", 5)
    s = q.set_shuffle("Shuffle", 2.0, random.Random(7))
    assert s.shuffle == "Shuffle" and _playing(s) == "f" and s.index() == 0
    assert sorted(_names(s)) == list("abcdefgh")
    back = s.set_shuffle("Sorted", 3.0, random.Random())
    assert (_names(back), back.index(), _playing(back)) == ("abcdefgh", 5, "f")


def test_storage_round_trip() -> None:
    q = _queue("abc", 1).set_shuffle("Shuffle", 2.0, random.Random(3)).set_repeat("RepeatAll", 3.0)
    assert PlayQueue.from_json(q.to_json()) == q
    one = one_item("i", "p", 4, 0.0)
    assert PlayQueue.from_json(one.to_json()) == one and _playing(one) == "i"


_OPS = hs.lists(hs.tuples(hs.sampled_from(["queue", "next", "remove", "move", "set", "prev", "shuffle",
                                           "sorted", "repeat", "clear"]),
                          hs.integers(0, 12), hs.integers(0, 12)), max_size=40)


@given(_OPS, hs.integers(0, 2**32))
def test_invariants_under_random_operations(ops: list[tuple[str, int, int]], seed: int) -> None:
    """Whatever the apps do: every entry once in the playlist, the playing entry in it;
    nothing plays only once the queue was emptied (items queued after that wait for a
    new queue or SetPlaylistItem, as in Jellyfin)."""
    rng = random.Random(seed)
    counter = itertools.count(100)

    def make() -> str:
        return f"q{next(counter)}"

    q = _queue("abc")
    emptied = False
    for op, a, b in ops:
        ids = [e.playlist_item_id for e in q.playlist()]
        pick = ids[a % len(ids)] if ids else "none"
        if op == "queue":
            q = q.add([("z", 0)] * (1 + a % 3), "QueueNext" if b % 2 else "Queue", 1.0, make)
        elif op in ("next", "prev"):
            q = (q.next(1.0) if op == "next" else q.previous(1.0)) or q
        elif op == "remove":
            q = q.remove([pick], 1.0)[0]
        elif op == "move":
            q = q.move(pick, b, 1.0) or q
        elif op == "set":
            q = q.set_playing(pick, 1.0) or q
        elif op in ("shuffle", "sorted"):
            q = q.set_shuffle("Shuffle" if op == "shuffle" else "Sorted", 1.0, rng)
        elif op == "repeat":
            q = q.set_repeat(["RepeatOne", "RepeatAll", "RepeatNone"][a % 3], 1.0)
        elif op == "clear" and b % 4 == 0:
            q = q.clear(bool(a % 2), 1.0)
        order = [e.playlist_item_id for e in q.playlist()]
        assert sorted(order) == sorted(e.playlist_item_id for e in q.items) and len(set(order)) == len(order)
        assert (q.playing is None) == (q.index() == -1)
        emptied = emptied or not q.items or (q.playing is None and op == "clear")
        if q.playing is None:
            assert emptied
        assert PlayQueue.from_json(q.to_json()) == q
