"""A phone clip's ``Rotation`` in MediaStreams, through jellyfin-apiclient-python on a
live server: the clip is stored sideways with a display matrix (ffmpeg's ``rotate``
tag writes one), and apps size and turn the picture by ``Rotation`` (Jellyfin 10.9+:
the degrees of ffprobe's side data, which its ProbeResultNormalizer copies)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jellyfin_apiclient_python import JellyfinClient

from reelhouse.library.probe import probe
from reelhouse.sources.local import LocalSource

from helpers import place, wait_job

pytestmark = pytest.mark.requires_ffmpeg


def _ffprobe_rotation(path: Path) -> int:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_streams", "-of", "json",
                          str(path)], capture_output=True, text=True, check=True, timeout=30).stdout
    side = json.loads(out)["streams"][0].get("side_data_list", [])
    return int(next(d["rotation"] for d in side if "rotation" in d))


@pytest.fixture
def phone_clips(tmp_path: Path, sample_mp4: Path) -> dict[str, Path]:
    out = {}
    for degrees in (90, 270, 180):
        clip = tmp_path / f"rot{degrees}.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(sample_mp4), "-c", "copy",
                        "-metadata:s:v", f"rotate={degrees}", "-y", str(clip)], check=True, timeout=60)
        out[str(degrees)] = clip
    return out


def test_probe_reads_the_display_rotation(phone_clips: dict[str, Path], sample_mp4: Path) -> None:
    for clip in phone_clips.values():
        r = probe(LocalSource(clip.parent), clip.name, clip.stat().st_size)
        video = next(s for s in r.streams if s.type == "video")
        assert video.rotation == _ffprobe_rotation(clip), clip.name
    r = probe(LocalSource(sample_mp4.parent), sample_mp4.name, sample_mp4.stat().st_size)
    assert next(s for s in r.streams if s.type == "video").rotation is None


def test_media_streams_carry_rotation(jelly_admin: JellyfinClient, client: TestClient, tmp_path: Path,
                                      phone_clips: dict[str, Path], sample_mp4: Path) -> None:
    root = tmp_path / "media"
    place(phone_clips["270"], root, "Films/Holiday (2024)/Holiday.2024.mp4")
    place(sample_mp4, root, "Films/Sintel (2010)/Sintel.2010.mp4")
    sid = client.post("/api/sources", json={"name": "phone", "kind": "local", "path": str(root)}).json()["id"]
    assert wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])["state"] == "done"
    api = jelly_admin.jellyfin
    films = {f["Name"]: f for f in api.user_items(params={"Recursive": True, "IncludeItemTypes": "Movie",
                                                          "Fields": "MediaSources"})["Items"]}
    expected = _ffprobe_rotation(phone_clips["270"])
    assert expected == -90
    video = next(s for s in films["Holiday"]["MediaSources"][0]["MediaStreams"] if s["Type"] == "Video")
    assert video["Rotation"] == expected
    info = api.get_play_info(films["Holiday"]["Id"], {"DirectPlayProfiles": [
        {"Container": "mp4", "Type": "Video", "VideoCodec": "h264", "AudioCodec": "aac"}]})
    assert next(s for s in info["MediaSources"][0]["MediaStreams"] if s["Type"] == "Video")["Rotation"] == -90
    plain = next(s for s in films["Sintel"]["MediaSources"][0]["MediaStreams"] if s["Type"] == "Video")
    assert "Rotation" not in plain  # none: absent, as Jellyfin's null is left out
