"""A SyncPlay group's play queue (pure, no I/O, no clock: times and ids are passed in).

The rules are Jellyfin 10.10's PlayQueueManager (MediaBrowser.Controller/SyncPlay/Queue)
and Group.cs, read from the server's source:

- every item in the queue has its own ``PlaylistItemId`` (the same film twice is two
  entries); the playing entry is named by it (``playing``; None: nothing plays);
- a new queue (``SetNewQueue``) resets the modes: Sorted, RepeatNone;
- ``Queue`` appends, ``QueueNext`` inserts right after the playing entry (in the
  sorted and, while shuffled, the shuffled order alike);
- shuffling puts the playing entry first and the rest in random order; going back to
  Sorted keeps the playing entry;
- ``next``: RepeatOne plays the same entry again; past the end RepeatAll wraps to the
  first, RepeatNone stays (no change); ``previous`` mirrors it;
- removing the playing entry plays the one before it (the first if it was first),
  nothing once the queue is empty;
- moving an entry clamps its new index to the playlist.

``reason`` is the PlayQueueUpdateReason of the last change and ``changed`` its time
(epoch s): a ``PlayQueue`` update (:meth:`PlayQueue.update`) carries both.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["MAX_ITEMS", "QUEUE_MODES", "REPEAT_MODES", "SHUFFLE_MODES", "Entry", "PlayQueue", "one_item"]

#: Most entries a group's queue holds (the apps send a series' episodes at once; this
#: bounds what one request may store).
MAX_ITEMS = 1000
REPEAT_MODES = ("RepeatOne", "RepeatAll", "RepeatNone")
SHUFFLE_MODES = ("Sorted", "Shuffle")
QUEUE_MODES = ("Queue", "QueueNext")

MakeId = Callable[[], str]


@dataclass(frozen=True, slots=True)
class Entry:
    """One queue entry: the Jellyfin item id, its playlist item id, the media file it plays."""

    item_id: str
    playlist_item_id: str
    file_id: int


@dataclass(frozen=True, slots=True)
class PlayQueue:
    """``items`` in sorted order; ``shuffled``: the playlist item ids in shuffled order
    (None: Sorted mode); ``playing``: the playing entry's playlist item id."""

    items: tuple[Entry, ...] = ()
    shuffled: tuple[str, ...] | None = None
    playing: str | None = None
    repeat: str = "RepeatNone"
    reason: str = "NewPlaylist"
    changed: float = 0.0

    # -- reads ----------------------------------------------------------------------------
    @property
    def shuffle(self) -> str:
        return "Sorted" if self.shuffled is None else "Shuffle"

    def playlist(self) -> list[Entry]:
        """The entries in play order (shuffled while in Shuffle mode)."""
        if self.shuffled is None:
            return list(self.items)
        by_id = {e.playlist_item_id: e for e in self.items}
        return [by_id[p] for p in self.shuffled if p in by_id]

    def index(self) -> int:
        """The playing entry's index in :meth:`playlist`, -1 if nothing plays."""
        for i, e in enumerate(self.playlist()):
            if e.playlist_item_id == self.playing:
                return i
        return -1

    def current(self) -> Entry | None:
        return next((e for e in self.items if e.playlist_item_id == self.playing), None)

    def find(self, playlist_item_id: str) -> Entry | None:
        return next((e for e in self.items if e.playlist_item_id == playlist_item_id), None)

    def update(self, start_position_ticks: int, is_playing: bool, last_update: str,
               reason: str | None = None) -> dict[str, Any]:
        """A PlayQueueUpdate (MediaBrowser.Model/SyncPlay/PlayQueueUpdate.cs)."""
        return {"Reason": reason or self.reason, "LastUpdate": last_update,
                "Playlist": [{"ItemId": e.item_id, "PlaylistItemId": e.playlist_item_id} for e in self.playlist()],
                "PlayingItemIndex": self.index(), "StartPositionTicks": start_position_ticks,
                "IsPlaying": is_playing, "ShuffleMode": self.shuffle, "RepeatMode": self.repeat}

    # -- changes --------------------------------------------------------------------------
    @staticmethod
    def new(items: Sequence[tuple[str, int]], index: int, now: float, make_id: MakeId) -> PlayQueue:
        """A new queue of ``(item id, file id)`` playing ``items[index]`` (the caller
        checked the index), modes reset."""
        entries = tuple(Entry(item, make_id(), file_id) for item, file_id in items)
        return PlayQueue(entries, None, entries[index].playlist_item_id, "RepeatNone", "NewPlaylist", now)

    def add(self, items: Sequence[tuple[str, int]], mode: str, now: float, make_id: MakeId) -> PlayQueue:
        """``Queue`` (append) or ``QueueNext`` (right after the playing entry)."""
        new = tuple(Entry(item, make_id(), file_id) for item, file_id in items)
        ids = tuple(e.playlist_item_id for e in new)
        if mode != "QueueNext":
            shuffled = None if self.shuffled is None else self.shuffled + ids
            return replace(self, items=self.items + new, shuffled=shuffled, reason="Queue", changed=now)
        sorted_at = next((i + 1 for i, e in enumerate(self.items) if e.playlist_item_id == self.playing), 0)
        entries = self.items[:sorted_at] + new + self.items[sorted_at:]
        shuffled = self.shuffled
        if shuffled is not None:
            at = self.index() + 1
            shuffled = shuffled[:at] + ids + shuffled[at:]
        return replace(self, items=entries, shuffled=shuffled, reason="QueueNext", changed=now)

    def remove(self, playlist_item_ids: Sequence[str], now: float) -> tuple[PlayQueue, bool]:
        """Without those entries: ``(queue, whether the playing entry went)``; the entry
        before it plays then (the first, if it was first; nothing if none is left)."""
        gone = set(playlist_item_ids)
        order = self.playlist()
        index = self.index()
        items = tuple(e for e in self.items if e.playlist_item_id not in gone)
        shuffled = None if self.shuffled is None else tuple(p for p in self.shuffled if p not in gone)
        out = replace(self, items=items, shuffled=shuffled, reason="RemoveItems", changed=now)
        if self.playing is None or self.playing not in gone:
            return out, False
        before = sum(1 for e in order[:index] if e.playlist_item_id in gone)
        new_index = index - (before + 1)
        rest = out.playlist()
        if new_index < 0:
            new_index = 0 if rest else -1
        return replace(out, playing=rest[new_index].playlist_item_id if new_index >= 0 else None), True

    def clear(self, keep_playing: bool, now: float) -> PlayQueue:
        """Every entry out, but the playing one if ``keep_playing``."""
        current = self.current()
        if keep_playing and current is not None:
            shuffled = None if self.shuffled is None else (current.playlist_item_id,)
            return replace(self, items=(current,), shuffled=shuffled, reason="RemoveItems", changed=now)
        return replace(self, items=(), shuffled=None if self.shuffled is None else (), playing=None,
                       reason="RemoveItems", changed=now)

    def move(self, playlist_item_id: str, new_index: int, now: float) -> PlayQueue | None:
        """The entry at ``new_index`` (clamped) of the playlist; None if no such entry."""
        order = [e.playlist_item_id for e in self.playlist()]
        if playlist_item_id not in order:
            return None
        order.remove(playlist_item_id)
        order.insert(max(0, min(new_index, len(order))), playlist_item_id)
        if self.shuffled is not None:
            return replace(self, shuffled=tuple(order), reason="MoveItem", changed=now)
        by_id = {e.playlist_item_id: e for e in self.items}
        return replace(self, items=tuple(by_id[p] for p in order), reason="MoveItem", changed=now)

    def set_playing(self, playlist_item_id: str, now: float) -> PlayQueue | None:
        """That entry plays (``SetPlaylistItem``); None if no such entry."""
        if self.find(playlist_item_id) is None:
            return None
        return replace(self, playing=playlist_item_id, reason="SetCurrentItem", changed=now)

    def next(self, now: float) -> PlayQueue | None:
        """The next entry plays (the same one in RepeatOne); None: no next one."""
        return self._step(1, "NextItem", now)

    def previous(self, now: float) -> PlayQueue | None:
        """The previous entry plays (the same one in RepeatOne); None: no previous one."""
        return self._step(-1, "PreviousItem", now)

    def _step(self, step: int, reason: str, now: float) -> PlayQueue | None:
        order = self.playlist()
        if not order:
            return None
        if self.repeat == "RepeatOne":
            return replace(self, reason=reason, changed=now)
        index = self.index() + step
        if not 0 <= index < len(order):
            if self.repeat != "RepeatAll":
                return None
            index %= len(order)
        return replace(self, playing=order[index].playlist_item_id, reason=reason, changed=now)

    def set_repeat(self, mode: str, now: float) -> PlayQueue:
        return replace(self, repeat=mode, reason="RepeatMode", changed=now)

    def set_shuffle(self, mode: str, now: float, rng: random.Random) -> PlayQueue:
        """Shuffle (again): the playing entry first, the others in random order; Sorted:
        the sorted order back."""
        if mode != "Shuffle":
            return replace(self, shuffled=None, reason="ShuffleMode", changed=now)
        rest = [e.playlist_item_id for e in self.playlist() if e.playlist_item_id != self.playing]
        rng.shuffle(rest)
        head = (self.playing,) if self.playing is not None else ()
        return replace(self, shuffled=head + tuple(rest), reason="ShuffleMode", changed=now)

    # -- storage ----------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"items": [[e.item_id, e.playlist_item_id, e.file_id] for e in self.items],
                "shuffled": None if self.shuffled is None else list(self.shuffled), "playing": self.playing,
                "repeat": self.repeat, "reason": self.reason, "changed": self.changed}

    @staticmethod
    def from_json(data: dict[str, Any]) -> PlayQueue:
        items = tuple(Entry(str(i), str(p), int(f)) for i, p, f in data.get("items") or [])
        shuffled = data.get("shuffled")
        return PlayQueue(items, None if shuffled is None else tuple(str(p) for p in shuffled),
                         data.get("playing"), str(data.get("repeat") or "RepeatNone"),
                         str(data.get("reason") or "NewPlaylist"), float(data.get("changed") or 0.0))


def one_item(item_id: str, playlist_item_id: str, file_id: int, now: float) -> PlayQueue:
    """The queue of a party that has none stored (made in the browser): its one file."""
    return PlayQueue((Entry(item_id, playlist_item_id, file_id),), None, playlist_item_id, changed=now)
