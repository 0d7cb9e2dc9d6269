"""The Alembic migrations build exactly the schema the models describe, and run down
and up again (SQLite; test_postgres.py does the upgrade on PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from reelhouse.db import title_index
from reelhouse.db.engine import make_engine
from reelhouse.db.migrate import upgrade
from reelhouse.db.models import Base


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            # the title search's trigram index (FTS5 tables, triggers) is not in the models
            ctx = MigrationContext.configure(conn, opts={
                "compare_type": False, "render_as_batch": True,
                "include_name": lambda name, *_: not title_index.is_index_object(name)})
            return list(compare_metadata(ctx, Base.metadata))
    finally:
        engine.dispose()


def test_migrations_match_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    assert _diff(url) == []


def test_downgrade_to_base_and_up_again(tmp_path: Path) -> None:
    from alembic import command

    from reelhouse.db.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
        command.upgrade(cfg, "head")
    engine.dispose()
    assert _diff(url) == []
