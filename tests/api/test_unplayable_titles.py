"""A title whose present files all failed their probe (garbled, cut short, not a video,
empty) cannot be played, and the JSON API says so: ``playable: false`` and the reason
(the first file's ``probe_error``) on its grid item (``/items``), in ``/movies``,
``/shows`` and on its own page. A title with one good file (a film's other version, a
show's other episode) is playable. The web grid flagged such titles; the API listed
them like any film (a client offered them and failed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helpers import UNPLAYABLE_EMPTY as EMPTY
from helpers import scan_local, unplayable_library

pytestmark = pytest.mark.requires_ffmpeg

UNPLAYABLE = {"Broken Show", "Garbled", "Hollow"}


def scanned_library(client: TestClient, root: Path, sample_mkv: Path) -> None:
    """A local source at ``root`` with good, garbled and empty files, scanned and probed."""
    unplayable_library(root, sample_mkv)
    scan_local(client, "nas", root)


def _check(titles: dict[str, dict[str, object]]) -> None:
    assert sorted(titles) == ["Broken Show", "Garbled", "Good Show", "Heat", "Hollow", "Two"], sorted(titles)
    for name, t in titles.items():
        assert t["playable"] is (name not in UNPLAYABLE), (name, t)
        if name in UNPLAYABLE:
            assert isinstance(t["unplayable_reason"], str) and t["unplayable_reason"], (name, t)
        else:
            assert t["unplayable_reason"] is None, (name, t)


def test_api_says_which_titles_cannot_be_played(client: TestClient, tmp_path: Path, sample_mkv: Path) -> None:
    scanned_library(client, tmp_path / "disk", sample_mkv)

    items = client.get("/api/library/items").json()["items"]
    _check({i["title"]: i for i in items})
    assert {i["title"]: i for i in items}["Hollow"]["unplayable_reason"] == next(
        f["probe_error"] for f in client.get("/api/library/media-files").json()["items"] if f["path"] == EMPTY)

    movies = client.get("/api/library/movies").json()["items"]
    shows = client.get("/api/library/shows").json()["items"]
    _check({t["title"]: t for t in [*movies, *shows]})

    pages = [client.get(f"/api/library/movies/{m['id']}").json() for m in movies]
    pages += [client.get(f"/api/library/shows/{s['id']}").json() for s in shows]
    _check({t["title"]: t for t in pages})
