"""get_row (db/lookup.py): the row by id, or NotFound naming what was asked for; an id
outside the Integer range is NotFound on SQLite as on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from reelhouse.db.engine import make_engine
from reelhouse.db.limits import INT_MAX, INT_MIN
from reelhouse.db.lookup import get_row
from reelhouse.db.models import Job
from reelhouse.db.models.base import Base
from reelhouse.errors import NotFound


def test_get_row_finds_the_row_or_names_what_is_missing(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add(Job(id=7, kind="scan"))
        s.commit()
        assert get_row(s, Job, 7, "job").kind == "scan"
        for missing in (8, 0, -1, INT_MAX, INT_MIN, INT_MAX + 1, INT_MIN - 1, 2**63):
            with pytest.raises(NotFound, match=rf"^no job with id {missing}$"):
                get_row(s, Job, missing, "job")
    engine.dispose()
