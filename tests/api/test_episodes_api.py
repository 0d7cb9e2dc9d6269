"""Shows as the API and the show page present them: multi-episode files, specials,
date-based episodes, multi-part films (one movie), and the job's progress counts."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from helpers import wait_job

FILES = [
    "Friends/Season 01/Friends.S01E02E03.mkv",
    "Friends/Season 01/Friends.S01E04.mkv",
    "Doctor Who (2005)/Specials/Doctor.Who.2005.S00E01.The.Christmas.Invasion.mkv",
    "The Daily Show/The.Daily.Show.2011.11.15.Someone.720p.mkv",
    "Kill Bill (2003)/Kill.Bill.Vol.1.2003.CD1.avi",
    "Kill Bill (2003)/Kill.Bill.Vol.1.2003.CD2.avi",
]


def test_shows_episodes_and_parts(tmp_path: Path, client: TestClient) -> None:
    root = tmp_path / "media"
    for rel in FILES:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"not really a video" * 10)
    sid = client.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(root)}).json()["id"]
    job = wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])
    assert job["state"] == "done"
    progress = job["progress"]
    assert isinstance(progress, dict)
    assert progress["files_seen"] == 6 and progress["added"] == 6 and progress["matched"] == 6

    items = client.get("/api/library/items").json()["items"]
    movies = [i for i in items if i["type"] == "movie"]
    assert [m["title"] for m in movies] == ["Kill Bill"]  # two parts, one movie
    shows = {i["title"]: i["id"] for i in items if i["type"] == "show"}
    assert set(shows) == {"Friends", "Doctor Who", "The Daily Show"}

    friends = client.get(f"/api/library/shows/{shows['Friends']}").json()
    eps = {(s["number"], e["number"]): e for s in friends["seasons"] for e in s["episodes"]}
    assert eps[(1, 2)]["last_number"] == 3 and eps[(1, 4)]["last_number"] is None
    page = client.get(f"/shows/{shows['Friends']}")
    assert page.status_code == 200 and "S01E02-E03" in page.text

    who = client.get(f"/api/library/shows/{shows['Doctor Who']}").json()
    assert [s["number"] for s in who["seasons"]] == [0]
    daily = client.get(f"/api/library/shows/{shows['The Daily Show']}").json()
    (ep,) = daily["seasons"][0]["episodes"]
    assert (daily["seasons"][0]["number"], ep["number"], ep["air_date"]) == (2011, 1115, "2011-11-15")
