"""The watch-party state machine: pure, no I/O, no clock (every event carries ``now``).

States (``Party.state``)::

    idle ──play──▶ playing ◀──ready / timeout──┐
      │              │  ▲                       │
      │            pause│play      buffering ──▶ waiting
      ▼              ▼  │                       │
    paused ◀─────────────────────── pause ──────┘
    (any) ──end──▶ ended (terminal)
    (any) ──stop──▶ idle at 0 · (any) ──load──▶ waiting (another file, everyone connected buffers)

- ``idle``: created, nobody has pressed play yet (position 0 unless seeked).
- ``playing``: the position advances: ``position + (now - at) * rate`` seconds.
- ``waiting``: the party wants to play but a connected participant is buffering; the
  position is frozen. It ends when every buffering participant is ready, leaves,
  disconnects, or has buffered longer than ``wait_timeout`` seconds (it then no longer
  holds the others: Jellyfin SyncPlay's "ignore wait" rule, made automatic).
- ``paused``: frozen at ``position``.

Play at the end (the position has reached ``duration``, paused or still "playing")
starts over from 0, as a media element's ``play()`` does (HTML Living Standard,
"media elements", the play() method: "if the playback has ended and the direction of
playback is forwards, seek to the earliest possible position").

A start is scheduled ``lead`` seconds ahead (``at = now + lead``): every client gets the
message before the moment it should start, so network latency does not become drift.

- ``stop``: back to ``idle`` at 0 (Jellyfin SyncPlay's Stop: its group goes Idle and
  a later Unpause starts the item over, MediaBrowser.Controller/SyncPlay/GroupStates).
- ``load``: the party plays another file (or the same one afresh) from ``position``:
  every connected member is marked buffering (it loads the file) and the party waits
  for their ``ready``, at most ``wait_timeout`` s, then plays (Jellyfin's
  SetAllBuffering(true) on a new playing item).

Events (:mod:`reelhouse.party.events`, importable from here too): :class:`Join`,
:class:`Leave`, :class:`Disconnect`, :class:`Play`, :class:`Pause`, :class:`Seek`,
:class:`Buffering`, :class:`Ready`, :class:`HostTransfer`, :class:`SetMode`, :class:`Tick`
(time passes: timeouts), :class:`End`, :class:`Stop`, :class:`Load`, :class:`Close` (the server
ends it: its film's source is removed). :func:`apply` returns the new
:class:`Party` or raises :class:`~reelhouse.errors.PermissionDenied` (a non-host command in
host mode), :class:`~reelhouse.errors.InvalidInput` (bad seek position, unknown member) or
:class:`~reelhouse.errors.Conflict` (the party has ended). Times are seconds on the
server clock (epoch seconds in production).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

from reelhouse.errors import Conflict, InvalidInput, PermissionDenied
from reelhouse.party.events import (
    COMMANDS,
    Buffering,
    Close,
    Disconnect,
    End,
    Event,
    HostTransfer,
    Join,
    Leave,
    Load,
    Mode,
    Pause,
    Play,
    Ready,
    Seek,
    SetMode,
    Stop,
    Tick,
)

__all__ = [
    "COMMANDS",
    "DEFAULT_LEAD",
    "DEFAULT_WAIT_TIMEOUT",
    "PAUSE_LAG",
    "Buffering",
    "Close",
    "Disconnect",
    "End",
    "Event",
    "HostTransfer",
    "Join",
    "Leave",
    "Load",
    "Mode",
    "Participant",
    "Party",
    "Pause",
    "Play",
    "PlaybackState",
    "Ready",
    "Seek",
    "SetMode",
    "Stop",
    "Tick",
    "acting_host",
    "apply",
    "check_invariants",
]

PlaybackState = Literal["idle", "waiting", "paused", "playing", "ended"]

#: Seconds a buffering participant may hold the party before it plays on without them.
DEFAULT_WAIT_TIMEOUT = 8.0
#: Seconds between a start command and the moment every client starts (see module doc).
DEFAULT_LEAD = 0.3
#: Seconds a pause may take to reach the server and still stop the party where its
#: sender pressed it (a friend far away would otherwise see its pause jump ahead by
#: the message's travel time).
PAUSE_LAG = 1.0


@dataclass(frozen=True, slots=True)
class Participant:
    """A member: ``joined_at`` (s) orders host succession; ``buffering_since`` (s) is
    set while the client reports it cannot play."""

    user_id: int
    name: str
    joined_at: float
    connected: bool = True
    buffering_since: float | None = None


@dataclass(frozen=True, slots=True)
class Party:
    """A party's whole state. ``position`` (s) holds at server time ``at`` (s); while
    ``playing`` it advances at ``rate``. ``duration`` (s) clamps positions if known."""

    host_id: int | None
    mode: Mode = "host"
    state: PlaybackState = "idle"
    position: float = 0.0
    at: float = 0.0
    rate: float = 1.0
    duration: float | None = None
    participants: tuple[Participant, ...] = ()
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT
    lead: float = DEFAULT_LEAD
    #: the last thing that happened, for toasts: (kind, user id or None, position)
    last: tuple[str, int | None, float] | None = field(default=None, compare=False)

    def member(self, user_id: int) -> Participant | None:
        return next((p for p in self.participants if p.user_id == user_id), None)

    def position_at(self, now: float) -> float:
        """Where playback is at server time ``now`` (s), clamped to [0, duration]."""
        pos = self.position
        if self.state == "playing" and now > self.at:
            pos += (now - self.at) * self.rate
        if self.duration is not None:
            pos = min(pos, self.duration)
        return max(0.0, pos)

    def holding(self, now: float) -> tuple[Participant, ...]:
        """Connected participants buffering for less than ``wait_timeout`` at ``now``:
        the ones the party waits for."""
        return tuple(
            p for p in self.participants
            if p.connected and p.buffering_since is not None
            and now < p.buffering_since + self.wait_timeout  # the same sum as wait_deadline
        )

    def wait_deadline(self) -> float | None:
        """The server time (s) at which waiting ends at the latest, or None."""
        times = [p.buffering_since for p in self.participants
                 if p.connected and p.buffering_since is not None]
        return max(times) + self.wait_timeout if times else None


# -- transitions ----------------------------------------------------------------------
def apply(party: Party, event: Event) -> Party:
    """The party after ``event`` (see the module docstring for the rules and errors).
    Every event also lets time pass: a wait whose holders are gone or timed out ends."""
    if party.state == "ended":
        raise Conflict("this party has ended")
    return _settle(_transition(party, event), event.now)


def _transition(party: Party, event: Event) -> Party:
    now = event.now
    if isinstance(event, Tick):
        return _settle(party, now)
    if isinstance(event, Join):
        return _settle(_join(party, event), now)
    if isinstance(event, Close):
        pos = party.position_at(now)
        return replace(party, state="ended", position=pos, at=now, last=("end", None, pos))
    member = party.member(event.user_id)
    if member is None:
        raise PermissionDenied("join the party first")
    if isinstance(event, COMMANDS) or isinstance(event, (HostTransfer, SetMode, End)):
        _check_control(party, event)
    if isinstance(event, Leave):
        return _settle(_leave(party, event.user_id, now), now)
    if isinstance(event, Disconnect):
        return _settle(_member(party, replace(member, connected=False, buffering_since=None)), now)
    if isinstance(event, Play):
        pos = party.position_at(now)
        at_end = party.duration is not None and pos >= party.duration
        if party.state in ("playing", "waiting") and not at_end:
            return party
        if at_end:  # HTML's play(): "if the playback has ended ... seek to the earliest possible position"
            pos = 0.0
        started = replace(party, state="waiting", position=pos, at=now, last=("play", event.user_id, pos))
        return _settle(started, now)
    if isinstance(event, Pause):
        if party.state in ("paused", "idle"):
            return party
        pos = party.position_at(now)
        if event.position is not None and math.isfinite(event.position) and \
                abs(event.position - pos) <= PAUSE_LAG:
            pos = _valid_position(party, max(0.0, event.position))
        return replace(party, state="paused", position=pos, at=now, last=("pause", event.user_id, pos))
    if isinstance(event, Seek):
        pos = _valid_position(party, event.position)
        state = party.state
        seeked = replace(party, position=pos, at=now, last=("seek", event.user_id, pos),
                         state="waiting" if state in ("playing", "waiting") else state)
        return _settle(seeked, now) if seeked.state == "waiting" else seeked
    if isinstance(event, Buffering):
        if member.buffering_since is not None or not member.connected:
            return party
        # a mark already past the wait timeout holds nobody (see ``holding``)
        since = now if event.holds else now - party.wait_timeout
        buffering = _member(party, replace(member, buffering_since=since))
        if party.state == "playing" and event.holds:
            pos = party.position_at(now)
            buffering = replace(buffering, state="waiting", position=pos, at=now,
                                last=("buffering", event.user_id, pos))
        return _settle(buffering, now)
    if isinstance(event, Ready):
        if member.buffering_since is None:
            return party
        return _settle(_member(party, replace(member, buffering_since=None)), now)
    if isinstance(event, HostTransfer):
        target = party.member(event.to_user_id)
        if target is None:
            raise InvalidInput("the new host must be a member of the party")
        return replace(party, host_id=target.user_id, last=("host", target.user_id, party.position_at(now)))
    if isinstance(event, SetMode):
        if event.mode not in ("host", "collaborative"):
            raise InvalidInput("mode must be 'host' or 'collaborative'")
        return replace(party, mode=event.mode, last=("mode", event.user_id, party.position_at(now)))
    if isinstance(event, Stop):
        members = tuple(replace(p, buffering_since=None) for p in party.participants)
        return replace(party, state="idle", position=0.0, at=now, participants=members,
                       last=("stop", event.user_id, 0.0))
    if isinstance(event, Load):
        duration = event.duration if event.duration is not None and math.isfinite(event.duration) \
            and event.duration > 0 else None
        loaded = replace(party, duration=duration)
        pos = _valid_position(loaded, event.position)
        members = tuple(replace(p, buffering_since=now) if p.connected else p for p in party.participants)
        loaded = replace(loaded, state="waiting", position=pos, at=now, participants=members,
                         last=("load", event.user_id, pos))
        return _settle(loaded, now)
    if isinstance(event, End):
        pos = party.position_at(now)
        return replace(party, state="ended", position=pos, at=now, last=("end", event.user_id, pos))
    raise InvalidInput(f"unknown event {event!r}")  # pragma: no cover


def acting_host(party: Party) -> int | None:
    """Who controls playback in host mode: the host, or while the host is disconnected
    (a closed tab, a lost network) the longest-present connected member."""
    host = party.member(party.host_id) if party.host_id is not None else None
    if host is not None and host.connected:
        return host.user_id
    present = [p for p in party.participants if p.connected]
    return min(present, key=lambda p: p.joined_at).user_id if present else party.host_id


def _check_control(party: Party, event: Event) -> None:
    user_id = getattr(event, "user_id", None)
    host_only = isinstance(event, (HostTransfer, SetMode, End))
    if host_only:
        allowed = user_id == party.host_id
    else:
        allowed = party.mode == "collaborative" or user_id in (party.host_id, acting_host(party))
    if not allowed:
        raise PermissionDenied("only the host can do this" if host_only
                               else "only the host controls playback in this party")


def _valid_position(party: Party, position: float) -> float:
    if not math.isfinite(position) or position < 0:
        raise InvalidInput("a seek position is a number of seconds ≥ 0")
    if party.duration is not None:
        position = min(position, party.duration)
    return float(position)


def _member(party: Party, updated: Participant) -> Party:
    return replace(party, participants=tuple(
        updated if p.user_id == updated.user_id else p for p in party.participants))


def _join(party: Party, event: Join) -> Party:
    member = party.member(event.user_id)
    if member is not None:
        return _member(party, replace(member, connected=member.connected or event.connected, name=event.name))
    joined = Participant(event.user_id, event.name, event.now, connected=event.connected)
    host = party.host_id if party.host_id is not None else event.user_id
    return replace(party, participants=(*party.participants, joined), host_id=host)


def _leave(party: Party, user_id: int, now: float) -> Party:
    rest = tuple(p for p in party.participants if p.user_id != user_id)
    host = party.host_id
    if host == user_id:  # the longest-present participant takes over
        host = min(rest, key=lambda p: p.joined_at).user_id if rest else None
    return replace(party, participants=rest, host_id=host, last=("leave", user_id, party.position_at(now)))


def _settle(party: Party, now: float) -> Party:
    """Leave ``waiting`` when nobody holds the party any more: start ``lead`` s ahead."""
    if party.state == "waiting" and not party.holding(now):
        return replace(party, state="playing", at=now + party.lead)
    return party


def check_invariants(party: Party, now: float) -> None:
    """Raise AssertionError if ``party`` is not a valid state at ``now`` (tests use it)."""
    ids = [p.user_id for p in party.participants]
    assert len(ids) == len(set(ids)), "a member twice"
    assert party.host_id is None or party.host_id in ids or party.state == "ended" or not ids, "host not a member"
    assert (party.host_id is None) == (not ids) or party.state == "ended", "members without a host"
    assert party.position >= 0 and math.isfinite(party.position), "bad position"
    assert party.duration is None or party.position <= party.duration, "position past the end"
    assert party.rate > 0, "bad rate"
    if party.state == "waiting":
        assert party.holding(now), "waiting for nobody"
        deadline = party.wait_deadline()
        assert deadline is not None and deadline > now, "waiting without an end"
    for p in party.participants:
        assert p.connected or p.buffering_since is None, "a disconnected member buffers"
