"""The WebSocket messages of a party, version 1: JSON objects with ``v`` and ``type``.

Client → server::

    {"v": 1, "type": "ping", "t0": <client time s>}         → pong
    {"v": 1, "type": "play"} · {"type": "seek", "position": <s>}
    {"v": 1, "type": "pause", "position": <s, optional: where the party was when pressed>}
    {"v": 1, "type": "buffering"} · {"type": "ready"}
    {"v": 1, "type": "mode", "mode": "host" | "collaborative"}
    {"v": 1, "type": "host", "to": <user id>}                 hand the host role over
    {"v": 1, "type": "leave"}

Server → client::

    {"v": 1, "type": "welcome", "you": {"id", "name"}, "server": <s>, "party": PLAYBACK,
     "members": [MEMBER, ...]}                                 every member
    {"v": 1, "type": "pong", "t0": <as sent>, "server": <server time s>}
    {"v": 1, "type": "state", "party": PLAYBACK, "members": [MEMBER, ...], "gone": [<user id>, ...],
     "event": {"kind", "by", "name", "position"} | null}     only the members that changed
    {"v": 1, "type": "state", ..., "members": [MEMBER, ...], "gone": [], "full": true}
                                                              every member: replaces the list
                                                              (sent to a connection too slow
                                                              to take every change)
    {"v": 1, "type": "error", "status": <HTTP-like code>, "message": "..."}
    {"v": 1, "type": "ended", ... as "state"}
    {"v": 1, "type": "queue"}                                 the party's play queue changed
                                                              (a member or a Jellyfin app):
                                                              read it again, GET
                                                              /api/parties/{code}/queue

PLAYBACK is the authority: ``{state, position, at, rate}`` say where playback is (at
server time ``at`` s the position is ``position`` s; while ``playing`` it advances at
``rate``), plus the code, mode, host, duration, and ``version``: one more with every
change of the party, so a message is newer than another exactly when its version is
higher (messages from several server processes may reach Redis out of order; a
connection forwards only newer ones, :meth:`reelhouse.party.connection.LiveConnection.messages`).
MEMBER is ``{id, name, joined_at, connected, buffering}``; a member's status (playing · paused · waiting · idle ·
buffering · disconnected) follows from it and the party state. State messages carry
only the members that changed, so a play/pause/seek message stays small however big
the party is (benchmarks/party_fanout.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reelhouse.errors import InvalidInput
from reelhouse.party import state as st

__all__ = ["MAX_MESSAGE", "QUEUE_CHANGED", "VERSION", "ClientMessage", "dumps", "event_of", "member",
           "members_changed", "parse", "playback", "snapshot", "to_event", "whole"]

VERSION = 1
#: Largest client message accepted, bytes (every valid one is far smaller).
MAX_MESSAGE = 4096
#: The ``queue`` message, rendered: it has no party version (it says nothing of playback;
#: a connection forwards every one, :meth:`reelhouse.party.connection.LiveConnection.messages`).
QUEUE_CHANGED = '{"v":1,"type":"queue"}'
_TYPES = ("ping", "play", "pause", "seek", "buffering", "ready", "mode", "host", "leave")


@dataclass(frozen=True, slots=True)
class ClientMessage:
    type: str
    position: float | None = None
    mode: str | None = None
    to: int | None = None
    t0: float | None = None


def parse(raw: str | bytes) -> ClientMessage:
    """One client message; raises InvalidInput with a reason fit for the sender."""
    if len(raw) > MAX_MESSAGE:
        raise InvalidInput("message too large")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: "[[[[…" too deep
        raise InvalidInput("a message is a JSON object") from exc
    if not isinstance(data, dict):
        raise InvalidInput("a message is a JSON object")
    if data.get("v") != VERSION or isinstance(data.get("v"), bool):  # True == 1 in Python
        raise InvalidInput(f"unsupported protocol version {data.get('v')!r}; this server speaks v{VERSION}")
    kind = data.get("type")
    if kind not in _TYPES:
        raise InvalidInput(f"unknown message type {kind!r}")
    if kind == "ping":
        return ClientMessage("ping", t0=_number(data.get("t0", 0), "t0"))
    if kind == "seek":
        return ClientMessage("seek", position=_number(data.get("position"), "position"))
    if kind == "pause" and data.get("position") is not None:
        return ClientMessage("pause", position=_number(data.get("position"), "position"))
    if kind == "mode":
        mode = data.get("mode")
        if mode not in ("host", "collaborative"):
            raise InvalidInput("mode must be 'host' or 'collaborative'")
        return ClientMessage("mode", mode=mode)
    if kind == "host":
        to = data.get("to")
        if not isinstance(to, int) or isinstance(to, bool):
            raise InvalidInput("'to' must be a user id")
        return ClientMessage("host", to=to)
    return ClientMessage(kind)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{name!r} must be a finite number")
    try:
        number = float(value)  # an int of 400 digits (valid JSON) does not fit: OverflowError
    except OverflowError as exc:
        raise InvalidInput(f"{name!r} must be a finite number") from exc
    if not math.isfinite(number):
        raise InvalidInput(f"{name!r} must be a finite number")
    return number


def to_event(msg: ClientMessage, user_id: int) -> Callable[[float], st.Event]:
    """The state-machine event for a command from ``user_id``, as a function of server
    time; raises InvalidInput for ``ping`` (answered, not applied)."""
    match msg.type:
        case "play":
            return lambda now: st.Play(user_id, now)
        case "pause":
            at = msg.position
            return lambda now: st.Pause(user_id, now, at)
        case "seek":
            position = msg.position or 0.0
            return lambda now: st.Seek(user_id, now, position)
        case "buffering":
            return lambda now: st.Buffering(user_id, now)
        case "ready":
            return lambda now: st.Ready(user_id, now)
        case "mode":
            mode: st.Mode = "collaborative" if msg.mode == "collaborative" else "host"
            return lambda now: st.SetMode(user_id, now, mode)
        case "host":
            to = msg.to or 0
            return lambda now: st.HostTransfer(user_id, now, to)
        case "leave":
            return lambda now: st.Leave(user_id, now)
    raise InvalidInput(f"{msg.type!r} is not a command")


def _status(party: st.Party, p: st.Participant, now: float) -> str:
    if not p.connected:
        return "disconnected"
    if p.buffering_since is not None:
        return "buffering"
    return party.state


def playback(code: str, media_file_id: int, party: st.Party, version: int = 0) -> dict[str, Any]:
    """PLAYBACK of the module docstring (``version``: the stored party's)."""
    return {
        "code": code,
        "media_file_id": media_file_id,
        "state": party.state,
        "position": round(party.position, 4),
        "at": party.at,
        "rate": party.rate,
        "mode": party.mode,
        "host_id": party.host_id,
        "acting_host_id": st.acting_host(party),
        "duration": party.duration,
        "wait_timeout": party.wait_timeout,
        "version": version,
    }


def member(p: st.Participant) -> dict[str, Any]:
    """MEMBER of the module docstring."""
    return {"id": p.user_id, "name": p.name, "joined_at": p.joined_at, "connected": p.connected,
            "buffering": p.buffering_since is not None}


def members_changed(before: st.Party, after: st.Party) -> tuple[list[dict[str, Any]], list[int]]:
    """(members new or changed, ids of members gone) between two states."""
    old = {p.user_id: p for p in before.participants}
    changed = [member(p) for p in after.participants if old.get(p.user_id) != p]
    now_ids = {p.user_id for p in after.participants}
    return changed, [uid for uid in old if uid not in now_ids]


def whole(code: str, media_file_id: int, party: st.Party, event: dict[str, Any] | None,
          version: int = 0) -> dict[str, Any]:
    """A ``state`` (``ended``) message with every member and ``"full": true``: the
    client replaces its member list with it."""
    return {"type": "ended" if party.state == "ended" else "state",
            "party": playback(code, media_file_id, party, version),
            "members": [member(p) for p in party.participants], "gone": [], "event": event, "full": True}


def snapshot(code: str, media_file_id: int, party: st.Party, now: float, version: int = 0) -> dict[str, Any]:
    """The whole public state of a party (REST answers): PLAYBACK and every member with
    its ``status`` and ``host`` flag."""
    return {
        **playback(code, media_file_id, party, version),
        "participants": [
            {"id": p.user_id, "name": p.name, "joined_at": p.joined_at, "connected": p.connected,
             "buffering": p.buffering_since is not None, "status": _status(party, p, now),
             "host": p.user_id == party.host_id}
            for p in party.participants
        ],
    }


def event_of(before: st.Party, after: st.Party) -> dict[str, Any] | None:
    """What happened between two states, for toasts: ``{"kind", "by", "name", "position"}``
    (kind: play · pause · seek · buffering · host · mode · leave · end · join · left ·
    resumed), or None when nothing worth a toast did."""
    names = {p.user_id: p.name for p in (*before.participants, *after.participants)}
    if after.last is not None and after.last != before.last:
        kind, by, position = after.last
        return {"kind": kind, "by": by, "name": names.get(by, "") if by is not None else "",
                "position": round(position, 3), "mode": after.mode, "host_id": after.host_id}
    joined = {p.user_id for p in after.participants if p.connected} - \
        {p.user_id for p in before.participants if p.connected}
    if joined:
        uid = min(joined)
        return {"kind": "join", "by": uid, "name": names.get(uid, ""), "position": None}
    gone = {p.user_id for p in before.participants if p.connected} - \
        {p.user_id for p in after.participants if p.connected}
    if gone:
        uid = min(gone)
        return {"kind": "disconnect", "by": uid, "name": names.get(uid, ""), "position": None}
    if before.state == "waiting" and after.state == "playing":
        return {"kind": "resumed", "by": None, "name": "", "position": round(after.position, 3)}
    return None


def dumps(message: dict[str, Any]) -> str:
    """A server message with the protocol version added, as compact JSON text."""
    return json.dumps({"v": VERSION, **message}, separators=(",", ":"))
