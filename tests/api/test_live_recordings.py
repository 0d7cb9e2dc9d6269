"""A live recording cut off (``ffmpeg -f matroska`` to a pipe, OBS, a DVB recorder: no
``Duration`` element) on an FTP server, scanned and played through the API and the
Jellyfin API. Before, it had no duration anywhere: the library showed none, a client
that needs HLS got a 422 "the file's duration is unknown", Jellyfin had no
RunTimeTicks. Now the probe reads the last cluster in the file's tail."""

from __future__ import annotations

from pathlib import Path

import pytest
from api.odd_files import NEEDS_FFMPEG, jf_item, jf_token
from fastapi.testclient import TestClient
from library.test_mkv_tail import piped

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, admin_client, admin_core

pytestmark = NEEDS_FFMPEG

MP4_ONLY = {"containers": ["mp4"], "video": ["h264"], "audio": ["aac"]}


@pytest.fixture
def recorded(tmp_path: Path, ftp_server: EmbeddedFtpServer, ftp_root: Path) -> tuple[Core, TestClient, int]:
    piped(ftp_root / "Recordings" / "Broadcast (2024)" / "Broadcast.2024.mkv", 8)
    with admin_core(tmp_path / "data", hls_preset="ultrafast", hls_segment_seconds=2) as core, \
            admin_client(core) as client:
        source = core.sources.create(SourceSpec(name="Seedbox", kind="ftp", host=ftp_server.host,
                                                port=ftp_server.port, username=FTP_USER, password=FTP_PASSWORD))
        assert not core.jobs.run_scan_now(source.id).errors
        items = client.get("/api/library/media-files?per_page=5").json()["items"]
        yield core, client, items[0]["id"]


def _first_variant(client: TestClient, plan: dict[str, object], seconds: float) -> tuple[str, str]:
    """The URL and text of the first media playlist of ``plan``'s master playlist,
    asserting that it lists ``seconds`` of segments and ends (``#EXT-X-ENDLIST``)."""
    master = client.get(str(plan["master_url"]))
    assert master.status_code == 200, master.text
    variant = next(line for line in master.text.splitlines() if line and not line.startswith("#"))
    url = str(plan["master_url"]).split("master.m3u8")[0] + variant
    media = client.get(url)
    assert media.status_code == 200, media.text
    listed = sum(float(line.split(":")[1].rstrip(",")) for line in media.text.splitlines()
                 if line.startswith("#EXTINF:"))
    assert listed == pytest.approx(seconds, abs=0.3) and "#EXT-X-ENDLIST" in media.text, media.text
    return url, media.text


def test_a_recording_without_duration_has_one_and_plays_over_hls(recorded: tuple[Core, TestClient, int]) -> None:
    _core, client, file_id = recorded
    info = client.get(f"/api/library/media-files/{file_id}").json()
    assert info["duration"] == pytest.approx(8, abs=0.2), info
    r = client.post(f"/api/library/media-files/{file_id}/playback/plan", json=MP4_ONLY)
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["mode"] == "remux" and plan["duration"] == pytest.approx(8, abs=0.2), plan
    _first_variant(client, plan, 8)


def test_jellyfin_gives_a_recording_without_duration_its_runtime(recorded: tuple[Core, TestClient, int]) -> None:
    _core, client, _file_id = recorded
    token = jf_token(client)
    item = jf_item(client, token, "Broadcast")
    assert item["RunTimeTicks"] == pytest.approx(8 * 10**7, rel=0.03), item


def _live_webm(out: Path, seconds: int) -> Path:
    """A VP9/Opus WebM as a browser's MediaRecorder or OBS writes it live: ffmpeg's
    ``-live 1`` (no Duration, no Cues), to a pipe."""
    import subprocess

    out.parent.mkdir(parents=True, exist_ok=True)
    args = ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=25:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=duration={seconds}", "-c:v", "libvpx-vp9", "-deadline", "realtime",
            "-cpu-used", "8", "-b:v", "200k", "-g", "25", "-c:a", "libopus", "-live", "1", "-f", "webm", "pipe:1"]
    out.write_bytes(subprocess.run(args, stdout=subprocess.PIPE, check=True, timeout=120).stdout)
    return out


def test_a_live_vp9_webm_is_transcoded_into_hls_with_its_duration(tmp_path: Path, ftp_server: EmbeddedFtpServer,
                                                                   ftp_root: Path) -> None:
    """A live VP9 WebM (no Duration, no Cues) played directly in Chromium with an
    endless timeline and no seek bar (its VP9 cannot be copied into MPEG-TS, the
    remux that live H.264 recordings get). Now a client with HLS gets it transcoded,
    with the duration from its last cluster: a seek bar, and a segment near its end
    (ffmpeg seeking in a file without cues) plays."""
    import subprocess

    webm = _live_webm(ftp_root / "Live (2024)" / "Live.2024.webm", 8)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                            str(webm)], capture_output=True, text=True, check=True)
    assert probe.stdout.strip() in ("", "N/A"), probe.stdout  # the file names no duration
    chromium = {"containers": ["mp4", "webm"], "video": ["h264", "vp9"], "audio": ["aac", "opus"]}
    with admin_core(tmp_path / "data", hls_preset="ultrafast", hls_segment_seconds=2) as core, \
            admin_client(core) as client:
        source = core.sources.create(SourceSpec(name="Seedbox", kind="ftp", host=ftp_server.host,
                                                port=ftp_server.port, username=FTP_USER, password=FTP_PASSWORD))
        assert not core.jobs.run_scan_now(source.id).errors
        file_id = client.get("/api/library/media-files?per_page=5").json()["items"][0]["id"]
        r = client.post(f"/api/library/media-files/{file_id}/playback/plan", json=chromium)
        assert r.status_code == 200, r.text
        plan = r.json()
        assert plan["mode"] == "transcode" and "no duration" in plan["reason"], plan
        assert plan["duration"] == pytest.approx(8, abs=0.3), plan
        variant_url, media = _first_variant(client, plan, 8)
        segments = [line for line in media.splitlines() if line and not line.startswith("#")]
        last = client.get(f"{variant_url.rsplit('/', 1)[0]}/{segments[-1]}")
        assert last.status_code == 200 and len(last.content) > 1000, last.text[:200]
        out = tmp_path / "last.ts"
        out.write_bytes(last.content)
        shown = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
                                "-show_entries", "stream=codec_name,nb_read_frames", "-of", "csv=p=0", str(out)],
                               capture_output=True, text=True, check=True)
        codec, frames = shown.stdout.strip().splitlines()[0].split(",")[:2]
        assert codec == "h264" and int(frames) >= 10, shown.stdout
