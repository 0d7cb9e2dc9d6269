"""Helpers of the party tests: the extra users and a media file row."""

from __future__ import annotations

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
