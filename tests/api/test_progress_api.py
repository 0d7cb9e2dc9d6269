"""Watch progress over the API: PUT/GET progress, watched flag, continue watching."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helpers import place, wait_job


@pytest.mark.requires_ffmpeg
def test_progress_endpoints(client: TestClient, anon: TestClient, tmp_path: Path, sample_mp4: Path) -> None:
    place(sample_mp4, tmp_path / "films", "Sintel (2010)/Sintel.2010.1080p.mp4")
    sid = client.post("/api/sources", json={"name": "disk", "kind": "local",
                                            "path": str(tmp_path / "films")}).json()["id"]
    assert wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])["state"] == "done"
    fid = client.get("/api/library/media-files").json()["items"][0]["id"]
    url = f"/api/library/media-files/{fid}/progress"

    assert client.get(url).json()["position"] == 0.0
    r = client.put(url, json={"position": 6.0})  # the 12 s clip: 50 %
    assert r.status_code == 200 and r.json()["position"] == 6.0 and not r.json()["watched"]
    assert client.get(url).json()["position"] == 6.0
    resume = client.get("/api/library/continue").json()
    assert [(i["media_file_id"], i["title"], i["percent"]) for i in resume] == [(fid, "Sintel", 50)]

    r = client.put(url, json={"position": 11.5, "duration": 12.0})
    assert r.json()["watched"] is True and r.json()["position"] == 0.0
    assert client.get("/api/library/continue").json() == []
    r = client.put(f"/api/library/media-files/{fid}/watched", json={"watched": False})
    assert r.json()["watched"] is False

    for body in ({"position": -1}, {"position": "x"}, {}, {"position": 1, "duration": 0}):
        assert client.put(url, json=body).status_code == 422
    assert client.put(url, json={"position": 500}).status_code == 400  # past the end
    assert client.put("/api/library/media-files/999/progress", json={"position": 1}).status_code == 404
    assert client.get("/api/library/media-files/999/progress").status_code == 404
    assert anon.put(url, json={"position": 1}).status_code == 401
    assert anon.get("/api/library/continue").status_code == 401
