"""Request and response bodies of the watch-party API (``/api/parties``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from reelhouse.api.schemas.common import RequestBody
from reelhouse.db.limits import INT_MAX

__all__ = ["ParticipantPublic", "PartyCreate", "PartyPublic", "PartyQueuePublic", "QueueEdit", "QueueEntryPublic"]


class PartyCreate(RequestBody):
    media_file_id: int = Field(ge=1, le=INT_MAX)
    mode: Literal["host", "collaborative"] = "host"


class ParticipantPublic(BaseModel):
    id: int
    name: str
    joined_at: float = Field(description="server time, epoch seconds")
    connected: bool
    buffering: bool
    status: str = Field(description="playing | paused | waiting | idle | buffering | disconnected")
    host: bool


class PartyPublic(BaseModel):
    code: str = Field(description="6-character invite code")
    invite_path: str = Field(description="the party page, e.g. /party/KQ7ART")
    media_file_id: int
    state: Literal["idle", "waiting", "paused", "playing", "ended"]
    position: float = Field(description="seconds into the file at server time `at`")
    at: float = Field(description="server time, epoch seconds")
    rate: float
    mode: Literal["host", "collaborative"]
    host_id: int | None
    acting_host_id: int | None = Field(description="who controls playback in host mode: the host, or while the "
                                       "host is disconnected the longest-present connected member")
    duration: float | None = Field(description="seconds")
    wait_timeout: float = Field(description="seconds a buffering member may hold the party")
    version: int = Field(description="one more with every change of the party: of two states, the one with "
                                     "the higher version is newer")
    server_time: float = Field(description="server time of this answer, epoch seconds")
    participants: list[ParticipantPublic]


class QueueEntryPublic(BaseModel):
    """One entry of a party's play queue, in play order."""

    playlist_item_id: str = Field(description="the entry's id (the same film twice is two entries)")
    media_file_id: int
    title: str = Field(description="the film's title, else the file's name")
    playing: bool


class PartyQueuePublic(BaseModel):
    """A party's play queue (the SyncPlay queue Jellyfin apps edit)."""

    playing_index: int = Field(description="index of the playing entry in items; -1: nothing plays (idle)")
    items: list[QueueEntryPublic]
    repeat: Literal["none", "one", "all"] = Field(
        description="after an entry: the next one (none), the same one again (one), or the next one and the "
                    "first after the last (all); SyncPlay's RepeatNone / RepeatOne / RepeatAll")
    shuffle: bool = Field(description="items are in a shuffled play order (SyncPlay's Shuffle; false: Sorted)")


class QueueEdit(RequestBody):
    """One change of a party's play queue from the browser: ``add`` (``media_file_id``,
    at the end), ``remove`` / ``move`` (``playlist_item_id``; ``index``: the new place
    in play order, clamped), ``next`` / ``previous``, ``play`` (``playlist_item_id``),
    ``repeat`` (``repeat``: none · one · all), ``shuffle`` (``shuffle``: on or off;
    on again reshuffles, the playing entry first)."""

    op: Literal["add", "remove", "move", "next", "previous", "play", "repeat", "shuffle"]
    media_file_id: int | None = Field(default=None, ge=1, le=INT_MAX)
    playlist_item_id: str | None = Field(default=None, min_length=1, max_length=64)
    index: int | None = Field(default=None, ge=0, le=100_000)
    repeat: Literal["none", "one", "all"] | None = None
    shuffle: bool | None = None
