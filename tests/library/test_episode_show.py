"""``media_files.show_id`` of an episode file is its episode's season's show
(reelhouse/db/episode_show.py, migration 0024a), whoever wrote the file: real scans of a
folder on disk (the batched first insert, a changed file, a moved file, a file moved
to another show, an episode renamed to an extra), a title fixed by hand and rescanned,
files placed again by newer naming rules, seasons and episodes moved to another show
by the ORM, an episode deleted, files gone and a source removed — on SQLite and
PostgreSQL. Extras keep the show they are an extra of."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from reelhouse.core import Core
from reelhouse.db.models import Episode, MediaFile, Season, Show
from reelhouse.library.scanner import scan_source
from reelhouse.sources.registry import SourceSpec

from helpers import ENGINES, core_on

FILES = [
    "Doctor Who (2005)/Season 1/Doctor Who S01E01.mkv",
    "Doctor Who (2005)/Season 1/Doctor Who S01E02.mkv",
    "Doctor Who (2005)/Season 2/Doctor Who S02E01.mkv",
    "Doctor Who (2005)/Extras/Confidential.mkv",
    "Doctor Who (2005)/Season 1/Doctor Who S01E01-trailer.mkv",
    "Dark (2017)/Season 1/Dark S01E01.mkv",
    "Dark (2017)/Season 1/Dark S01E02.mkv",
    "Fargo [tvdbid-269613]/Season 1/Fargo S01E01.mkv",  # a provider id: placed one by one
    "Heat (1995)/Heat (1995).mkv",
    "Heat (1995)/Trailers/Teaser.mkv",
]


def _write(root: Path, rel: str, content: str | None = None) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((content or rel).encode() * 64)  # sizes and contents differ: moves are found


@pytest.fixture(params=ENGINES)
def lib(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Core, int, Path]]:
    root = tmp_path / "media"
    for rel in FILES:
        _write(root, rel)
    with core_on(request.param, tmp_path / "data", "rh_epshow") as core:
        sid = core.sources.create(SourceSpec(name="disk", kind="local", path=str(root))).id
        yield core, sid, root


def _scan(core: Core, sid: int) -> None:
    scan_source(core.sessions, sid, core.sources.source(sid))


def _checked(core: Core) -> dict[str, tuple[str, int | None]]:
    """Assert the invariant for every file; returns path → (kind, show_id)."""
    out: dict[str, tuple[str, int | None]] = {}
    with core.sessions() as s:
        rows = s.execute(select(MediaFile.path, MediaFile.kind, MediaFile.episode_id, MediaFile.show_id,
                                Season.show_id).outerjoin(Episode, Episode.id == MediaFile.episode_id)
                         .outerjoin(Season, Season.id == Episode.season_id)).all()
        titles = {i: title for i, title in s.execute(select(Show.id, Show.title))}
    for path, kind, episode_id, show_id, season_show in rows:
        if episode_id is not None:
            assert show_id == season_show and show_id is not None, (path, show_id, season_show)
        elif kind == "extra":  # an extra of a show names a show there is, of a film none
            assert show_id is None or show_id in titles, (path, show_id, titles)
        else:
            assert show_id is None, (path, kind, show_id)
        out[path] = (kind, show_id)
    return out


def _show(core: Core, title: str) -> int:
    with core.sessions() as s:
        return s.scalars(select(Show.id).where(Show.title == title)).one()


def test_scans_keep_each_episode_files_show(lib: tuple[Core, int, Path]) -> None:
    core, sid, root = lib
    _scan(core, sid)
    first = _checked(core)
    who, dark = _show(core, "Doctor Who"), _show(core, "Dark")
    assert first["Dark (2017)/Season 1/Dark S01E01.mkv"] == ("episode", dark)
    assert first["Doctor Who (2005)/Extras/Confidential.mkv"] == ("extra", who)
    assert first["Heat (1995)/Trailers/Teaser.mkv"] == ("extra", None)
    extras = {p: v for p, v in first.items() if v[0] == "extra"}

    # a changed file, a moved one, one moved to another show, an episode renamed to an extra
    _write(root, "Doctor Who (2005)/Season 2/Doctor Who S02E01.mkv", "changed")
    (root / "Dark (2017)/Season 1/Dark S01E02.mkv").rename(root / "Dark (2017)/Season 1/Dark S01E03.mkv")
    (root / "Doctor Who (2005)/Season 3").mkdir()
    (root / "Dark (2017)/Season 1/Dark S01E01.mkv").rename(root / "Doctor Who (2005)/Season 3/Doctor Who S03E01.mkv")
    (root / "Doctor Who (2005)/Season 1/Doctor Who S01E02.mkv").rename(
        root / "Doctor Who (2005)/Extras/Doctor Who S01E02 outtakes.mkv")
    _write(root, "Dark (2017)/Season 2/Dark S02E01.mkv")
    _scan(core, sid)
    now = _checked(core)
    # a moved file's row follows it with its links (library/scan_index.py), until placed again
    assert now["Doctor Who (2005)/Season 3/Doctor Who S03E01.mkv"] == ("episode", dark)
    assert now["Dark (2017)/Season 1/Dark S01E03.mkv"] == ("episode", dark)
    assert now["Doctor Who (2005)/Extras/Doctor Who S01E02 outtakes.mkv"] == ("episode", who)
    assert now["Dark (2017)/Season 2/Dark S02E01.mkv"] == ("episode", dark)
    assert {p: v for p, v in now.items() if p in extras} == extras

    # a title fixed by hand (locked), rescanned; then every file placed again by newer rules
    core.metadata.edit("show", who, "The Doctor", 2005)
    _write(root, "Doctor Who (2005)/Season 1/Doctor Who S01E03.mkv")
    _scan(core, sid)
    assert _checked(core)["Doctor Who (2005)/Season 1/Doctor Who S01E03.mkv"] == ("episode", who)
    with core.sessions() as s:
        s.execute(update(MediaFile).values(naming_version=0))
        s.commit()
    _scan(core, sid)
    now = _checked(core)  # the moved ones where their paths say now: another show, an extra
    assert now["Doctor Who (2005)/Season 3/Doctor Who S03E01.mkv"] == ("episode", who)
    assert now["Doctor Who (2005)/Extras/Doctor Who S01E02 outtakes.mkv"] == ("extra", who)
    assert {p: v for p, v in now.items() if p in extras} == extras

    # the files gone from disk, then the source itself
    (root / "Dark (2017)/Season 2/Dark S02E01.mkv").unlink()
    _scan(core, sid)
    _checked(core)
    core.sources.remove(sid)
    assert _checked(core) == {}


def test_orm_moves_of_seasons_and_episodes_carry_their_files(lib: tuple[Core, int, Path]) -> None:
    core, sid, _ = lib
    _scan(core, sid)
    who, dark = _show(core, "Doctor Who"), _show(core, "Dark")
    with core.sessions() as s:  # Doctor Who's season 2 becomes Dark's
        season = s.scalars(select(Season).where(Season.show_id == who, Season.number == 2)).one()
        season.show_id = dark
        s.commit()
    assert _checked(core)["Doctor Who (2005)/Season 2/Doctor Who S02E01.mkv"] == ("episode", dark)
    with core.sessions() as s:  # Dark's S01E02 goes to Doctor Who's season 1
        ep = s.scalars(select(Episode).join(Season).where(Season.show_id == dark, Season.number == 1,
                                                           Episode.number == 2)).one()
        ep.season_id = s.scalars(select(Season.id).where(Season.show_id == who, Season.number == 1)).one()
        ep.number = 9
        s.commit()
    assert _checked(core)["Dark (2017)/Season 1/Dark S01E02.mkv"] == ("episode", who)
    with core.sessions() as s:  # a file pointed at another episode, and one unlinked, by the ORM
        one, two = (s.scalars(select(MediaFile).where(MediaFile.path == p)).one() for p in (
            "Dark (2017)/Season 1/Dark S01E01.mkv", "Fargo [tvdbid-269613]/Season 1/Fargo S01E01.mkv"))
        one.episode_id, two.episode_id = two.episode_id, None
        s.commit()
    files = _checked(core)
    assert files["Dark (2017)/Season 1/Dark S01E01.mkv"] == ("episode", _show(core, "Fargo"))
    assert files["Fargo [tvdbid-269613]/Season 1/Fargo S01E01.mkv"] == ("episode", None)
    with core.sessions() as s:  # Fargo's episode deleted by the ORM: its file is unlinked
        ep = s.scalars(select(Episode).join(Season).where(Season.show_id == _show(core, "Fargo"))).one()
        assert [f.path for f in ep.files] == ["Dark (2017)/Season 1/Dark S01E01.mkv"]
        s.delete(ep)
        s.commit()
    assert _checked(core)["Dark (2017)/Season 1/Dark S01E01.mkv"] == ("episode", None)
    _scan(core, sid)  # a rescan of the unchanged files
    _checked(core)
