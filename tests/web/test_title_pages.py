"""The movie, show and player pages show extras apart and offer the versions of a film
(issue 15): server-rendered HTML over a scanned MemorySource, no browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie, Show
from reelhouse.library.scanner import scan_source
from reelhouse.server import create_app
from reelhouse.sources.memory import MemorySource
from reelhouse.sources.registry import SourceSpec

FILES = [
    "Dune (2021)/Dune (2021) - 1080p.mkv",
    "Dune (2021)/Dune (2021) - Director's Cut.mkv",
    "Dune (2021)/Dune (2021)-trailer.mkv",
    "Dune (2021)/Deleted Scenes/Harkonnen.mkv",
    "Doctor Who (2005)/Season 1/Doctor Who S01E01.mkv",
    "Doctor Who (2005)/Featurettes/Confidential.mkv",
]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[TestClient, Core]]:
    core = Core(load_settings(data_dir=tmp_path / "data"))
    core.users.add("ann", "a long password", is_admin=False)
    sid = core.sources.create(SourceSpec(name="mem", kind="local", path=str(tmp_path))).id
    scan_source(core.sessions, sid, MemorySource({p: p.encode() for p in FILES}))
    with TestClient(create_app(core, close_core=True)) as client:
        r = client.post("/login", data={"username": "ann", "password": "a long password"}, follow_redirects=False)
        assert r.status_code == 303
        yield client, core


def _ids(core: Core) -> tuple[int, int, dict[str, int]]:
    with core.sessions() as s:
        movie = s.scalar(select(Movie.id))
        show = s.scalar(select(Show.id))
        files = {p: i for i, p in s.execute(select(MediaFile.id, MediaFile.path))}
    assert movie is not None and show is not None
    return movie, show, files


def test_movie_page_lists_versions_and_extras(site: tuple[TestClient, Core]) -> None:
    client, core = site
    movie, _, files = _ids(core)
    html = client.get(f"/movies/{movie}").text
    versions = re.findall(r'class="button[^"]*play version" href="/play/(\d+)">▶ Play ([^<]+)<', html)
    assert {(int(i), label) for i, label in versions} == {
        (files["Dune (2021)/Dune (2021) - 1080p.mkv"], "1080p"),
        (files["Dune (2021)/Dune (2021) - Director's Cut.mkv"], "Director&#39;s Cut"),
    }
    extras = html[html.index("Extras"):]
    assert "Trailer" in extras and "Deleted scene" in extras and "Harkonnen.mkv" in extras
    assert "1 file" not in html and "2 files" in html  # the extras are not files of the film


def test_player_offers_the_other_version(site: tuple[TestClient, Core]) -> None:
    client, core = site
    _, _, files = _ids(core)
    cut = files["Dune (2021)/Dune (2021) - Director's Cut.mkv"]
    html = client.get(f"/play/{files['Dune (2021)/Dune (2021) - 1080p.mkv']}").text
    assert f'href="/play/{cut}">Director&#39;s Cut</a>' in html
    trailer = client.get(f"/play/{files['Dune (2021)/Dune (2021)-trailer.mkv']}").text
    assert "Trailer · Dune (2021)-trailer.mkv" in trailer and 'aria-label="Versions"' not in trailer


def test_show_page_lists_its_extras(site: tuple[TestClient, Core]) -> None:
    client, core = site
    _, show, _ = _ids(core)
    html = client.get(f"/shows/{show}").text
    assert "Featurette" in html and "Confidential.mkv" in html
    grid = client.get("/").text
    assert grid.count("Dune") >= 1 and "Harkonnen" not in grid
