"""Files FFmpeg cannot read (garbled, cut short, not a video at all, or empty) are no
films: a user who opens one gets an error, so the library grid does not show a title
whose only files are such (a film with one good version and one broken stays, a show
with one good episode stays), the scan counts them (``unreadable``) and names each in
its errors, and the file list still lists them with the reason (``probe_error``), so
nothing is hidden from someone looking for what to fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helpers import place, wait_job

pytestmark = pytest.mark.requires_ffmpeg

GOOD = ["Films/Heat (1995)/Heat (1995).mkv", "Films/Two (2005)/Two.2005.mkv",
        "Shows/Good Show/Season 01/Good.Show.S01E01.mkv"]
BROKEN = ["Films/Garbled (2001)/Garbled.2001.mkv", "Films/Two (2005)/Two.2005.1080p.mkv",
          "Shows/Broken Show/Season 01/Broken.Show.S01E01.mkv", "Shows/Good Show/Season 01/Good.Show.S01E02.mkv"]
EMPTY = "Films/Hollow (2002)/Hollow.2002.mkv"


def test_unplayable_files_are_problems_not_films(client: TestClient, tmp_path: Path, sample_mkv: Path) -> None:
    root = tmp_path / "disk"
    for rel in GOOD:
        place(sample_mkv, root, rel)
    for rel in BROKEN:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(os.urandom(150_000))
    (root / EMPTY).parent.mkdir(parents=True, exist_ok=True)
    (root / EMPTY).write_bytes(b"")
    sid = client.post("/api/sources", json={"name": "nas", "kind": "local", "path": str(root)}).json()["id"]
    job = wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])
    assert job["state"] == "done", job  # every folder listed: broken files are no failed folders
    progress = job["progress"]
    assert isinstance(progress, dict) and progress["unreadable"] == len(BROKEN) + 1, progress
    for rel in [*BROKEN, EMPTY]:  # the job's error names the first five
        assert f"{rel}: cannot be played: " in str(job["error"]), job["error"]

    items = client.get("/api/library/items").json()["items"]
    assert [(i["type"], i["title"]) for i in items] == [("show", "Good Show"), ("movie", "Heat"), ("movie", "Two")]
    assert [m["title"] for m in client.get("/api/library/movies").json()["items"]] == ["Heat", "Two"]
    assert [s["title"] for s in client.get("/api/library/shows").json()["items"]] == ["Good Show"]
    assert client.get("/api/library/items", params={"q": "garbled"}).json()["items"] == []

    files = {f["path"]: f for f in client.get("/api/library/media-files").json()["items"]}
    assert sorted(files) == sorted([*GOOD, *BROKEN, EMPTY])
    assert [p for p, f in sorted(files.items()) if f["probe_error"]] == sorted([*BROKEN, EMPTY])
