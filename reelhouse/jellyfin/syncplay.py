"""SyncPlay in Jellyfin's words: a watch party told to a Jellyfin app (pure, no I/O).

A SyncPlay group is a reelhouse watch party (:mod:`reelhouse.party`): the party's
state machine decides, and each app's ``/socket`` is told what the party does as
Jellyfin 10.10 tells it (Emby.Server.Implementations/SyncPlay/Group.cs,
MediaBrowser.Model/SyncPlay):

- ``SyncPlayGroupUpdate`` ``{GroupId, Type, Data}``: ``GroupJoined`` (a GroupInfoDto),
  ``UserJoined`` / ``UserLeft`` (a user name), ``GroupLeft``, ``StateUpdate``
  (``{State, Reason}``), ``PlayQueue`` (a PlayQueueUpdate), ``GroupDoesNotExist``;
- ``SyncPlayCommand`` (SendCommand): ``{GroupId, PlaylistItemId, When, PositionTicks,
  Command, EmittedAt}``: ``Unpause`` (start at ``When`` from ``PositionTicks``),
  ``Pause`` (stop at ``When``, at ``PositionTicks``), ``Seek``, ``Stop`` (unload the
  item: the group is Idle).

The party's ``{state, position, at}`` maps one to one: playing → Unpause at ``at``
(the party schedules starts ``lead`` s ahead, as Jellyfin adds a delay for the
highest ping), paused/idle/waiting → Pause at ``at``, a seek → Seek, a stop → Stop
(and the next play sends the play queue again: the apps load the item anew). A party
that loads another file (the group's queue moved on) is told as the queue's
``PlayQueue`` update (its reason: NextItem, SetCurrentItem …), then Waiting and Pause
until every app says Ready with the new ``PlaylistItemId``. Times are UTC
written as Jellyfin writes DateTime (7 fractional digits, ``Z``); positions are ticks
of 100 ns (TimeSpan.TicksPerSecond = 10^7). jellyfin-web ignores a command emitted
before the ``LastUpdatedAt`` of the group it joined (plugins/syncPlay/core/Manager.js),
so ``EmittedAt`` is always the time of sending.
"""

from __future__ import annotations

import json
import math
import secrets
from datetime import UTC, datetime
from typing import Any

from reelhouse.jellyfin.syncplay_queue import PlayQueue

__all__ = ["NO_ITEM", "TICKS", "Follower", "command", "group_info", "group_state", "group_update", "message",
           "parse_utc", "play_queue", "to_ticks", "utc"]

#: Ticks per second (.NET TimeSpan: 100 ns each).
TICKS = 10_000_000

_STATES = {"idle": "Idle", "waiting": "Waiting", "paused": "Paused", "playing": "Playing", "ended": "Idle"}
#: what made the state change (a party event kind) → PlaybackRequestType
_REASONS = {"play": "Unpause", "pause": "Pause", "seek": "Seek", "buffering": "Buffer", "resumed": "Ready",
            "end": "Stop", "stop": "Stop", "leave": "Ready", "disconnect": "Ready"}
#: the queue change that made the party load another item (PlayQueueUpdateReason) → PlaybackRequestType
_LOAD_REASONS = {"NewPlaylist": "Play", "NextItem": "NextItem", "PreviousItem": "PreviousItem",
                 "SetCurrentItem": "SetPlaylistItem", "RemoveItems": "RemoveFromPlaylist"}
#: Guid.Empty as Jellyfin writes it: no playing item
NO_ITEM = "00000000000000000000000000000000"


def to_ticks(seconds: float) -> int:
    """Seconds → ticks (100 ns), rounded; negative or non-finite → 0."""
    return round(seconds * TICKS) if math.isfinite(seconds) and seconds > 0 else 0


def utc(t: float) -> str:
    """Epoch seconds → ``2026-11-28T14:00:00.1234567Z`` (DateTime as Jellyfin writes it)."""
    whole = math.floor(t)
    frac = round((t - whole) * TICKS)
    if frac >= TICKS:
        whole, frac = whole + 1, frac - TICKS
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:07d}Z"


