"""Watch progress: Jellyfin's 5 % / 90 % rule, saving, continue watching."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie, SourceRow
from reelhouse.errors import InvalidInput, NotFound
from reelhouse.library.progress import apply_rule


@pytest.mark.parametrize(
    ("position", "duration", "expected"),
    [
        (0, 100, (0.0, False)),
        (4.9, 100, (0.0, False)),       # under 5 %: start over
        (5, 100, (5, False)),
        (50, 100, (50, False)),
        (89.9, 100, (89.9, False)),
        (90, 100, (0.0, True)),         # 90 % and on: watched
        (100, 100, (0.0, True)),
        (42, None, (42, False)),        # duration unknown: keep the position
        (42, 0, (42, False)),
    ],
)
def test_rule(position: float, duration: float | None, expected: tuple[float, bool]) -> None:
    assert apply_rule(position, duration) == expected


def _file(core: Core, duration: float | None = 600.0) -> int:
    with core.sessions() as s:
        src = SourceRow(name="disk", kind="local", path="/tmp", tls="none", verify_tls=True)
        movie = Movie(title="Sintel", year=2010, match_key="sintel|2010")
        s.add_all([src, movie])
        s.flush()
        mf = MediaFile(source_id=src.id, path="Sintel.2010.mkv", size=1, duration=duration,
                       kind="movie", movie_id=movie.id)
        s.add(mf)
        s.commit()
        return mf.id


def test_save_get_and_continue_watching(core: Core) -> None:
    fid = _file(core)
    uid = core.users.authenticate("admin", "admin-password").id
    assert core.progress.get(uid, fid) is None
    row = core.progress.save(uid, fid, 120.0)
    assert (row.position, row.duration, row.watched) == (120.0, 600.0, False)
    items = core.progress.continue_watching(uid)
    assert [(i.title, i.subtitle, i.position, i.percent) for i in items] == [("Sintel", "2010", 120.0, 20)]
    core.progress.save(uid, fid, 580.0)  # past 90 %: watched, leaves the row
    assert core.progress.get(uid, fid).watched is True  # type: ignore[union-attr]
    assert core.progress.continue_watching(uid) == []
    core.progress.save(uid, fid, 0.0, watched=False)
    assert core.progress.get(uid, fid).watched is False  # type: ignore[union-attr]
    with core.sessions() as s:
        assert len(list(s.scalars(select(MediaFile)))) == 1


def test_progress_is_per_user(core: Core) -> None:
    fid = _file(core)
    alice = core.users.authenticate("admin", "admin-password").id
    bob = core.users.add("bob", "bob-password").id
    core.progress.save(alice, fid, 300.0)
    assert core.progress.get(bob, fid) is None
    assert core.progress.continue_watching(bob) == []


def test_bad_positions(core: Core) -> None:
    fid = _file(core)
    uid = core.users.authenticate("admin", "admin-password").id
    for bad in (-1.0, math.nan, 10_000.0):
        with pytest.raises(InvalidInput):
            core.progress.save(uid, fid, bad)
    with pytest.raises(NotFound):
        core.progress.save(uid, 999, 1.0)
