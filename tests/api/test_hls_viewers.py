"""Two viewers of one file and track at different positions (issue 14: 6 of 10
segment requests failed with 502 as each viewer's request restarted the one encoder at
its own position): each position gets its own encoder and every request is served.
The per-user encoder limit answers 503, never 502."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import hls_clips
import pytest
from fastapi.testclient import TestClient

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.server import create_app
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, playback_token, stop_without_leaks

pytestmark = pytest.mark.requires_ffmpeg

FILM = "Films/Long Film (2020)/Long.Film.2020.mkv"


@pytest.fixture(scope="module")
def ftp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedFtpServer]:
    root = tmp_path_factory.mktemp("hls-viewers")
    (root / FILM).parent.mkdir(parents=True)
    hls_clips.hevc_mkv(root / FILM, seconds=160, width=320, height=180)
    server = EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD).start()
    yield server
    stop_without_leaks(server)


def _world(tmp: Path, ftp: EmbeddedFtpServer, **settings: object) -> tuple[Core, TestClient, int]:
    core = Core(load_settings(data_dir=tmp, hls_preset="ultrafast", hls_idle_timeout=30.0, **settings))
    row = core.sources.create(SourceSpec(name="ftp", kind="ftp", host=ftp.host, port=ftp.port,
                                         username=FTP_USER, password=FTP_PASSWORD))
    core.jobs.run_scan_now(row.id)
    client = TestClient(create_app(core))
    client.__enter__()
    with core.sessions() as s:
        from reelhouse.library import queries

        files, _ = queries.list_media_files(s, row.id, False, 0, 10)
    return core, client, files[0].id


def _video_track(client: TestClient, base: str, token: str) -> str:
    master = client.get(f"{base}/master.m3u8?token={token}").text
    tracks = re.findall(r"^([0-9]+p)\.m3u8", master, re.M) or re.findall(r"/hls/([0-9]+p)\.m3u8", master)
    assert tracks, master
    return tracks[0]


def test_two_viewers_at_different_positions_are_both_served(ftp: EmbeddedFtpServer, tmp_path: Path) -> None:
    core, client, fid = _world(tmp_path / "data", ftp, hls_max_encoders=2, hls_ahead_segments=1)
    try:
        alice = playback_token(core, core.users.add("alice", "alice-password").id, fid)
        bob = playback_token(core, core.users.add("bob", "bob-password").id, fid)
        base = f"/api/library/media-files/{fid}/hls"
        track = _video_track(client, base, alice)
        statuses: dict[str, list[int]] = {"alice": [], "bob": []}

        def watch(name: str, token: str, first: int) -> None:
            for n in range(first, first + 5):
                r = client.get(f"{base}/{track}/{n}.ts?token={token}")
                statuses[name].append(r.status_code)

        threads = [threading.Thread(target=watch, args=("alice", alice, 0)),
                   threading.Thread(target=watch, args=("bob", bob, 25))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert statuses == {"alice": [200] * 5, "bob": [200] * 5}
        assert core.hls.encoders.starts == 2  # one encoder per position, none restarted
        # a third viewer at a third position finds both encoders watched: 503, not 502
        carol = playback_token(core, core.users.add("carol", "carol-password").id, fid)
        ahead = max(e.advance() for e in core.hls.encoders.running() if e.start == 0)
        between = ahead + 4  # past alice's encoder and its restart gap, before bob's
        assert between < 25, "alice's encoder ran too far ahead"
        r = client.get(f"{base}/{track}/{between}.ts?token={carol}")
        assert r.status_code == 503 and "limit" in r.json()["detail"]
        assert r.json()["reason"] == "encoder_limit" and r.headers["retry-after"] == "5"  # the player waits
        # but a segment one of them made already is served to her
        assert client.get(f"{base}/{track}/26.ts?token={carol}").status_code == 200
    finally:
        client.__exit__(None, None, None)
        core.close()
    assert hls_clips.ffmpeg_children() == []


def test_per_user_limit(ftp: EmbeddedFtpServer, tmp_path: Path) -> None:
    core, client, fid = _world(tmp_path / "data", ftp, hls_max_encoders=3, hls_max_encoders_per_user=1,
                               hls_ahead_segments=1)
    try:
        uid = core.users.add("alice", "alice-password").id
        tab1 = playback_token(core, uid, fid)
        base = f"/api/library/media-files/{fid}/hls"
        track = _video_track(client, base, tab1)
        assert client.get(f"{base}/{track}/0.ts?token={tab1}").status_code == 200
        # the same viewer seeking far replaces its own encoder
        assert client.get(f"{base}/{track}/15.ts?token={tab1}").status_code == 200
        assert len(core.hls.encoders.running()) == 1
        # a second tab of the same user, elsewhere: over the user's limit, 503
        time.sleep(1.1)  # a token signed in another second: another viewer
        tab2 = playback_token(core, uid, fid)
        assert tab2 != tab1
        far = max(e.advance() for e in core.hls.encoders.running()) + 4
        assert far < 40, "the encoder ran to the end"
        r = client.get(f"{base}/{track}/{far}.ts?token={tab2}")
        assert r.status_code == 503 and "per user" in r.json()["detail"]
        assert r.json()["reason"] == "encoder_limit" and r.headers["retry-after"] == "5"
        # bob has his own share of the server's encoders
        bob = playback_token(core, core.users.add("bob", "bob-password").id, fid)
        assert client.get(f"{base}/{track}/{far}.ts?token={bob}").status_code == 200
        assert len(core.hls.encoders.running()) == 2
    finally:
        client.__exit__(None, None, None)
        core.close()
    assert hls_clips.ffmpeg_children() == []
