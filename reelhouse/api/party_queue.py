"""A party's play queue as a browser member reads it (blocking: database).

The queue is the one Jellyfin apps edit through SyncPlay (``syncplay_queues``, written by
reelhouse/jellyfin/syncplay_groups.py; its rules in the pure
reelhouse/jellyfin/syncplay_queue.py). A party no app gave a queue plays its one file.
Members only: a party the user may not see is 404 (api/party_lookup.py), one the user
has not joined is 403.
"""

from __future__ import annotations

from posixpath import basename

from sqlalchemy import select

from reelhouse.api.schemas import PartyQueuePublic, QueueEntryPublic
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie, SyncPlayQueue
from reelhouse.errors import PermissionDenied
from reelhouse.jellyfin.syncplay_queue import PlayQueue
from reelhouse.party.service import PartyInfo

__all__ = ["read_queue"]


def read_queue(core: Core, info: PartyInfo, user_id: int) -> PartyQueuePublic:
    """The party's queue in play order with the playing entry marked; PermissionDenied
    unless ``user_id`` is a member."""
    if info.party.member(user_id) is None:
        raise PermissionDenied("join the party first")
    with core.sessions() as s:
        row = s.get(SyncPlayQueue, info.id)
        if row is None:
            order = [(f"file-{info.media_file_id}", info.media_file_id)]
            playing: str | None = order[0][0]
        else:
            queue = PlayQueue.from_json(row.data)
            order = [(e.playlist_item_id, e.file_id) for e in queue.playlist()]
            playing = queue.playing
        file_ids = {f for _, f in order}
        titles = {fid: title or basename(path) for fid, path, title in s.execute(
            select(MediaFile.id, MediaFile.path, Movie.title).outerjoin(Movie, Movie.id == MediaFile.movie_id)
            .where(MediaFile.id.in_(file_ids)))}
    items = [QueueEntryPublic(playlist_item_id=p, media_file_id=f, title=titles.get(f, f"file {f}"),
                              playing=p == playing) for p, f in order]
    index = next((i for i, e in enumerate(items) if e.playing), -1)
    return PartyQueuePublic(playing_index=index, items=items)
