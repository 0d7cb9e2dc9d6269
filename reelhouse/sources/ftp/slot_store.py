"""What a pool's shared count (:mod:`.slots`) asks of its store: the protocols that
:class:`reelhouse.leased_slots.LeasedSlots` (Redis) implements. Each method may block on
the network and raises what its client raises when the store is unreachable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["FairSlots", "SharedSlots"]


class SharedSlots(Protocol):
    """Counted slots shared by every process (:class:`reelhouse.leased_slots.LeasedSlots`).
    Each method may block on the network and raises what its client raises when the
    store is unreachable."""

    def take(self, key: str, limit: int, want: float = 0.0) -> str | None: ...

    def give_back(self, token: str) -> None: ...

    def wanted(self, key: str) -> bool: ...


class FairSlots(SharedSlots, Protocol):
    """:class:`SharedSlots` that also keep users' fair shares over the cluster
    (:meth:`reelhouse.leased_slots.LeasedSlots.take_share`: its arguments, answers
    and errors), the requests each user has queued (:meth:`~reelhouse.leased_slots.
    LeasedSlots.enqueue`), and take over what a process made while they were
    unreachable (:meth:`~reelhouse.leased_slots.LeasedSlots.adopt`,
    :meth:`~reelhouse.leased_slots.LeasedSlots.adopt_queued`), and count the pools of a
    key alive in the cluster (:meth:`~reelhouse.leased_slots.LeasedSlots.present`)."""

    def waiter(self) -> str: ...

    def take_share(self, key: str, user: str, user_limit: int, *, limit: int = 0, want: float = 0.0,
                   waiter: str = "", waited: float = 0.0, others: Sequence[tuple[str, int, float]] = (),
                   returns: Sequence[str] = ()) -> tuple[str | None, str | None, str]: ...

    def unwait(self, waiter: str) -> None: ...

    def enqueue(self, key: str, user: str, bound: int) -> str | None: ...

    def adopt(self, key: str, user: str | None) -> str: ...

    def adopt_queued(self, key: str, user: str) -> str: ...

    def present(self, key: str, token: str = "") -> tuple[str, int]: ...
