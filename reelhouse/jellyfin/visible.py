"""Which media files list a title in the Jellyfin API, for one user: the conditions
that the Items, Latest, Resume and NextUp lists and every count beside them (genres,
years, a series' seasons and episodes) share, so that a count is what the lists show.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_

from reelhouse.db.models import MediaFile

__all__ = ["granted_files", "playable_file", "visible_file"]


def playable_file() -> ColumnElement[bool]:
    """A file that lists a title: still on its source and its probe did not fail (a
    file not probed yet counts). A title whose present files all failed their probe
    (garbled, cut short, not a video, empty) is no item of the Items, Latest, Resume
    or NextUp lists, and counts in no genre, year or series: a Jellyfin app would offer
    it and fail to play it; the web grid flags it instead
    (``reelhouse.library.queries.unplayable_reasons``)."""
    return and_(MediaFile.missing_since.is_(None), MediaFile.probe_error.is_(None))


def granted_files(sources: frozenset[int]) -> ColumnElement[bool]:
    """``media_files.source_id IN (sources)`` written ``source_id + 0 IN …`` so that
    no index on ``source_id`` serves it: inside an EXISTS per title SQLite otherwise
    walks ``ix_media_files_source_id`` (every file of the source, per title: 22.7 s to
    count 20,000 films for a restricted user) instead of the title's own file index
    (9 ms). The "+ 0" is SQLite's documented way to keep a term off an index
    (sqlite.org/optoverview.html, "Disqualifying WHERE clause terms")."""
    return (MediaFile.source_id + 0).in_(sorted(sources))


def visible_file(sources: frozenset[int] | None) -> ColumnElement[bool]:
    """A playable file (:func:`playable_file`) on a source of ``sources`` (the user's
    grants; None: any source)."""
    return playable_file() if sources is None else and_(playable_file(), granted_files(sources))