def parse_utc(text: object) -> float | None:
    """An ISO 8601 time (``Z`` or an offset; no zone: UTC) → epoch seconds, or None."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    value = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    head, dot, rest = value.partition(".")
    if dot:  # Python takes at most 6 fractional digits; .NET writes 7
        digits = len(rest) - len(rest.lstrip("0123456789"))
        value = f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}" if digits else head + rest[digits:]
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def group_state(party_state: str) -> str:
    """GroupStateType of a party state (an ended party is Idle)."""
    return _STATES.get(party_state, "Idle")


def message(kind: str, data: Any) -> str:
    """One ``/socket`` message: ``{MessageId, MessageType, Data}``."""
    return json.dumps({"MessageId": secrets.token_hex(16), "MessageType": kind, "Data": data})


def group_info(group_id: str, name: str, party_state: str, participants: list[str], now: float) -> dict[str, Any]:
    """A GroupInfoDto."""
    return {"GroupId": group_id, "GroupName": name, "State": group_state(party_state),
            "Participants": participants, "LastUpdatedAt": utc(now)}


def group_update(group_id: str, kind: str, data: Any) -> str:
    """A ``SyncPlayGroupUpdate`` message of ``kind`` (GroupUpdateType)."""
    return message("SyncPlayGroupUpdate", {"GroupId": group_id, "Type": kind, "Data": data})


def command(group_id: str, playlist_item_id: str, kind: str, when: float, position: float, now: float) -> str:
    """A ``SyncPlayCommand`` message: ``kind`` (Unpause · Pause · Seek · Stop) at server
    time ``when`` (s) from ``position`` (s), emitted ``now`` (s)."""
    return message("SyncPlayCommand", {"GroupId": group_id, "PlaylistItemId": playlist_item_id,
                                       "When": utc(when), "PositionTicks": to_ticks(position),
                                       "Command": kind, "EmittedAt": utc(now)})


def play_queue(group_id: str, queue: PlayQueue, position: float, playing: bool, reason: str | None,
               now: float) -> str:
    """A ``PlayQueue`` group update of ``queue`` (``reason``: its own if None), the
    playing entry at ``position`` (s), sent ``now`` (s: its ``LastUpdate``: jellyfin-web
    drops an update not newer than the last it applied, plugins/syncPlay/core/QueueCore.js)."""
    return group_update(group_id, "PlayQueue", queue.update(to_ticks(position), playing, utc(now), reason))


def _position(party: dict[str, Any], now: float) -> float:
    """The party's position (s) at ``now`` from a PLAYBACK dict (party/protocol.py)."""
    pos = float(party.get("position") or 0.0)
    at = float(party.get("at") or 0.0)
    if party.get("state") == "playing" and now > at:
        pos += (now - at) * float(party.get("rate") or 1.0)
    duration = party.get("duration")
    if isinstance(duration, int | float):
        pos = min(pos, float(duration))
    return max(0.0, pos)


