"""The events of the watch-party state machine (:mod:`reelhouse.party.state`): what a
member does (join, play, seek, buffer …), time passing (:class:`Tick`) and the server
ending a party (:class:`Close`). Frozen dataclasses; ``now`` is seconds on the server
clock. Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "COMMANDS",
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
    "Pause",
    "Play",
    "Ready",
    "Seek",
    "SetMode",
    "Stop",
    "Tick",
]

#: Who controls playback: the host only, or every member.
Mode = Literal["host", "collaborative"]


@dataclass(frozen=True, slots=True)
class Join:
    """``connected``: the member has a live connection (False: joined over REST)."""

    user_id: int
    name: str
    now: float
    connected: bool = True


@dataclass(frozen=True, slots=True)
class Leave:
    user_id: int
    now: float


@dataclass(frozen=True, slots=True)
class Disconnect:
    user_id: int
    now: float


@dataclass(frozen=True, slots=True)
class Play:
    user_id: int
    now: float


@dataclass(frozen=True, slots=True)
class Pause:
    """``position`` (s): where the party was, by the sender's clock, when it pressed
    pause; used when it is at most ``PAUSE_LAG`` s from the running position (the
    message took that long to come), else the running position is."""

    user_id: int
    now: float
    position: float | None = None


@dataclass(frozen=True, slots=True)
class Seek:
    user_id: int
    now: float
    position: float


@dataclass(frozen=True, slots=True)
class Buffering:
    """``holds``: the party waits for this member (False: it has held the party long
    enough lately, see ``live``; it is shown buffering and the others play on)."""

    user_id: int
    now: float
    holds: bool = True


@dataclass(frozen=True, slots=True)
class Ready:
    user_id: int
    now: float


@dataclass(frozen=True, slots=True)
class HostTransfer:
    user_id: int
    now: float
    to_user_id: int


@dataclass(frozen=True, slots=True)
class SetMode:
    user_id: int
    now: float
    mode: Mode


@dataclass(frozen=True, slots=True)
class Tick:
    now: float


@dataclass(frozen=True, slots=True)
class End:
    user_id: int
    now: float


@dataclass(frozen=True, slots=True)
class Stop:
    user_id: int
    now: float


@dataclass(frozen=True, slots=True)
class Load:
    """Another file from ``position`` (s); ``duration`` (s): the new file's, None if unknown."""

    user_id: int
    now: float
    position: float = 0.0
    duration: float | None = None


@dataclass(frozen=True, slots=True)
class Close:
    """The server ends the party, whoever is in it: the source of its film is being
    removed (an admin's act, not a member's: no member or host check)."""

    now: float


Event = Join | Leave | Disconnect | Play | Pause | Seek | Buffering | Ready | HostTransfer | SetMode | Tick | End \
    | Stop | Load | Close

#: Events that control playback: refused from a non-host in host mode.
COMMANDS = (Play, Pause, Seek, Stop, Load)
