"""Files FFmpeg cannot read (garbled, cut short, not a video at all, or empty) are
problems, not films: a user who opens one gets an error. They listed like any film. Now
the scan counts them (``unreadable``) and names each in its errors ("cannot be
played"); the library flags a title whose present files all are such ("cannot be
played" on its tile; a film with one good version and a show with one good episode are
not flagged), and the file list lists them with the reason (``probe_error``), so
someone looking for what to fix finds them. (Hiding them from the grid was tried: the
API's title lists are other engineers' ground, and a title hidden from everything is
harder to fix than a flagged one.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helpers import UNPLAYABLE_BROKEN as BROKEN
from helpers import UNPLAYABLE_EMPTY as EMPTY
from helpers import UNPLAYABLE_GOOD as GOOD
from helpers import scan_local, unplayable_library

pytestmark = pytest.mark.requires_ffmpeg

def test_unplayable_files_are_problems_not_films(client: TestClient, tmp_path: Path, sample_mkv: Path) -> None:
    root = tmp_path / "disk"
    unplayable_library(root, sample_mkv)
    _, job = scan_local(client, "nas", root)
    assert job["state"] == "done", job  # every folder listed: broken files are no failed folders
    progress = job["progress"]
    assert isinstance(progress, dict) and progress["unreadable"] == len(BROKEN) + 1, progress
    for rel in [*BROKEN, EMPTY]:  # the job's error names the first five
        assert f"{rel}: cannot be played: " in str(job["error"]), job["error"]

    page = client.get("/")
    assert page.status_code == 200
    tiles = {m.group(2): "tile-unplayable" in m.group(1)
             for m in re.finditer(r'<li class="(tile[^"]*)">.*?<h2 class="tile-title">([^<]*)</h2>', page.text, re.S)}
    assert tiles == {"Broken Show": True, "Garbled": True, "Good Show": False, "Heat": False, "Hollow": True,
                     "Two": False}, tiles
    assert page.text.count(">cannot be played</span>") == 3
    movie_id = next(i["id"] for i in client.get("/api/library/items").json()["items"] if i["title"] == "Garbled")
    detail = client.get(f"/movies/{movie_id}").text
    assert "Cannot be played" in detail and "not a readable media file" in detail, detail[:2000]

    files = {f["path"]: f for f in client.get("/api/library/media-files").json()["items"]}
    assert sorted(files) == sorted([*GOOD, *BROKEN, EMPTY])
    assert [p for p, f in sorted(files.items()) if f["probe_error"]] == sorted([*BROKEN, EMPTY])
