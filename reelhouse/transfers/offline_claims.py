"""Who keeps which offline copy: the ``offline_claims`` rows (one per copy and user).

A copy is made once and shared; each user who asked to keep it holds a claim, and the
copy goes when its last claim does (``transfers/offline.py`` removes the copy and its
file). These functions work inside the caller's transaction and do no file I/O.

The download behind a pending copy is a transfer of the user whose claim queued it
(it counts against their ``transfer_max_open_per_user`` and shows in their transfer
list); a user who joins a pending or ready copy queues nothing. When that user lets go
(releases, is deleted or disabled) while others still claim the copy, the download is
handed to the earliest remaining claimer instead of being cancelled under them.

Keeping and letting go are atomic: each begins by locking the copy rows it reads
(:func:`lock_copies`), so a keep that lands while the last claim is released either
comes first (its claim holds the copy) or finds the copy gone and makes it again;
before, on PostgreSQL, its claim was deleted with the copy (``ON DELETE CASCADE``)
while the keep answered "kept".
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from reelhouse.db.models import OfflineClaim, OfflineCopy, Transfer, User, utcnow

__all__ = ["ClaimView", "CopyClaims", "add_claim", "claims_of", "drop_claims", "every_copy",
           "hand_over", "lock_copies", "unclaimed"]

_OPEN = ("queued", "running")


@dataclass(frozen=True, slots=True)
class ClaimView:
    """One user's claim on a copy, with the copy as it is now; ``own_download``: the
    copy's download is a transfer of this user (else of another user, or of none)."""

    copy: OfflineCopy
    claim_id: int
    user_id: int
    claimed_at: datetime
    own_download: bool


@dataclass(frozen=True, slots=True)
class CopyClaims:
    """A copy with every claim on it: ``(claim id, user id, user name, claimed at)``."""

    copy: OfflineCopy
    claims: list[tuple[int, int, str, datetime]]


def lock_copies(s: Session, where: ColumnElement[bool]) -> list[OfflineCopy]:
    """The copies matching ``where``, locked until the caller's transaction ends, by
    id (one order for every caller: no deadlock between two). Call it first in a
    fresh session, before anything is read: PostgreSQL locks the rows (``SELECT … FOR
    UPDATE``; a row deleted meanwhile is not returned, READ COMMITTED re-reads it:
    https://www.postgresql.org/docs/current/transaction-iso.html#XACT-READ-COMMITTED);
    SQLite has no row locks, so its write lock is taken at once (``BEGIN IMMEDIATE``:
    https://sqlite.org/lang_transaction.html), before the rows are read, and every
    other writer waits for the commit (up to the busy timeout)."""
    q = select(OfflineCopy).where(where).order_by(OfflineCopy.id)
    if s.get_bind().dialect.name == "sqlite":
        s.connection().exec_driver_sql("BEGIN IMMEDIATE")
        return list(s.scalars(q))
    return list(s.scalars(q.with_for_update()))


def add_claim(s: Session, copy_id: int, user_id: int) -> None:
    """Give ``user_id`` a claim on copy ``copy_id`` unless they hold one already."""
    have = s.scalar(select(OfflineClaim.id).where(OfflineClaim.copy_id == copy_id,
                                                  OfflineClaim.user_id == user_id))
    if have is None:
        s.add(OfflineClaim(copy_id=copy_id, user_id=user_id, created_at=utcnow()))


def claims_of(s: Session, user_id: int, file_ids: Collection[int] | None = None) -> list[ClaimView]:
    """``user_id``'s claims (on the copies of ``file_ids`` only, if given), oldest
    copy first."""
    q = (select(OfflineCopy, OfflineClaim.id, OfflineClaim.created_at, Transfer.user_id)
         .join(OfflineClaim, OfflineClaim.copy_id == OfflineCopy.id)
         .outerjoin(Transfer, Transfer.id == OfflineCopy.transfer_id)
         .where(OfflineClaim.user_id == user_id))
    if file_ids is not None:
        q = q.where(OfflineCopy.media_file_id.in_(list(file_ids)))
    return [ClaimView(copy, int(cid), user_id, at, owner == user_id)
            for copy, cid, at, owner in s.execute(q.order_by(OfflineCopy.id))]


def every_copy(s: Session) -> list[CopyClaims]:
    """Every copy with its claims (an admin's view), oldest first; a copy nobody claims
    (one whose owner was deleted before claims existed) has an empty list."""
    claims: dict[int, list[tuple[int, int, str, datetime]]] = {}
    rows = s.execute(select(OfflineClaim.copy_id, OfflineClaim.id, OfflineClaim.user_id, User.name,
                            OfflineClaim.created_at)
                     .join(User, User.id == OfflineClaim.user_id)
                     .order_by(OfflineClaim.created_at, OfflineClaim.id))
    for copy_id, cid, uid, name, at in rows:
        claims.setdefault(int(copy_id), []).append((int(cid), int(uid), str(name), at))
    return [CopyClaims(c, claims.get(c.id, []))
            for c in s.scalars(select(OfflineCopy).order_by(OfflineCopy.id))]


def unclaimed(s: Session, copy_ids: Iterable[int]) -> list[OfflineCopy]:
    """Those of ``copy_ids`` that no claim holds any more."""
    ids = list(copy_ids)
    if not ids:
        return []
    held = set(s.scalars(select(OfflineClaim.copy_id).where(OfflineClaim.copy_id.in_(ids))))
    return list(s.scalars(select(OfflineCopy).where(OfflineCopy.id.in_([i for i in ids if i not in held]))))


def hand_over(s: Session, copy_ids: Iterable[int], leaving: int) -> int:
    """Give the open downloads of ``copy_ids`` that belong to ``leaving`` (a user whose
    claims go, or who is disabled) to the earliest other claimer of each copy, so they
    are not cancelled under them; a copy nobody else claims keeps its download (its
    caller cancels it). Returns how many were handed over."""
    moved = 0
    for copy in s.scalars(select(OfflineCopy).where(OfflineCopy.id.in_(list(copy_ids)),
                                                    OfflineCopy.state == "pending",
                                                    OfflineCopy.transfer_id.is_not(None))):
        transfer = s.get(Transfer, copy.transfer_id)
        if transfer is None or transfer.user_id != leaving or transfer.state not in _OPEN:
            continue
        heir = s.scalar(select(OfflineClaim.user_id).where(OfflineClaim.copy_id == copy.id,
                                                           OfflineClaim.user_id != leaving)
                        .order_by(OfflineClaim.created_at, OfflineClaim.id).limit(1))
        if heir is not None:
            transfer.user_id = int(heir)
            moved += 1
    return moved


def drop_claims(s: Session, user_id: int, copy_ids: Collection[int] | None = None) -> list[int]:
    """Delete ``user_id``'s claims (on ``copy_ids`` only, if given); returns the ids of
    the copies they were on."""
    q = select(OfflineClaim.copy_id).where(OfflineClaim.user_id == user_id)
    if copy_ids is not None:
        q = q.where(OfflineClaim.copy_id.in_(list(copy_ids)))
    ids = [int(i) for i in s.scalars(q)]
    if ids:
        s.execute(delete(OfflineClaim).where(OfflineClaim.user_id == user_id,
                                             OfflineClaim.copy_id.in_(ids)))
    return ids
