"""The audit log: logins (ok and failed), user and source changes, API keys,
transfers started — with who, from which address, and whether it succeeded.

Writing never fails the action it records: a database error is logged and dropped.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import AuditEvent, User

__all__ = ["AuditLog"]

log = logging.getLogger(__name__)


class AuditLog:
    """Append and read audit events."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.db = sessions

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
