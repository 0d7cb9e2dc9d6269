"""Adaptive HLS end to end over a real FTP server: the playback plan per clip, the master
playlist, segments checked with ffprobe (durations, keyframes, the same span in every
rendition), a far seek restarting the encoder, subtitles as WebVTT, tokens, the encoder
limit and the idle timeout."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import hls_clips
import pytest
from fastapi.testclient import TestClient

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import ConfigError, TranscodeFailed
from reelhouse.library import queries
from reelhouse.playback.hls.decision import ClientCaps
from reelhouse.playback.hls.ffmpeg import TS_OFFSET, check, locate
from reelhouse.server import create_app
from reelhouse.sources.registry import SourceSpec

from helpers import ADMIN, ADMIN_PASSWORD, FTP_PASSWORD, FTP_USER, log_in, playback_token, stop_without_leaks, wait_job

pytestmark = [
    pytest.mark.requires_ffmpeg,
    pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is missing"),
]

FILMS = {
    "hevc": "Films/Hevc Film (2020)/Hevc.Film.2020.mkv",
    "mp4": "Films/Web Film (2021)/Web.Film.2021.mp4",
    "webm": "Films/Vp9 Film (2022)/Vp9.Film.2022.webm",
    "uhd": "Films/Uhd Film (2023)/Uhd.Film.2023.2160p.mp4",
    "vobsub": "Films/Old Film (1999)/Old.Film.1999.DVDRip.mkv",
}
CHROMIUM_CAPS = {"containers": ["mp4", "webm"], "video": ["h264", "vp8", "vp9", "av1"],
                 "audio": ["aac", "mp3", "opus", "vorbis", "flac"]}
SEG = 4.0


@dataclass
class World:
    core: Core
    client: TestClient
    ids: dict[str, int]
    tokens: dict[str, str]

    def url(self, kind: str, tail: str, token: str | None = None) -> str:
        tok = self.tokens[kind] if token is None else token
        return f"/api/library/media-files/{self.ids[kind]}/hls/{tail}?token={tok}"


def make_world(base: Path, server: EmbeddedFtpServer, **settings: object) -> tuple[Core, TestClient]:
    core = Core(load_settings(data_dir=base, hls_preset="ultrafast", **settings))
    core.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
    client = TestClient(create_app(core))
    client.__enter__()
    log_in(client)
    source = core.sources.create(SourceSpec(name="Seedbox", kind="ftp", host=server.host,
                                            port=server.port, username=FTP_USER,
                                            password=FTP_PASSWORD))
    report = core.jobs.run_scan_now(source.id)
    assert not report.errors, report.errors
    return core, client


@pytest.fixture(scope="module")
def ftp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedFtpServer]:
    root = tmp_path_factory.mktemp("hls-ftp")
    made = {"hevc": hls_clips.hevc_mkv, "mp4": hls_clips.h264_mp4, "webm": hls_clips.vp9_webm,
            "uhd": hls_clips.uhd_h264, "vobsub": hls_clips.vobsub_mkv}
    for kind, rel in FILMS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        made[kind](root / rel)
    sidecar = root / FILMS["hevc"].replace(".mkv", ".en.srt")
    sidecar.write_text(hls_clips.SIDECAR_SRT)
    server = EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD).start()
    yield server
    stop_without_leaks(server)


@pytest.fixture(scope="module")
def world(ftp: EmbeddedFtpServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    core, client = make_world(tmp_path_factory.mktemp("hls-data"), ftp, hls_idle_timeout=1.0,
                              hls_max_encoders=6)
    try:
        items = client.get("/api/library/media-files").json()["items"]
        by_path = {f["path"]: f["id"] for f in items}
        ids = {kind: by_path[rel] for kind, rel in FILMS.items()}
        tokens = {kind: playback_token(core, 1, fid) for kind, fid in ids.items()}
        yield World(core, client, ids, tokens)
    finally:
        client.__exit__(None, None, None)
        core.close()


def probe(data: bytes, tmp: Path) -> dict[str, object]:
    path = tmp / "seg.ts"
    path.write_bytes(data)
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format",
                          "-show_packets", "-show_streams", str(path)],
                         capture_output=True, text=True, check=True).stdout
    result: dict[str, object] = json.loads(out)
    return result


# -- plan -----------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "mode", "renditions"), [
    ("hevc", "transcode", ["360p", "720p", "copy"]),
    ("mp4", "direct", ["180p", "copy"]),
    ("webm", "direct", ["180p"]),
    ("uhd", "direct", ["360p", "720p", "1080p", "copy"]),
    ("vobsub", "remux", ["180p", "copy"]),
])
def test_plan(world: World, kind: str, mode: str, renditions: list[str]) -> None:
    r = world.client.post(f"/api/library/media-files/{world.ids[kind]}/playback/plan",
                          json=CHROMIUM_CAPS)
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["mode"] == mode and plan["reason"]
    assert plan["renditions"] == renditions
    assert ("/stream?token=" if mode == "direct" else "/hls/master.m3u8?token=") in plan["url"]
    # the same file for a client that has HEVC and AC3 (Safari): copy the video
    r = world.client.post(f"/api/library/media-files/{world.ids['hevc']}/playback/plan",
                          json={"containers": ["mp4"], "video": ["h264", "hevc"], "audio": ["aac"]})
    assert r.json()["mode"] == "remux" and "hevc video is copied" in r.json()["reason"]


def test_plan_rejects_bad_input(world: World) -> None:
    r = world.client.post(f"/api/library/media-files/{world.ids['hevc']}/playback/plan",
                          json={"video": ["h264; rm -rf /"]})
    assert r.status_code == 422
    r = world.client.post("/api/library/media-files/999999/playback/plan", json=CHROMIUM_CAPS)
    assert r.status_code == 404


# -- playlists ------------------------------------------------------------------------
def test_master_playlist(world: World) -> None:
    r = world.client.get(world.url("hevc", "master.m3u8"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    text = r.text
    assert text.startswith("#EXTM3U")
    inf = [line for line in text.splitlines() if line.startswith("#EXT-X-STREAM-INF")]
    assert [line.split("RESOLUTION=")[1].split(",")[0] for line in inf] == [
        "640x360", "1280x720", "1280x720"]
    assert 'CODECS="hvc1' in inf[2] and all("BANDWIDTH=" in line for line in inf)
    audio = [line for line in text.splitlines() if "TYPE=AUDIO" in line]
    assert ['LANGUAGE="eng"' in audio[0], 'LANGUAGE="fra"' in audio[1]] == [True, True]
    subs = [line for line in text.splitlines() if "TYPE=SUBTITLES" in line]
    assert len(subs) == 2 and 'LANGUAGE="eng"' in subs[0] and 'LANGUAGE="en"' in subs[1]

    uhd = world.client.get(world.url("uhd", "master.m3u8")).text
    heights = [int(line.split("RESOLUTION=")[1].split(",")[0].split("x")[1])
               for line in uhd.splitlines() if line.startswith("#EXT-X-STREAM-INF")]
    assert heights == [360, 720, 1080, 2160]  # capped at 1080p, plus the copy rendition
    # the copy says what the stream is (x264 ultrafast: Constrained Baseline, level 5.1
    # for 4K), not H.264 High 4.0, which a player checking CODECS would take for 1080p
    copy = [line for line in uhd.splitlines() if 'NAME="copy"' in line]
    assert len(copy) == 1 and 'CODECS="avc1.42c033"' in copy[0], copy
    assert "TYPE=AUDIO" not in uhd  # the 4K clip has no audio


def test_variant_playlist_is_complete(world: World) -> None:
    r = world.client.get(world.url("hevc", "720p.m3u8"))
    assert r.status_code == 200, r.text
    lines = r.text.splitlines()
    assert lines[-1] == "#EXT-X-ENDLIST" and "#EXT-X-PLAYLIST-TYPE:VOD" in lines
    extinf = [float(line[8:-1]) for line in lines if line.startswith("#EXTINF:")]
    assert extinf[:5] == [4.0] * 5 and 4.0 <= extinf[5] < 4.1
    assert world.client.get(world.url("hevc", "2160p.m3u8")).status_code == 404
    assert world.client.get(world.url("hevc", "audio7.m3u8")).status_code == 404
    assert world.client.get(world.url("hevc", "720p/6.ts")).status_code == 404


# -- segments -------------------------------------------------------------------------
def test_segments_align_across_renditions(world: World, tmp_path: Path) -> None:
    spans: dict[str, list[tuple[float, float]]] = {}
    for track in ("360p", "720p"):
        spans[track] = []
        for n in range(6):
            r = world.client.get(world.url("hevc", f"{track}/{n}.ts"))
            assert r.status_code == 200, r.text
            assert r.headers["content-type"] == "video/mp2t"
            info = probe(r.content, tmp_path)
            packets = [p for p in info["packets"] if p["codec_type"] == "video"]  # type: ignore[attr-defined, index]
            assert packets[0]["flags"].startswith("K"), (track, n)  # a keyframe first
            start = float(info["format"]["start_time"])  # type: ignore[index]
            duration = float(info["format"]["duration"])  # type: ignore[index]
            assert abs(start - (TS_OFFSET + SEG * n)) < 0.05, (track, n, start)
            assert abs(duration - SEG) < 0.15, (track, n, duration)
            spans[track].append((start, duration))
    assert spans["360p"] == spans["720p"]  # segment N covers the same span everywhere


def test_copy_segments_start_on_keyframes_and_tile(world: World, tmp_path: Path) -> None:
    playlist = world.client.get(world.url("hevc", "copy.m3u8")).text
    lengths = [float(line[8:-1]) for line in playlist.splitlines() if line.startswith("#EXTINF:")]
    assert abs(sum(lengths) - 24.0) < 0.1
    end = None
    for n, length in enumerate(lengths):
        r = world.client.get(world.url("hevc", f"copy/{n}.ts"))
        assert r.status_code == 200, r.text
        info = probe(r.content, tmp_path)
        assert [s["codec_name"] for s in info["streams"]] == ["hevc"]  # type: ignore[attr-defined, index]
        first = info["packets"][0]  # type: ignore[index]  # in decoding order: a keyframe
        assert first["flags"].startswith("K")
        start = float(first["pts_time"])
        if end is not None:
            assert abs(start - end) < 0.1, (n, start, end)  # no gap, no overlap
        else:
            assert TS_OFFSET - 0.01 < start < TS_OFFSET + 0.5  # the first keyframe
        end = start + length
    assert world.client.get(world.url("hevc", f"copy/{len(lengths)}.ts")).status_code == 404


def test_audio_segments(world: World, tmp_path: Path) -> None:
    for track in ("audio0", "audio1"):
        r = world.client.get(world.url("hevc", f"{track}/2.ts"))
        assert r.status_code == 200, r.text
        info = probe(r.content, tmp_path)
        streams = info["streams"]
        assert [s["codec_name"] for s in streams] == ["aac"]  # type: ignore[attr-defined, index]
        assert abs(float(info["format"]["start_time"]) - (TS_OFFSET + 8)) < 0.1  # type: ignore[index]


def test_far_seek_restarts_the_encoder(world: World, tmp_path: Path) -> None:
    hls = world.core.hls
    r = world.client.get(world.url("hevc", "copy/0.ts"))  # the copy rendition works too
    assert r.status_code == 200, r.text
    hls.cache.clear()  # earlier tests made these segments
    starts = hls.encoders.starts
    r = world.client.get(world.url("hevc", "720p/0.ts"))
    assert r.status_code == 200
    r = world.client.get(world.url("hevc", "720p/5.ts"))
    assert r.status_code == 200
    assert hls.encoders.starts >= starts + 2  # 0 started one, 5 (far ahead) another
    start = float(probe(r.content, tmp_path)["format"]["start_time"])  # type: ignore[index]
    assert abs(start - (TS_OFFSET + 20)) < 0.05


def test_segments_answer_conditional_requests(world: World) -> None:
    """A segment's ETag holds while it is cached (a cache hit marked use in its mtime, so
    the ETag changed on every request and no revalidation ever hit): 304 for a matching
    If-None-Match / If-Modified-Since, 412 for If-Match of another, and a Range with a
    stale If-Range gets the whole segment (RFC 9110 §13.1.5)."""
    url = world.url("hevc", "audio0/2.ts")
    first = world.client.get(url)
    assert first.status_code == 200, first.text
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    time.sleep(1.1)  # a hit a second later must not move Last-Modified either
    again = world.client.get(url)
    assert again.content == first.content
    assert (again.headers["etag"], again.headers["last-modified"]) == (etag, last_modified)
    for headers in ({"if-none-match": etag}, {"if-modified-since": last_modified}):
        r = world.client.get(url, headers=headers)
        assert r.status_code == 304 and r.content == b"" and r.headers["etag"] == etag, headers
    assert world.client.get(url, headers={"if-match": '"old"'}).status_code == 412
    r = world.client.get(url, headers={"range": "bytes=0-187", "if-range": etag})
    assert r.status_code == 206 and r.content == first.content[:188]
    r = world.client.get(url, headers={"range": "bytes=0-187", "if-range": '"old"'})
    assert r.status_code == 200 and r.content == first.content
    vtt = world.url("hevc", "subs/e0.vtt")
    tag = world.client.get(vtt).headers["etag"]
    assert world.client.get(vtt, headers={"if-none-match": tag}).status_code == 304


def test_cached_segments_need_no_encoder(world: World) -> None:
    hls = world.core.hls
    assert world.client.get(world.url("hevc", "360p/1.ts")).status_code == 200
    starts = hls.encoders.starts
    for _ in range(3):
        assert world.client.get(world.url("hevc", "360p/1.ts")).status_code == 200
    assert hls.encoders.starts == starts


# -- subtitles ------------------------------------------------------------------------
def test_subtitles_as_webvtt(world: World) -> None:
    listed = world.client.get(f"/api/library/media-files/{world.ids['hevc']}/subtitles").json()
    assert [(s["key"], s["language"], s["text"]) for s in listed] == [
        ("e0", "eng", True), ("x0", "en", True)]
    r = world.client.get(world.url("hevc", "subs/e0.vtt"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/vtt")
    assert r.text.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000")
    assert "Embedded cue one" in r.text and "00:10.505 --> 00:20.005" in r.text
    r = world.client.get(world.url("hevc", "subs/x0.vtt"))
    assert r.status_code == 200 and "Sidecar cue" in r.text
    r = world.client.get(world.url("hevc", "subs/x0.m3u8"))
    assert "x0.vtt?token=" in r.text and r.text.rstrip().endswith("#EXT-X-ENDLIST")
    assert world.client.get(world.url("hevc", "subs/e5.vtt")).status_code == 404


def pixel(segment: bytes, at: float, xy: tuple[int, int], tmp: Path) -> tuple[int, int, int]:
    """RGB of pixel ``xy`` in the frame ``at`` seconds into an MPEG-TS segment."""
    path = tmp / "frame.ts"
    path.write_bytes(segment)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-ss", f"{at}", "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True,
                         check=True).stdout
    width = 320
    i = (xy[1] * width + xy[0]) * 3
    return raw[i], raw[i + 1], raw[i + 2]


def test_picture_subtitles_are_listed_and_burned_in(world: World, tmp_path: Path) -> None:
    fid = world.ids["vobsub"]
    listed = world.client.get(f"/api/library/media-files/{fid}/subtitles").json()
    assert [(s["key"], s["codec"], s["text"], s["language"]) for s in listed] == [
        ("e0", "dvd_subtitle", False, "ger")]  # FFmpeg's canonical name, as the library's
    r = world.client.get(world.url("vobsub", "subs/e0.vtt"))
    assert r.status_code == 400 and "picture" in r.json()["detail"]
    master = world.client.get(world.url("vobsub", "master.m3u8")).text
    assert "TYPE=SUBTITLES" not in master  # a picture track is no WebVTT rendition
    burned = world.client.get(world.url("vobsub", "master.m3u8") + "&burn=e0")
    assert burned.status_code == 200, burned.text
    assert "180p-e0.m3u8?token=" in burned.text and "copy" not in burned.text
    plain = world.client.get(world.url("vobsub", "180p/1.ts")).content
    with_subs = world.client.get(world.url("vobsub", "180p-e0/1.ts"))
    assert with_subs.status_code == 200, with_subs.text
    # segment 1 covers 4-8 s; the box is shown from 5.0 to 7.0 s at (10, 10) 64x16
    r, g, b = pixel(with_subs.content, 1.5, (40, 18), tmp_path)
    assert b > 150 and r < 90 and g < 90, (r, g, b)
    assert max(pixel(plain, 1.5, (40, 18), tmp_path)) < 40  # black without burn-in
    assert max(pixel(with_subs.content, 1.5, (200, 120), tmp_path)) < 40  # only the box
    assert world.client.get(world.url("vobsub", "master.m3u8") + "&burn=e1").status_code == 404
    hevc_burn = world.client.get(world.url("hevc", "master.m3u8") + "&burn=e0")
    assert hevc_burn.status_code == 400  # a text track: served as WebVTT instead


# -- tokens ---------------------------------------------------------------------------
@pytest.mark.parametrize("tail", ["master.m3u8", "720p.m3u8", "720p/0.ts", "audio1/0.ts",
                                  "subs/e0.vtt"])
def test_tampered_expired_and_foreign_tokens(world: World, tail: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    good = world.tokens["hevc"]
    anon = TestClient(create_app(world.core))
    with anon:
        assert anon.get(world.url("hevc", tail)).status_code == 200
        tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
        assert anon.get(world.url("hevc", tail, tampered)).status_code == 401
        assert anon.get(world.url("hevc", tail, world.tokens["mp4"])).status_code == 401
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() - world.core.settings.playback_token_ttl - 60)
        old = playback_token(world.core, 1, world.ids["hevc"])
        monkeypatch.setattr(time, "time", real)
        r = anon.get(world.url("hevc", tail, old))
        assert r.status_code == 401 and "expired" in r.json()["detail"]
        r = anon.get(f"/api/library/media-files/{world.ids['hevc']}/hls/{tail}")
        assert r.status_code == 401


# -- limits ---------------------------------------------------------------------------
def test_idle_encoders_stop(world: World) -> None:
    hls = world.core.hls
    hls.cache.clear()
    assert world.client.get(world.url("hevc", "360p/0.ts")).status_code == 200
    assert world.client.get(world.url("hevc", "audio0/0.ts")).status_code == 200
    # the viewer goes away: after the idle timeout (1 s) no encoder and no ffmpeg remain
    deadline = time.monotonic() + 30  # generous: a loaded 2-core machine
    while (hls.encoders.running() or hls_clips.ffmpeg_children()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert hls.encoders.running() == []
    assert hls_clips.ffmpeg_children() == []


def test_encoder_limit_answers_busy(ftp: EmbeddedFtpServer, tmp_path: Path) -> None:
    core, client = make_world(tmp_path / "data", ftp, hls_max_encoders=1, hls_ahead_segments=1,
                              hls_idle_timeout=30.0)
    try:
        fid = client.get("/api/library/media-files").json()["items"]
        hevc = next(f["id"] for f in fid if f["path"] == FILMS["hevc"])
        token = playback_token(core, 1, hevc)
        base = f"/api/library/media-files/{hevc}/hls"
        assert client.get(f"{base}/360p/0.ts?token={token}").status_code == 200
        assert len(core.hls.encoders.running()) == 1  # paused one segment ahead, not ended
        # audio costs little: it does not count against the limit of transcodes
        assert client.get(f"{base}/audio1/0.ts?token={token}").status_code == 200
        # another viewer's transcode does not fit: the one running is watched
        other = playback_token(core, core.users.add("other", "other-password").id, hevc)
        r = client.get(f"{base}/720p/0.ts?token={other}")
        assert r.status_code == 503
        assert "limit" in r.json()["detail"] and r.headers["retry-after"] == "5"
        # the same track is shared: no second encoder needed
        assert client.get(f"{base}/360p/1.ts?token={token}").status_code == 200
    finally:
        client.__exit__(None, None, None)
        core.close()
    assert hls_clips.ffmpeg_children() == []


# -- prepare for streaming ------------------------------------------------------------
def test_prepare_for_streaming(world: World) -> None:
    fid = world.ids["mp4"]
    r = world.client.post(f"/api/library/media-files/{fid}/prepare")
    assert r.status_code == 202, r.text
    job = wait_job(world.client, r.json()["id"])
    assert job["state"] == "done", job
    assert job["kind"] == "hls_prepare" and job["progress"] == {"tracks": 3, "done": 3}
    plan = world.client.post(f"/api/library/media-files/{fid}/playback/plan", json={}).json()
    assert plan["prepared"] is True and plan["mode"] == "transcode"  # a client with no codecs
    starts = world.core.hls.encoders.starts
    for tail in ("180p/0.ts", "180p/1.ts", "audio0/1.ts", "copy/0.ts"):
        r = world.client.get(world.url("mp4", tail))
        assert r.status_code == 200, (tail, r.text)
    assert world.core.hls.encoders.starts == starts  # served from the prepared renditions
    assert world.client.delete(f"/api/library/media-files/{fid}/prepare").status_code == 204
    plan = world.client.post(f"/api/library/media-files/{fid}/playback/plan", json={}).json()
    assert plan["prepared"] is False
    assert world.client.post("/api/library/media-files/999999/prepare").status_code == 404


def test_two_prepares_of_one_file_both_finish(world: World) -> None:
    """Two "prepare" jobs of one file at once (a double click, two admins): each works in
    a folder of its own, so neither crashes on the other's renames."""
    fid = world.ids["mp4"]
    world.client.delete(f"/api/library/media-files/{fid}/prepare")
    jobs = [world.client.post(f"/api/library/media-files/{fid}/prepare").json()["id"] for _ in range(2)]
    for job_id in jobs:
        job = wait_job(world.client, job_id)
        assert job["state"] == "done", job
    plan = world.client.post(f"/api/library/media-files/{fid}/playback/plan", json={}).json()
    assert plan["prepared"] is True
    root = world.core.settings.data_dir / "hls" / "prepared"
    assert not [p for p in root.rglob("*.partial")], "work folders left behind"
    assert world.client.delete(f"/api/library/media-files/{fid}/prepare").status_code == 204


