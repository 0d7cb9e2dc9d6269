"""The web player in Debian's Chromium starts a film in the audio track the file flags
as default: an MKV (Chromium plays it over HLS) whose first track, English, is not the
default and whose second, French, is (as a release marks its original language).
hls.js starts with the master playlist's DEFAULT track, which was always the first."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e.support import VIDEO, first_file, log_in, make_film, seedbox
from playwright.sync_api import Page

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer

pytestmark = pytest.mark.requires_ffmpeg


def test_the_flagged_audio_track_plays_first(page: Page, live_server: str, core: Core,
                                             ftp_server: EmbeddedFtpServer, ftp_root: Path) -> None:
    make_film(ftp_root / "Amelie (2001)" / "Amelie.2001.mkv", "-f", "lavfi", "-i", "sine=frequency=660:duration=6",
              "-map", "0:v", "-map", "1:a", "-map", "2:a", "-c:v", "libx264", "-preset", "ultrafast",
              "-pix_fmt", "yuv420p", "-c:a", "aac", "-metadata:s:a:0", "language=eng",
              "-metadata:s:a:1", "language=fre", "-disposition:a:0", "0", "-disposition:a:1", "default")
    file_id = first_file(core, seedbox(core, ftp_server))
    log_in(page, f"/play/{file_id}")
    page.wait_for_function(f"{VIDEO}.dataset.mode === 'remux'", timeout=30_000)
    page.wait_for_function(f"{VIDEO}.currentTime > 0.5", timeout=60_000)
    page.wait_for_function(f"{VIDEO}.dataset.audioTrack !== undefined", timeout=30_000)
    assert page.evaluate(f"{VIDEO}.dataset.audioTrack") == "1"
    label = page.evaluate("document.getElementById('audio-menu').selectedOptions[0].text")
    assert "Fran" in label, label
