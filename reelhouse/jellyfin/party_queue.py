"""A party's play queue as a browser member reads it (blocking: database).

The queue is the one Jellyfin apps edit through SyncPlay (``syncplay_queues``, written by
reelhouse/jellyfin/syncplay_groups.py; its rules in the pure
reelhouse/jellyfin/syncplay_queue.py). A party no app gave a queue plays its one file.
Members only: a party the user may not see is 404 (api/party_lookup.py), one the user
has not joined is 403.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from posixpath import basename
from typing import Literal

from sqlalchemy import select

from reelhouse.api.schemas import PartyQueuePublic, QueueEdit, QueueEntryPublic
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie, User
from reelhouse.errors import InvalidInput, NotFound, PermissionDenied, TooManyRequests
from reelhouse.jellyfin.routes_syncplay_queue import check_control, new_playlist_item_id
from reelhouse.jellyfin.syncplay_groups import SyncPlayGroups, item_of
from reelhouse.jellyfin.syncplay_queue import MAX_ITEMS, PlayQueue
from reelhouse.party.clock import server_now
from reelhouse.party.service import PartyInfo

__all__ = ["EDITS_BURST", "EDITS_PER_SECOND", "EDITS_WINDOW", "check_edit_rate", "edit_of", "read_queue"]

#: The browser's repeat modes as SyncPlay's (GroupRepeatMode, Jellyfin's OpenAPI).
_REPEAT = {"none": "RepeatNone", "one": "RepeatOne", "all": "RepeatAll"}
_REPEAT_OF: dict[str, Literal["none", "one", "all"]] = {"RepeatNone": "none", "RepeatOne": "one", "RepeatAll": "all"}

#: Queue changes one user may make: a burst of EDITS_BURST, EDITS_PER_SECOND a second on
#: average (any EDITS_BURST / EDITS_PER_SECOND = 4 s hold at most EDITS_BURST). A hand at
#: the panel makes one or two a second; each change writes a row and tells every app of
#: the party, so a script's flood is cut (429). With Redis, counted over every node.
EDITS_PER_SECOND = 5
EDITS_BURST = 20
#: The window the limit counts over, seconds.
EDITS_WINDOW = EDITS_BURST // EDITS_PER_SECOND


def check_edit_rate(core: Core, user_id: int) -> None:
    """Count a queue change of ``user_id`` (:class:`reelhouse.auth.rates.RateLimits`:
    in Redis for every node when configured, else in this process; blocking);
    TooManyRequests (retry after 1 s) when the user is too fast."""
    if not core.rates.hit("party-queue-edits", EDITS_BURST, EDITS_WINDOW, str(user_id)):
        raise TooManyRequests("too many queue changes; try again in 1 s", 1)


def read_queue(core: Core, info: PartyInfo, user_id: int) -> PartyQueuePublic:
    """The party's queue in play order with the playing entry marked; PermissionDenied
    unless ``user_id`` is a member."""
    if info.party.member(user_id) is None:
        raise PermissionDenied("join the party first")
    queue, _ = SyncPlayGroups(core).queue(info)  # the one the apps are served (entry ids alike)
    order = [(e.playlist_item_id, e.file_id) for e in queue.playlist()]
    playing = queue.playing
    file_ids = {f for _, f in order}
    with core.sessions() as s:
        titles = {fid: title or basename(path) for fid, path, title in s.execute(
            select(MediaFile.id, MediaFile.path, Movie.title).outerjoin(Movie, Movie.id == MediaFile.movie_id)
            .where(MediaFile.id.in_(file_ids)))}
    items = [QueueEntryPublic(playlist_item_id=p, media_file_id=f, title=titles.get(f, f"file {f}"),
                              playing=p == playing) for p, f in order]
    index = next((i for i, e in enumerate(items) if e.playing), -1)
    return PartyQueuePublic(playing_index=index, items=items, repeat=_REPEAT_OF[queue.repeat],
                            shuffle=queue.shuffle == "Shuffle")


def edit_of(core: Core, info: PartyInfo, user: User, edit: QueueEdit) -> Callable[[PlayQueue], PlayQueue | None]:
    """Check ``edit`` and return the change to apply (blocking: database). Raises
    PermissionDenied unless the user steers the party (collaborative, or the host), or
    when another member may not play the file (Jellyfin's AllUsersHaveAccessToQueue);
    NotFound for a file the user may not see or an unknown entry; InvalidInput for a
    missing field or a queue past MAX_ITEMS. ``repeat`` / ``shuffle`` are SyncPlay's
    SetRepeatMode / SetShuffleMode (the rules in syncplay_queue.py)."""
    check_control(info, user.id)
    now = server_now()
    if edit.op == "add":
        if edit.media_file_id is None:
            raise InvalidInput("media_file_id is required to add")
        file_id = edit.media_file_id
        core.access.check_file(user, file_id)
        SyncPlayGroups(core).check_members(info, [file_id])
        item = item_of(core, file_id)

        def add(q: PlayQueue) -> PlayQueue:
            if len(q.items) >= MAX_ITEMS:
                raise InvalidInput(f"a play queue holds at most {MAX_ITEMS} items")
            return q.add([(item, file_id)], "Queue", now, new_playlist_item_id)
        return add
    if edit.op == "repeat":
        if edit.repeat is None:
            raise InvalidInput("repeat (none, one or all) is required to set the repeat mode")
        mode = _REPEAT[edit.repeat]
        return lambda q: q.set_repeat(mode, now)
    if edit.op == "shuffle":
        if edit.shuffle is None:
            raise InvalidInput("shuffle (true or false) is required to set the shuffle mode")
        shuffle, rng = "Shuffle" if edit.shuffle else "Sorted", random.Random()
        return lambda q: q.set_shuffle(shuffle, now, rng)
    if edit.op in ("next", "previous"):
        return (lambda q: q.next(now)) if edit.op == "next" else (lambda q: q.previous(now))
    entry = edit.playlist_item_id
    if entry is None:
        raise InvalidInput(f"playlist_item_id is required to {edit.op}")

    def change(q: PlayQueue) -> PlayQueue | None:
        if q.find(entry) is None:
            raise NotFound("no such entry in the party's queue")
        if edit.op == "remove":
            return q.remove([entry], now)[0]
        if edit.op == "play":
            return q.set_playing(entry, now)
        if edit.index is None:
            raise InvalidInput("index is required to move")
        return q.move(entry, edit.index, now)
    return change
