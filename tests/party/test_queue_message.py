"""The ``queue`` message of the party socket (party/protocol.py: the play queue changed,
read it again): it carries no party version, so a connection forwards every one
among the versioned state messages (party/live.py, LiveConnection.messages); one that
a slow connection's full queue drops (party/hub.py) or that a resync drains is sent
once afterwards: a queue panel must never miss that the queue changed."""

from __future__ import annotations

import asyncio
from typing import Any

from reelhouse.errors import NotFound
from reelhouse.party import protocol
from reelhouse.party.hub import MemoryHub, PartyQueue, _put
from reelhouse.party.live import LiveConnection, PartyLive

QUEUE = protocol.QUEUE_CHANGED


def _state(version: int) -> str:
    """A rendered state message without member changes (live.render's shape)."""
    return protocol.dumps({"type": "state", "party": {"code": "ABCDEF", "version": version},
                           "members": [], "gone": [], "event": None})


class _Gone:
    """The party service of a connection whose party cannot be read afresh."""

    def get(self, code: str) -> Any:
        raise NotFound("no such party")


class _Live:
    parties = _Gone()


def _sent(queue: PartyQueue, count: int, version: int = 5) -> list[str]:
    """The first ``count`` texts a connection that has sent ``version`` forwards."""
    conn = LiveConnection(_Live(), "ABCDEF", 1, "ann", 1)  # type: ignore[arg-type]
    conn.queue, conn.version = queue, version

    async def take() -> list[str]:
        out: list[str] = []
        messages = conn.messages()
        for _ in range(count):
            out.append(await asyncio.wait_for(anext(messages), 5))
        return out

    return asyncio.run(take())


def test_the_queue_message_is_forwarded_between_versioned_states() -> None:
    queue = PartyQueue(8)
    for text in (_state(6), QUEUE, QUEUE, _state(7)):
        queue.put_nowait(text)
    assert _sent(queue, 4) == [_state(6), QUEUE, QUEUE, _state(7)]


def test_a_queue_message_a_full_queue_dropped_is_sent_again() -> None:
    queue = PartyQueue(2)
    for text in (QUEUE, _state(6), _state(7)):  # the third put drops the oldest: the queue message
        _put(queue, text)
    assert queue.lost_queue and not queue.lost_members
    assert _sent(queue, 3) == [QUEUE, _state(6), _state(7)]
    assert not queue.lost_queue


def test_a_queue_message_drained_by_a_resync_is_sent_after_it() -> None:
    """A gap in the versions reads the party afresh and skips what waits (here the party
    cannot be read: the newest waiting state goes instead); the queue message that
    waited among them still goes, after it."""
    queue = PartyQueue(8)
    for text in (_state(9), QUEUE, _state(10)):
        queue.put_nowait(text)
    assert _sent(queue, 2) == [_state(10), QUEUE]


def test_queue_changed_reaches_every_connection_of_the_party() -> None:
    async def run() -> tuple[str, bool]:
        live = PartyLive(None, None)  # type: ignore[arg-type]  # the hub only
        hub = live.hub
        assert isinstance(hub, MemoryHub)
        async with hub.subscribe("ABCDEF") as mine, hub.subscribe("OTHER1") as other:
            await live.queue_changed("ABCDEF")
            return await asyncio.wait_for(mine.get(), 5), other.empty()

    assert asyncio.run(run()) == (QUEUE, True)
