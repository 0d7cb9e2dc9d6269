"""Streams at the edges: ``GET /api/library/media-files/{id}`` returns every stream of a
probed file, and the movie and show pages show stream tables (video, audio, subtitles);
damaged files show their probe error and no streams."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.server import create_app

from helpers import ADMIN, ADMIN_PASSWORD, log_in, wait_job

pytestmark = pytest.mark.requires_ffmpeg

LAYOUT = {
    "Tracks (2021)/Tracks.2021.1080p.mkv": "two_audio_subs.mkv",
    "Bright (2022)/Bright.2022.2160p.HDR.mkv": "hevc_hdr10.mkv",
    "Clip (2020)/Clip.2020.mp4": "moov_at_end.mp4",
    "Broken (2019)/Broken.2019.mkv": "truncated.mkv",
    "Show/Season 1/Show.S01E01.mkv": "two_audio_subs.mkv",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory,
          probe_clips: dict[str, Path]) -> Iterator[tuple[TestClient, dict[str, dict[str, Any]]]]:
    """One scanned library for the module: a logged-in client and the files by path."""
    base = tmp_path_factory.mktemp("streams")
    for rel, name in LAYOUT.items():
        (base / "disk" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(probe_clips[name], base / "disk" / rel)
    core = Core(load_settings(data_dir=base / "data"))
    core.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
    try:
        with TestClient(create_app(core)) as client:
            log_in(client)
            r = client.post("/api/sources", json={"name": "disk", "kind": "local",
                                                   "path": str(base / "disk")})
            assert r.status_code == 201, r.text
            job = wait_job(client, client.post(f"/api/sources/{r.json()['id']}/scan").json()["id"])
            assert job["state"] == "done", job
            items = client.get("/api/library/media-files", params={"per_page": 50}).json()["items"]
            yield client, {f["path"]: f for f in items}
    finally:
        core.close()


@pytest.fixture
def client(world: tuple[TestClient, dict[str, dict[str, Any]]]) -> TestClient:
    return world[0]


@pytest.fixture
def files(world: tuple[TestClient, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return world[1]


def test_media_file_detail_has_streams(client: TestClient, files: dict[str, dict[str, Any]]) -> None:
    listed = files["Tracks (2021)/Tracks.2021.1080p.mkv"]
    assert "streams" not in listed  # lists stay light
    r = client.get(f"/api/library/media-files/{listed['id']}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["container"] == "mkv" and body["duration"] == pytest.approx(6.0, abs=0.1)
    assert body["bitrate"] > 0 and 0 < body["probe_bytes"] <= 2 * 1024 * 1024
    streams = body["streams"]
    assert [(s["index"], s["type"], s["codec"]) for s in streams] == [
        (0, "video", "h264"), (1, "audio", "aac"), (2, "audio", "aac"), (3, "subtitle", "subrip")]
    video, eng, ger, sub = streams
    assert (video["width"], video["height"], video["fps"], video["bit_depth"], video["hdr"]) == (
        640, 360, 25.0, 8, None)
    assert (eng["language"], eng["title"], eng["channels"], eng["channel_layout"],
            eng["sample_rate"], eng["is_default"]) == ("eng", "English 5.1", 6, "5.1", 48000, True)
    assert (ger["language"], ger["title"], ger["channels"], ger["is_default"]) == (
        "ger", "Deutsch Stereo", 2, False)
    assert (sub["subtitle_format"], sub["language"], sub["is_forced"]) == ("text", "eng", True)

    hdr = client.get(f"/api/library/media-files/{files['Bright (2022)/Bright.2022.2160p.HDR.mkv']['id']}").json()
    (v,) = hdr["streams"]
    assert (v["codec"], v["profile"], v["pixel_format"], v["bit_depth"], v["color_transfer"],
            v["color_primaries"], v["hdr"]) == ("hevc", "Main 10", "yuv420p10le", 10,
                                                "smpte2084", "bt2020", "HDR10")

    broken = client.get(f"/api/library/media-files/{files['Broken (2019)/Broken.2019.mkv']['id']}").json()
    assert broken["probe_error"].startswith("damaged: the file is truncated")
    assert broken["streams"] == [] and broken["probe_bytes"] is None


def test_media_file_detail_errors(client: TestClient) -> None:
    assert client.get("/api/library/media-files/999999").status_code == 404
    assert client.get("/api/library/media-files/abc").status_code == 422
    with TestClient(client.app) as anon:  # same app, not logged in
        assert anon.get("/api/library/media-files/1").status_code == 401


def _table(html: str, kind: str) -> str:
    m = re.search(rf'<table class="streams-table streams-{kind}">(.*?)</table>', html, re.S)
    assert m is not None, f"no {kind} stream table"
    return m.group(1)


def test_movie_and_show_pages_show_stream_tables(client: TestClient,
                                                 files: dict[str, dict[str, Any]]) -> None:
    tracks = files["Tracks (2021)/Tracks.2021.1080p.mkv"]
    html = client.get(f"/movies/{tracks['movie_id']}").text
    video = _table(html, "video")
    assert "h264" in video and "640x360" in video and "8-bit" in video and "SDR" in video
    audio = _table(html, "audio")
    assert audio.count("<tr>") == 3  # header + two tracks
    assert "English 5.1" in audio and "Deutsch Stereo" in audio and "5.1" in audio
    assert "ger" in audio and "eng" in audio
    subs = _table(html, "subtitles")
    assert "text" in subs and "subrip" in subs and "forced" in subs

    bright = files["Bright (2022)/Bright.2022.2160p.HDR.mkv"]
    html = client.get(f"/movies/{bright['movie_id']}").text
    video = _table(html, "video")
    assert "hevc" in video and "Main 10" in video and "10-bit" in video and "HDR10" in video
    assert "streams-audio" not in html

    broken = files["Broken (2019)/Broken.2019.mkv"]
    html = client.get(f"/movies/{broken['movie_id']}").text
    assert "the file is truncated" in html and "streams-table" not in html

    episode = files["Show/Season 1/Show.S01E01.mkv"]
    show_id = client.get("/api/library/shows").json()["items"][0]["id"]
    html = client.get(f"/shows/{show_id}").text
    assert episode["name"] in html
    assert "Deutsch Stereo" in _table(html, "audio")


def test_player_page_shows_stream_tables(client: TestClient, files: dict[str, dict[str, Any]]) -> None:
    html = client.get(f"/play/{files['Tracks (2021)/Tracks.2021.1080p.mkv']['id']}").text
    assert "Deutsch Stereo" in _table(html, "audio") and "forced" in _table(html, "subtitles")