# -- ffmpeg ---------------------------------------------------------------------------
def test_ffmpeg_without_libx264_is_reported(tmp_path: Path) -> None:
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\n"
                    "case \"$*\" in *-version*) echo 'ffmpeg version 0.0-fake';;\n"
                    "*) printf ' V....D libvpx-vp9  VP9\\n A..... aac  AAC\\n';; esac\n")
    fake.chmod(0o755)
    info = check(str(fake))
    assert info.missing == ("libx264",) and not info.ok
    assert "libx264" in (info.problem() or "") and "REELHOUSE_HLS_FFMPEG" in (info.problem() or "")
    with pytest.raises(ConfigError, match="not an executable"):
        locate(str(tmp_path / "nope"))
    assert locate() and check(locate()).ok  # this machine's ffmpeg has both

    core = Core(load_settings(data_dir=tmp_path / "data", hls_ffmpeg=str(fake)))
    try:
        assert "libx264" in (core.hls.startup_problem() or "")
        with pytest.raises(TranscodeFailed, match="libx264"):
            core.hls.ffmpeg_path()
        # the plan falls back to direct play and says why
        (tmp_path / "m").mkdir()
        hls_clips.h264_mp4(tmp_path / "m" / "Film.2020.avi", seconds=1)
        disk = core.sources.create(SourceSpec(name="disk", kind="local", path=str(tmp_path / "m")))
        core.jobs.run_scan_now(disk.id)
        with core.sessions() as s:
            fid = queries.list_media_files(s, disk.id, False, 0, 1)[0][0].id
        decision, _ = core.hls.plan(fid, ClientCaps(frozenset({"mp4"}), frozenset({"h264"}),
                                                    frozenset({"aac"})))
        assert decision.mode == "direct" and "HLS is off" in decision.reason
        assert "avi container" in decision.reason
    finally:
        core.close()


def test_logged_in_user_needs_no_token(world: World) -> None:
    """With a session (bearer here), the master playlist mints the token its URIs carry."""
    r = world.client.get(f"/api/library/media-files/{world.ids['hevc']}/hls/master.m3u8")
    assert r.status_code == 200, r.text
    token = r.text.split("720p.m3u8?token=")[1].splitlines()[0]
    world.core.auth.check_playback(token, world.ids["hevc"])  # a valid playback token
