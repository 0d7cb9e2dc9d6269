"""The web player in Debian's Chromium plays a WebM recorded live (a browser's
MediaRecorder, OBS: no duration in its header): the plan was a 422 ("the file's
duration is unknown") for every client, and the player refused it; then it played
directly with no seek bar; now it is transcoded into HLS, with its duration."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from e2e.support import VIDEO, first_file, log_in, make_film, seedbox
from playwright.sync_api import Page

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer

pytestmark = pytest.mark.requires_ffmpeg


def test_a_live_recorded_webm_plays_with_a_seek_bar(page: Page, live_server: str, core: Core,
                                                     ftp_server: EmbeddedFtpServer, ftp_root: Path) -> None:
    """A VP9 WebM written live (``-live 1``: no Duration, no Cues) played directly with
    an endless timeline: ``duration`` Infinity, no seek bar. Its VP9 cannot be copied
    into HLS, so it is transcoded: the player shows its 6 s and seeks."""
    make_film(ftp_root / "Live (2024)" / "Live.2024.webm", "-c:v", "libvpx-vp9", "-deadline", "realtime",
              "-cpu-used", "8", "-b:v", "200k", "-c:a", "libopus", "-live", "1", "-f", "webm")
    file_id = first_file(core, seedbox(core, ftp_server))
    log_in(page, f"/play/{file_id}")
    page.wait_for_function(f"{VIDEO}.dataset.mode === 'transcode'", timeout=30_000)
    page.wait_for_function(f"{VIDEO}.currentTime > 0.5", timeout=90_000)
    assert 5.5 < page.evaluate(f"{VIDEO}.duration") < 6.5
    page.evaluate(f"{VIDEO}.currentTime = 4")
    page.wait_for_function(f"{VIDEO}.currentTime > 4.2 && !{VIDEO}.seeking", timeout=90_000)
    assert page.evaluate(f"{VIDEO}.error") is None


def test_a_live_recorded_mkv_has_a_seek_bar_and_seeks(page: Page, live_server: str, core: Core,
                                                      ftp_server: EmbeddedFtpServer, ftp_root: Path) -> None:
    """An H.264 MKV written by ffmpeg to a pipe (no Duration element): Chromium played
    it directly with an endless timeline (``duration`` Infinity, no seek bar), and a seek
    ended in PIPELINE_ERROR_DECODE. Its duration now comes from its last cluster, and
    the web player gets it through HLS (the video copied), where it seeks."""
    out = ftp_root / "Broadcast (2024)" / "Broadcast.2024.mkv"
    out.parent.mkdir(parents=True)
    args = ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=6",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=6", "-c:v", "libx264", "-preset", "ultrafast",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "matroska", "pipe:1"]
    out.write_bytes(subprocess.run(args, stdout=subprocess.PIPE, check=True, timeout=120).stdout)
    file_id = first_file(core, seedbox(core, ftp_server))
    log_in(page, f"/play/{file_id}")
    page.wait_for_function(f"{VIDEO}.dataset.mode === 'remux'", timeout=30_000)
    page.wait_for_function(f"{VIDEO}.currentTime > 0.5", timeout=60_000)
    assert 5.5 < page.evaluate(f"{VIDEO}.duration") < 6.5
    page.evaluate(f"{VIDEO}.currentTime = 4")
    page.wait_for_function(f"{VIDEO}.currentTime > 4.2 && !{VIDEO}.seeking", timeout=60_000)
    assert page.evaluate(f"{VIDEO}.error") is None
