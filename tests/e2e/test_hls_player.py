"""The HLS player in Debian's Chromium, from an FTP source: an HEVC + AC3 MKV (which
Chromium cannot play directly) plays through hls.js, switches quality, selects the second
audio track and a subtitle (a cue becomes active), seeks to 70 % and plays on; after the
tab closes, no ffmpeg is left once the idle timeout has passed."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import hls_clips
import pytest
from e2e.support import VIDEO, Library, first_file, log_in, seedbox
from playwright.sync_api import Page, expect

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.library import queries

from helpers import ADMIN, ADMIN_PASSWORD, place, playback_token

pytestmark = pytest.mark.requires_ffmpeg

FILM_REL = "Hevc Film (2020)/Hevc.Film.2020.mkv"
IDLE = 2.0


@pytest.fixture(scope="module")
def hevc_film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hls-e2e") / "film.mkv"
    return hls_clips.hevc_mkv(path)


@pytest.fixture
def core(ftp_server: EmbeddedFtpServer, tmp_path: Path) -> Iterator[Core]:
    """A Core with fast encodes and a short idle timeout (closed after the page and the
    server, before the FTP server's leak check)."""
    c = Core(load_settings(data_dir=tmp_path / "data", hls_preset="ultrafast",
                           hls_idle_timeout=IDLE))
    c.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
    yield c
    c.close()


def test_hevc_mkv_plays_through_hls(
    page: Page, live_server: str, core: Core, ftp_server: EmbeddedFtpServer, ftp_root: Path,
    hevc_film: Path, artifacts: Path,
) -> None:
    place(hevc_film, ftp_root, FILM_REL)
    (ftp_root / FILM_REL.replace(".mkv", ".en.srt")).write_text(hls_clips.SIDECAR_SRT)
    file_id = first_file(core, seedbox(core, ftp_server))
    # the master URL opens in an external player (ffprobe here: the token is in the URL)
    master = (f"{live_server}/api/library/media-files/{file_id}/hls/master.m3u8"
              f"?token={playback_token(core, 1, file_id)}")
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name",
                          "-of", "csv=p=0", master], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert {"h264", "aac"} <= set(out.stdout.split()), out.stdout

    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url) if "/hls/" in r.url else None)

    log_in(page, f"/play/{file_id}")
    assert page.evaluate(f"{VIDEO}.canPlayType('video/mp4; codecs=\"hvc1.1.6.L93.B0\"')") == ""
    page.wait_for_function(f"{VIDEO}.dataset.mode === 'transcode'", timeout=20_000)
    expect(page.locator("#playback-mode")).to_have_text("Transcode (HLS)")
    page.wait_for_function(f"{VIDEO}.currentTime > 0.5", timeout=30_000)
    duration = page.evaluate(f"{VIDEO}.duration")
    assert 23 < duration < 25, duration
    assert any("master.m3u8?token=" in u for u in requested)

    # quality: Auto, 360p and 720p (the HEVC copy rendition is left out by hls.js)
    quality = page.get_by_label("Quality")
    expect(quality.locator("option")).to_have_count(3)
    page.select_option("#quality-menu", label="360p")
    page.wait_for_function("window.reelhouseHls.currentLevel === 0 && "
                           f"{VIDEO}.dataset.level === '0'", timeout=20_000)
    t = page.evaluate(f"{VIDEO}.currentTime")
    page.wait_for_function(f"{VIDEO}.currentTime > {t + 1}", timeout=20_000)
    assert any("/hls/360p/" in u for u in requested)

    # the second audio track (French)
    expect(page.locator("#audio-menu option")).to_have_count(2)
    page.select_option("#audio-menu", index=1)
    page.wait_for_function(f"{VIDEO}.dataset.audioTrack === '1'", timeout=20_000)
    page.wait_for_function("() => performance.getEntriesByType('resource')"
                           ".some(e => e.name.includes('/hls/audio1/'))", timeout=20_000)

    # a subtitle: the embedded English track; a cue becomes active
    expect(page.locator("#subtitle-menu option")).to_have_count(3)  # Off, embedded, sidecar
    page.select_option("#subtitle-menu", index=1)
    page.wait_for_function(
        f"Array.from({VIDEO}.textTracks).some(t => t.mode === 'showing' && t.activeCues "
        "&& t.activeCues.length > 0 && t.activeCues[0].text.includes('Embedded cue'))",
        timeout=20_000)

    # keyboard: K pauses and plays
    page.locator("h1").click()
    page.keyboard.press("k")
    page.wait_for_function(f"{VIDEO}.paused")
    page.keyboard.press("k")
    page.wait_for_function(f"!{VIDEO}.paused")

    # seek to 70 % and play on
    target = duration * 0.7
    page.evaluate(f"t => {{ {VIDEO}.currentTime = t; }}", target)
    page.wait_for_function(f"t => {VIDEO}.currentTime > t + 1", arg=target, timeout=30_000)
    assert page.evaluate(f"{VIDEO}.error") is None
    expect(page.locator("#player-note")).to_be_hidden()
    page.screenshot(path=str(artifacts / "e2e-hls-player.png"), full_page=True)

    # the viewer closes the tab: the encoders stop after the idle timeout
    page.close()
    deadline = time.monotonic() + IDLE + 10
    while (core.hls.encoders.running() or hls_clips.ffmpeg_children()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert core.hls.encoders.running() == []
    assert hls_clips.ffmpeg_children() == []


def test_picture_subtitle_is_burned_in(
    page: Page, core: Core, ftp_server: EmbeddedFtpServer, ftp_root: Path,
) -> None:
    (ftp_root / "Old Film (1999)").mkdir()
    hls_clips.vobsub_mkv(ftp_root / "Old Film (1999)" / "Old.Film.1999.mkv")
    file_id = first_file(core, seedbox(core, ftp_server))

    log_in(page, f"/play/{file_id}")
    page.wait_for_function(f"{VIDEO}.dataset.mode === 'remux'", timeout=20_000)
    page.wait_for_function(f"{VIDEO}.currentTime > 0.3", timeout=30_000)
    expect(page.locator("#subtitle-menu option")).to_have_count(2)  # Off, the picture track
    page.select_option("#subtitle-menu", label="Deutsch (burned in)")
    page.wait_for_function(f"{VIDEO}.dataset.burn === 'e0'")
    page.wait_for_function("window.reelhouseHls.levels.length > 0 && "
                           "window.reelhouseHls.levels[0].url[0].includes('180p-e0.m3u8')",
                           timeout=20_000)
    page.evaluate(f"{VIDEO}.currentTime = 5.3")
    page.wait_for_function(f"{VIDEO}.currentTime > 5.5", timeout=30_000)
    page.evaluate(f"{VIDEO}.pause()")
    rgb = page.evaluate(f"""() => {{
        const v = {VIDEO};
        const c = document.createElement('canvas');
        c.width = v.videoWidth; c.height = v.videoHeight;
        const g = c.getContext('2d');
        g.drawImage(v, 0, 0);
        return Array.from(g.getImageData(40, 18, 1, 1).data.slice(0, 3));
    }}""")
    assert page.evaluate(f"{VIDEO}.currentTime") < 6.9  # still inside the 5.0-7.0 s cue
    assert rgb[2] > 150 and rgb[0] < 90, rgb  # the blue box is in the picture


def test_prepare_for_streaming_button(page: Page, core: Core, library: Library) -> None:
    log_in(page, "/")
    page.locator(".tile", has_text="Big Buck Bunny").click()
    page.get_by_role("button", name="Prepare for streaming").click()
    expect(page.locator(".prepare-status")).to_have_text("Ready for streaming.", timeout=60_000)
    with core.sessions() as s:
        file_id = queries.list_media_files(s, library.ftp_source_id, False, 0, 10)[0][0].id
    assert core.hls.prepared(file_id)
