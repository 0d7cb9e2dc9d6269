"""The audit log: logins (ok and failed), user and source changes, API keys,
transfers started — with who, from which address, and whether it succeeded.

Writing never fails the action it records: a database error is logged and dropped.
Events older than ``retention_days`` are deleted when the log opens and every
``PRUNE_EVERY`` writes after that, so a client that keeps failing logins from many
addresses cannot grow the table without bound.
"""

from __future__ import annotations

import itertools
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import AuditEvent, User
from reelhouse.db.models.base import utcnow

__all__ = ["AuditLog"]

log = logging.getLogger(__name__)


class AuditLog:
    """Append and read audit events; keep those of the last ``retention_days`` days
    (0: keep every event)."""

    PRUNE_EVERY = 1000

    def __init__(self, sessions: sessionmaker[Session], retention_days: int = 0) -> None:
        self.db = sessions
        self.retention_days = retention_days
        self._writes = itertools.count(1)
        self.prune()

    def prune(self, now: datetime | None = None) -> int:
        """Delete the events older than the retention; returns how many went. A
        database error is logged and gives 0."""
        if self.retention_days <= 0:
            return 0
        cutoff = (now or utcnow()) - timedelta(days=self.retention_days)
        try:
            with self.db() as s:
                result: CursorResult[Any] = s.execute(delete(AuditEvent).where(AuditEvent.at < cutoff))  # type: ignore[assignment]
                gone = result.rowcount
                s.commit()
        except SQLAlchemyError:
            log.exception("audit: could not prune")
            return 0
        return int(gone or 0)

    def record(self, action: str, *, user: User | None = None, user_name: str = "",
               target: str = "", address: str = "", ok: bool = True) -> None:
        """Append one event. ``action`` is a dotted verb (``login``, ``user.update``);
        ``target`` names what it acted on (``user:3``, ``source:2``, free text)."""
        event = AuditEvent(action=action[:48], target=target[:1000], address=address[:64], ok=ok,
                           user_id=user.id if user is not None else None,
                           user_name=(user.name if user is not None else user_name)[:64])
        try:
            with self.db() as s:
                s.add(event)
                s.commit()
        except SQLAlchemyError:
            log.exception("audit: could not record %s", action)
        if next(self._writes) % self.PRUNE_EVERY == 0:
            self.prune()

    def recent(self, limit: int = 200, before_id: int | None = None, action: str | None = None,
               user_id: int | None = None) -> list[AuditEvent]:
        """Events newest first; ``before_id`` pages back, ``action`` matches a prefix
        (``user`` matches ``user.update``)."""
        with self.db() as s:
            q = select(AuditEvent)
            if before_id is not None:
                q = q.where(AuditEvent.id < before_id)
            if action:
                q = q.where((AuditEvent.action == action) | AuditEvent.action.startswith(action + "."))
            if user_id is not None:
                q = q.where(AuditEvent.user_id == user_id)
            return list(s.scalars(q.order_by(AuditEvent.id.desc()).limit(max(1, min(limit, 1000)))))

    def since(self, when: datetime) -> list[AuditEvent]:
        with self.db() as s:
            return list(s.scalars(select(AuditEvent).where(AuditEvent.at >= when).order_by(AuditEvent.id)))
