"""``Videos/{id}/stream.{container}?static=false`` as jellyfin-apiclient-python builds its
URLs (with ``api_key``), read by ffprobe, a real player's demuxer: a container or
codecs the file is not in get a stream ffmpeg writes for the client (remuxed, or
transcoded to H.264/AAC at the size asked for), as Jellyfin's VideosController answers;
a video transcode counts against the user's HLS encoder limit (503 past it)."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from jellyfin.support import Library
from jellyfin.test_sdk_calls import sdk
from jellyfin_apiclient_python import JellyfinClient
from sqlalchemy import select

from reelhouse.core import Core
from reelhouse.db.models import User
from reelhouse.demo.media import make_clip

from helpers import ADMIN, scan_local

pytestmark = [pytest.mark.requires_ffmpeg, pytest.mark.requires_node, pytest.mark.usefixtures("jellyfin_sdk")]


def _items(server: str) -> dict[str, Any]:
    got = sdk(server, ("items", "getItems", {"userId": "$userId", "recursive": True,
                                             "includeItemTypes": ["Movie"]}))
    return {i["Name"]: i["Id"] for i in got[0][1]["Items"]}


def _admin(core: Core) -> int | None:
    with core.sessions() as s:
        return s.scalar(select(User.id).where(User.name == ADMIN))


def _probe(url: str) -> dict[str, Any]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                          "format=format_name:stream=codec_type,codec_name,width,height,channels",
                          "-of", "json", url], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got: dict[str, Any] = json.loads(out.stdout)
    return got


def test_static_false_streams_what_the_client_asks_for(server: str, library: Library,
                                                       jelly_admin: JellyfinClient) -> None:
    films = _items(server)

    def url(film: str, container: str, **params: object) -> str:
        built: str = jelly_admin.jellyfin._get_url(f"Videos/{films[film]}/stream.{container}", params)
        return built

    # an MKV asked for as MP4 with its own codecs: remuxed (fragmented MP4)
    mp4 = _probe(url("Big Buck Bunny", "mp4", static="false", VideoCodec="h264", AudioCodec="aac"))
    assert "mp4" in mp4["format"]["format_name"]
    assert [(s["codec_type"], s["codec_name"]) for s in mp4["streams"]] == [("video", "h264"), ("audio", "aac")]
    # the same container with the second audio track (German, stereo: the default is 5.1)
    mkv = _probe(url("Big Buck Bunny", "mkv", static="false", AudioStreamIndex=2))
    assert "matroska" in mkv["format"]["format_name"]
    assert [s.get("channels") for s in mkv["streams"] if s["codec_type"] == "audio"] == [2]
    # smaller than the file: transcoded to H.264 in MPEG-TS
    ts = _probe(url("Sintel", "ts", static="false", VideoCodec="h264", AudioCodec="aac", MaxHeight=120))
    assert ts["format"]["format_name"] == "mpegts"
    assert [(s["codec_name"], s.get("height")) for s in ts["streams"] if s["codec_type"] == "video"] \
        == [("h264", 120)]
    with httpx.Client(timeout=60) as http:
        # static=true, or what the file already is: the file itself, with Range
        for params in ({"static": "true"}, {"static": "false", "VideoCodec": "h264"}):
            r = http.get(url("Big Buck Bunny", "mkv", **params), headers={"range": "bytes=0-3"})
            assert r.status_code == 206 and r.content == b"\x1a\x45\xdf\xa3", params
        # what reelhouse does not write: a clear 400
        for container, params in (("webm", {}), ("mp4", {"VideoCodec": "vp9"}), ("mp4", {"AudioCodec": "opus,mp3"})):
            r = http.get(url("Big Buck Bunny", container, static="false", **params))
            assert r.status_code == 400 and r.json()["detail"], (container, params, r.text)


def test_a_progressive_transcode_counts_against_the_user_limit(server: str, core: Core, library: Library,
                                                               jelly_admin: JellyfinClient) -> None:
    """With one transcode per user, a stream while another transcode of the user runs
    is a 503 (as an HLS encoder past the limit); a finished stream gives its slot
    back, so the next one plays."""
    core.hls.encoders.max_per_user = 1
    admin = _admin(core)
    url = jelly_admin.jellyfin._get_url(f"Videos/{_items(server)['Sintel']}/stream.mp4",
                                        {"static": "false", "VideoCodec": "h264", "MaxHeight": 120})
    release = core.hls.encoders.hold(f"user:{admin}")  # another transcode of the user, running
    with httpx.Client(timeout=60) as http:
        busy = http.get(url)
        assert busy.status_code == 503 and "hls_max_encoders_per_user" in busy.json()["detail"], busy.text
        release()
        for _ in range(2):
            r = http.get(url)
            assert r.status_code == 200 and r.headers["content-type"] == "video/mp4" and r.content[4:8] == b"ftyp"


def test_a_client_that_leaves_frees_its_transcode(server: str, core: Core, client: TestClient, tmp_path: Path,
                                                   jelly_admin: JellyfinClient) -> None:
    """A transcode holds the user's slot while its client reads (a second one is a
    503), and a client that leaves mid-stream ends its ffmpeg and frees the slot."""
    root = tmp_path / "long"
    make_clip(root / "Films/Long Take (2020)/Long.Take.2020.mp4", seconds=180, width=320, height=240)
    scan_local(client, "long", root)
    core.hls.encoders.max_per_user = 1
    url = jelly_admin.jellyfin._get_url(f"Videos/{_items(server)['Long Take']}/stream.mkv",
                                        {"static": "false", "VideoCodec": "h264", "MaxHeight": 200,
                                         "VideoBitRate": 8_000_000})
    with httpx.Client(timeout=60) as http:
        with http.stream("GET", url) as first:  # 180 s at 8 Mbit/s: far more than socket buffers hold
            assert first.status_code == 200 and first.headers["content-type"] == "video/x-matroska"
            chunks = first.iter_bytes()  # kept: a generator dropped closes the response
            assert next(chunks)
            busy = http.get(url)
            assert busy.status_code == 503, busy.status_code
        deadline = time.monotonic() + 60
        while core.hls.encoders._held[f"user:{_admin(core)}"] and time.monotonic() < deadline:
            time.sleep(0.1)  # the server sees the client gone, kills ffmpeg, gives the slot back
        assert not core.hls.encoders._held[f"user:{_admin(core)}"]
        with http.stream("GET", url) as again:
            assert again.status_code == 200


def test_a_client_that_stops_reading_frees_its_transcode(server: str, core: Core, client: TestClient,
                                                          tmp_path: Path, jelly_admin: JellyfinClient) -> None:
    """A client that keeps its connection but reads nothing (a paused app, a hostile
    friend) is cut off after ``stream_send_timeout``: its ffmpeg ends and the user's
    transcode slot is free again, as for a direct stream."""
    root = tmp_path / "stall"
    make_clip(root / "Films/Still Water (2021)/Still.Water.2021.mp4", seconds=180, width=320, height=240)
    scan_local(client, "stall", root)
    core.hls.encoders.max_per_user = 1
    core.settings.stream_send_timeout = 1.0
    url = httpx.URL(jelly_admin.jellyfin._get_url(f"Videos/{_items(server)['Still Water']}/stream.mkv",
                                                  {"static": "false", "VideoCodec": "h264", "MaxHeight": 200,
                                                   "VideoBitRate": 8_000_000}))
    key = f"user:{_admin(core)}"
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        sock.connect((url.host, url.port or 80))
        target = url.raw_path.decode()
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {url.host}\r\n\r\n".encode())
        assert sock.recv(64).startswith(b"HTTP/1.1 200")  # then nothing more is read
        deadline = time.monotonic() + 60
        while not core.hls.encoders._held[key] and time.monotonic() < deadline:
            time.sleep(0.05)
        while core.hls.encoders._held[key] and time.monotonic() < deadline:
            time.sleep(0.1)  # the sends stall, the server gives up, kills ffmpeg, frees the slot
        assert not core.hls.encoders._held[key]
    with httpx.Client(timeout=60) as http, http.stream("GET", str(url)) as again:
        assert again.status_code == 200
