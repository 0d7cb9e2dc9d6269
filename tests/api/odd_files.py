"""What the odd-media API tests (test_odd_media.py, test_odd_media_more.py,
test_media_variety.py, test_empty_segments.py) share: Chromium's capabilities for the
web player's plan, jellyfin-web's device profile in Chromium and its login, ffmpeg to
make the films, and a scanned library of them (:func:`films_world`)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jellyfin.support import AUTH as JF_AUTH

from helpers import ADMIN, ADMIN_PASSWORD, scanned_local

#: the marks of a module that makes films with ffmpeg and reads them with ffprobe
NEEDS_FFMPEG = [
    pytest.mark.requires_ffmpeg,
    pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is missing"),
]
#: what the web player in Chromium says it plays (``POST …/playback/plan``)
CHROMIUM_CAPS = {"containers": ["mp4", "webm"], "video": ["h264", "vp8", "vp9", "av1"],
                 "audio": ["aac", "mp3", "opus", "vorbis", "flac"]}


def chrome_profile(video: str, audio: str) -> dict[str, Any]:
    """What jellyfin-web in Chromium sends to PlaybackInfo (abridged): MP4 with the
    ``video`` and ``audio`` codecs (comma-separated Jellyfin names) plays directly, the
    rest through HLS (H.264/AAC in MPEG-TS)."""
    return {"DeviceProfile": {
        "DirectPlayProfiles": [{"Container": "mp4,m4v", "Type": "Video", "VideoCodec": video,
                                "AudioCodec": audio}],
        "TranscodingProfiles": [{"Container": "ts", "Type": "Video", "VideoCodec": "h264",
                                 "AudioCodec": "aac", "Protocol": "hls", "Context": "Streaming"}]}}


def lavfi(seconds: int) -> tuple[list[str], list[str]]:
    """ffmpeg's inputs of a ``seconds`` long 160x90, 25 fps test picture and of a 440 Hz
    tone at 48 kHz as long."""
    return (["-f", "lavfi", "-i", f"testsrc2=size=160x90:rate=25:duration={seconds}"],
            ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"])


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly, overwriting its output; raises CalledProcessError on failure."""
    subprocess.run(["ffmpeg", "-y", "-v", "error", *args], check=True, timeout=120)


def film_paths(root: Path, files: dict[str, str]) -> dict[str, str]:
    """``files`` (key → path relative to ``root``) as absolute paths, their folders made."""
    for rel in files.values():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
    return {k: str(root / rel) for k, rel in files.items()}


@contextmanager
def films_world(factory: pytest.TempPathFactory, name: str, files: dict[str, str],
                make: Callable[[Path, dict[str, str]], None]) -> Iterator[tuple[TestClient, dict[str, int]]]:
    """The films of ``files`` (key → path under a new folder ``name``) made by
    ``make(root, paths)`` (:func:`film_paths`' absolute paths), scanned as a local
    source with quick HLS (x264 ultrafast, 2 s segments): yields the admin's client
    and the media file id of each film found, by key."""
    root = factory.mktemp(name)
    make(root, film_paths(root, files))
    with scanned_local(factory.mktemp(f"{name}-data"), root, hls_preset="ultrafast",
                       hls_segment_seconds=2) as (_core, client, by_path):
        yield client, {k: by_path[rel] for k, rel in files.items() if rel in by_path}


def plan_of(client: TestClient, file_id: int, caps: dict[str, list[str]] = CHROMIUM_CAPS) -> dict[str, Any]:
    """The web player's playback plan of media file ``file_id`` for ``caps`` (asserts 200)."""
    r = client.post(f"/api/library/media-files/{file_id}/playback/plan", json=caps)
    assert r.status_code == 200, r.text
    return dict(r.json())


def jf_token(client: TestClient) -> str:
    """The admin's Jellyfin access token (AuthenticateByName, asserts 200)."""
    r = client.post("/jellyfin/Users/AuthenticateByName", json={"Username": ADMIN, "Pw": ADMIN_PASSWORD},
                    headers={"authorization": JF_AUTH + ', Token=""'})
    assert r.status_code == 200, r.text
    return str(r.json()["AccessToken"])


def jf_item(client: TestClient, token: str, name: str) -> dict[str, Any]:
    """The first item of the Jellyfin library whose name starts with ``name``."""
    items = client.get("/jellyfin/Items", params={"Recursive": "true", "api_key": token},
                       headers={"authorization": ""}).json()["Items"]
    return dict(next(i for i in items if i["Name"].startswith(name)))