class Follower:
    """What one app session is told about its group, from the party's messages
    (party/protocol.py: ``welcome``, ``state``, ``ended``) and its play queue.
    ``user_id``: the session's user (not told of its own joins); ``queue``, ``version``:
    the group's play queue as read, and its stored version (updates are sent once per
    version)."""

    def __init__(self, group_id: str, name: str, user_id: int, queue: PlayQueue, version: int) -> None:
        self.group_id, self.name, self.user_id = group_id, name, user_id
        self.queue, self.version = queue, version
        self.names: dict[int, str] = {}
        self.last: tuple[str, float, float] | None = None
        self.state = "idle"
        #: the group was stopped (Jellyfin's Idle): the app unloaded the item, and a
        #: play starts it over with a new play queue (WaitingGroupState, Unpause from Idle)
        self.stopped = False

    @property
    def playlist_item_id(self) -> str:
        """The playing entry's PlaylistItemId (Guid.Empty, as Jellyfin, if none)."""
        return self.queue.playing or NO_ITEM

    def welcome(self, welcome: dict[str, Any], now: float) -> list[str]:
        """GroupJoined, the play queue (NewPlaylist: the app loads the item) and the
        command that puts it where the party is."""
        party = welcome.get("party") or {}
        self.names = {int(m["id"]): str(m["name"]) for m in welcome.get("members") or []}
        self.state = str(party.get("state", "idle"))
        names = sorted(set(self.names.values()))
        out = [group_update(self.group_id, "GroupJoined",
                            group_info(self.group_id, self.name, self.state, names, now)),
               play_queue(self.group_id, self.queue, _position(party, now), self.state == "playing",
                          "NewPlaylist", now)]
        return out + self._commands(party, None, now)

    def set_queue(self, queue: PlayQueue, version: int, party: dict[str, Any], now: float,
                  reason: str | None = None) -> list[str]:
        """The ``PlayQueue`` update for a queue newer than the one told (nothing for one
        already told), or, with ``reason``, for this one again with that reason (an app
        that reported another item is told the playing one: SetCurrentItem)."""
        if version <= self.version and reason is None:
            return []
        self.queue, self.version = queue, max(version, self.version)
        return [play_queue(self.group_id, queue, _position(party, now), party.get("state") == "playing",
                           reason, now)]

    def resend(self, party: dict[str, Any], now: float) -> list[str]:
        """The command for where the party is, again (an app that says Ready while the
        party plays on: Jellyfin's PlayingGroupState answers it with Unpause)."""
        self.last = None
        return [m for m in self._commands(party, None, now) if '"SyncPlayCommand"' in m]

    def left(self) -> list[str]:
        return [group_update(self.group_id, "GroupLeft", self.group_id)]

    def on_message(self, msg: dict[str, Any], now: float) -> tuple[list[str], bool]:
        """The app's messages for one party message, and whether the app now loads or
        seeks (it says Ready when it can play there: its member buffers meanwhile)."""
        out: list[str] = []
        members = msg.get("members") or []
        if msg.get("full"):
            present = {int(m["id"]) for m in members}
            for uid in [u for u in self.names if u not in present]:
                out.append(group_update(self.group_id, "UserLeft", self.names.pop(uid)))
        for m in members:
            uid = int(m["id"])
            if uid not in self.names and uid != self.user_id:
                out.append(group_update(self.group_id, "UserJoined", str(m["name"])))
            self.names[uid] = str(m["name"])
        for uid in msg.get("gone") or []:
            name = self.names.pop(int(uid), None)
            if name is not None and uid != self.user_id:
                out.append(group_update(self.group_id, "UserLeft", name))
        party = msg.get("party") or {}
        if msg.get("type") == "ended":
            return [*out, *self.left()], False
        event = msg.get("event") or {}
        kind = event.get("kind") if isinstance(event, dict) else None
        loads = kind == "seek"
        if kind == "load":
            self.stopped = False
        elif kind == "stop":
            self.stopped = True
        elif kind == "play" and self.stopped:
            # Unpause from Idle: the item starts over, the apps load it again
            self.stopped = False
            out.append(play_queue(self.group_id, self.queue, 0.0, False, "NewPlaylist", now))
            loads = True
        out += self._commands(party, kind, now)
        return out, loads

    def _commands(self, party: dict[str, Any], kind: str | None, now: float) -> list[str]:
        state = str(party.get("state", "idle"))
        position = float(party.get("position") or 0.0)
        at = float(party.get("at") or now)
        key = (state, round(position, 3), round(at, 3))
        if key == self.last and kind not in ("seek", "stop"):
            return []
        self.last = key
        out: list[str] = []
        if state != self.state or kind in ("seek", "play", "pause", "stop", "load"):
            reason = _LOAD_REASONS.get(self.queue.reason, "Play") if kind == "load" \
                else _REASONS.get(kind or "", "Ready")
            out.append(group_update(self.group_id, "StateUpdate", {"State": group_state(state), "Reason": reason}))
        self.state = state
        pid = self.playlist_item_id
        if kind == "seek":
            # the app seeks, pauses, and says Ready (plugins/syncPlay/core/PlaybackCore.js
            # scheduleSeek); its member buffers meanwhile, so the start comes after
            out.append(command(self.group_id, pid, "Seek", min(at, now), position, now))
            return out
        if state == "playing":
            out.append(command(self.group_id, pid, "Unpause", at, position, now))
        elif state == "idle" and self.stopped:
            out.append(command(self.group_id, pid, "Stop", min(at, now), position, now))
        elif state in ("paused", "waiting", "idle"):
            out.append(command(self.group_id, pid, "Pause", min(at, now), position, now))
        return out
