"""The stream rows of a media file: store a probe's streams, load them for display.

A re-probe replaces a file's streams as a whole (the old rows are deleted first, so
the ``(media_file_id, index)`` key never clashes); a failed probe leaves none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.orm import Session, object_session

from reelhouse.db.limits import fit_text
from reelhouse.db.models import MediaFile, MediaStream
from reelhouse.library.probe_normalise import StreamInfo

__all__ = ["store_streams", "streams_by_file", "unprobed"]


def unprobed(mf: MediaFile) -> bool:
    """True if ``mf`` has no probe result yet: never probed (the source failed
    mid-probe), or probed before streams were stored (migration 0003: no
    ``probe_bytes`` and no ``probe_error``), so a rescan probes it once more."""
    return mf.container is None or (mf.probe_bytes is None and mf.probe_error is None)


def store_streams(mf: MediaFile, streams: Sequence[StreamInfo]) -> None:
    """Replace the stream rows of ``mf`` (a row in a session) with ``streams``."""
    session = object_session(mf)
    if mf.streams:
        mf.streams.clear()
        if session is not None:
            session.flush()  # delete before insert: (media_file_id, index) is unique
    mf.streams.extend(MediaStream(**_fitted(asdict(info))) for info in streams)


#: ``String(n)`` columns of media_streams and their n (a tag in a file can be longer:
#: a Matroska BCP 47 language such as "en-Latn-US-x-commentary"; PostgreSQL refuses a
#: longer value, docs §8.3).
_LIMITS = {c.name: c.type.length for c in MediaStream.__table__.columns
           if isinstance(c.type, String) and c.type.length}


def _fitted(values: dict[str, Any]) -> dict[str, Any]:
    for name, limit in _LIMITS.items():
        if isinstance(values.get(name), str):
            values[name] = fit_text(values[name], limit, f"a stream's {name}")
    return values


def streams_by_file(s: Session, file_ids: Iterable[int]) -> dict[int, list[MediaStream]]:
    """The streams of each file in ``file_ids``, in index order (files without any are
    absent). One query per 500 ids."""
    ids = sorted(set(file_ids))
    found: dict[int, list[MediaStream]] = {}
    for start in range(0, len(ids), 500):
        rows = s.scalars(
            select(MediaStream)
            .where(MediaStream.media_file_id.in_(ids[start : start + 500]))
            .order_by(MediaStream.media_file_id, MediaStream.index)
        )
        for row in rows:
            found.setdefault(row.media_file_id, []).append(row)
    return found
