"""The web player in Debian's Chromium plays a WebM recorded live (a browser's
MediaRecorder, OBS: no duration in its header) as it is: the plan was a 422 ("the
file's duration is unknown") for every client, and the player refused it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from e2e.support import log_in
from playwright.sync_api import Page

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.library import queries
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER

pytestmark = pytest.mark.requires_ffmpeg

VIDEO = "document.getElementById('player')"


def test_a_live_recorded_webm_plays(page: Page, live_server: str, core: Core, ftp_server: EmbeddedFtpServer,
                                    ftp_root: Path) -> None:
    film = ftp_root / "Live (2024)" / "Live.2024.webm"
    film.parent.mkdir()
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=6",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=6", "-c:v", "libvpx-vp9", "-deadline",
                    "realtime", "-cpu-used", "8", "-b:v", "200k", "-c:a", "libopus", "-live", "1", "-f", "webm",
                    str(film)], check=True, timeout=120)
    source = core.sources.create(SourceSpec(name="Seedbox", kind="ftp", host=ftp_server.host,
                                            port=ftp_server.port, username=FTP_USER, password=FTP_PASSWORD))
    assert not core.jobs.run_scan_now(source.id).errors
    with core.sessions() as s:
        file_id = queries.list_media_files(s, source.id, False, 0, 10)[0][0].id
    log_in(page, f"/play/{file_id}")
    page.wait_for_function(f"{VIDEO}.dataset.mode === 'direct'", timeout=30_000)
    page.wait_for_function(f"{VIDEO}.currentTime > 0.5", timeout=60_000)
    assert page.evaluate(f"{VIDEO}.error") is None
