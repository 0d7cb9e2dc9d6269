"""Fixtures of the party tests: a media file row and a second and third user."""

from __future__ import annotations

import pytest

from reelhouse.core import Core
from reelhouse.db.models import MediaFile, SourceRow

USERS = {"sam": "sam-password", "alex": "alex-password"}


def add_media_file(core: Core, duration: float = 30.0) -> int:
    """A media file row (no bytes behind it: enough for the party API)."""
    with core.sessions() as s:
        src = SourceRow(name="disk", kind="local", path="/nowhere")
        s.add(src)
        s.flush()
        mf = MediaFile(source_id=src.id, path="film.mp4", size=1000, kind="movie", duration=duration)
        s.add(mf)
        s.commit()
        return mf.id


@pytest.fixture
def media_id(core: Core) -> int:
    for name, password in USERS.items():
        core.users.add(name, password)
    return add_media_file(core)
