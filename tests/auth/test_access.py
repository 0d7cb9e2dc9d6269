"""reelhouse/auth/access.py: the one rule of who sees every source (:func:`sees_all`)
and the grants of those who do not (:meth:`SourceAccess.allowed`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event

from reelhouse.auth.access import sees_all
from reelhouse.core import Core
from reelhouse.sources.registry import SourceSpec

from helpers import ADMIN


def test_sees_all_is_the_rule_allowed_keeps_and_reads_no_database(core: Core, tmp_path: Path) -> None:
    shown = core.sources.create(SourceSpec(name="disk", kind="local", path=str(tmp_path))).id
    users = {
        "admin": core.users.by_name(ADMIN),
        "restricted admin": core.users.add("chief", "chief-password", is_admin=True, restrict_sources=True),
        "plain": core.users.add("pal", "pal-password"),
        "granted": core.users.add("ann", "ann-password", restrict_sources=True, sources=[shown]),
        "nothing": core.users.add("bob", "bob-password", restrict_sources=True),
    }
    statements: list[str] = []

    @event.listens_for(core.engine, "before_cursor_execute")
    def _count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    try:
        seen = {name: sees_all(user) for name, user in users.items()}
        assert statements == []  # the cheap test: the user row only
        assert seen == {"admin": True, "restricted admin": True, "plain": True, "granted": False, "nothing": False}
        assert {name: core.access.allowed(user) for name, user in users.items()} == {
            "admin": None, "restricted admin": None, "plain": None, "granted": {shown}, "nothing": set()}
    finally:
        event.remove(core.engine, "before_cursor_execute", _count)
