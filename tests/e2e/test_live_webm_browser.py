"""The web player in Debian's Chromium plays a WebM recorded live (a browser's
MediaRecorder, OBS: no duration in its header) as it is: the plan was a 422 ("the
file's duration is unknown") for every client, and the player refused it."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e.support import VIDEO, first_file, log_in, make_film, seedbox
from playwright.sync_api import Page

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer

pytestmark = pytest.mark.requires_ffmpeg


def test_a_live_recorded_webm_plays(page: Page, live_server: str, core: Core, ftp_server: EmbeddedFtpServer,
                                    ftp_root: Path) -> None:
    make_film(ftp_root / "Live (2024)" / "Live.2024.webm", "-c:v", "libvpx-vp9", "-deadline", "realtime",
              "-cpu-used", "8", "-b:v", "200k", "-c:a", "libopus", "-live", "1", "-f", "webm")
    file_id = first_file(core, seedbox(core, ftp_server))
    log_in(page, f"/play/{file_id}")
    page.wait_for_function(f"{VIDEO}.dataset.mode === 'direct'", timeout=30_000)
    page.wait_for_function(f"{VIDEO}.currentTime > 0.5", timeout=60_000)
    assert page.evaluate(f"{VIDEO}.error") is None
