"""Odd media in real Chromium: an audio-only Matroska file with MP3 (Chromium says it
plays both: direct play; it went through HLS while the HLS side named the codec by its
decoder, ``mp3float``) and an MPEG-TS recording (no keyframe index, through hls.js) play
and seek; an MP4 with its index at the end plays directly from FTP and seeks."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from e2e.support import log_in
from playwright.sync_api import Page, expect

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.demo.media import make_clip
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER

pytestmark = pytest.mark.requires_ffmpeg

VIDEO = "document.getElementById('player')"
TONE = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "6"]
PICTURE = ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t", "6"]


def _ffmpeg(out: Path, *args: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-y", "-v", "error", *args, str(out)], check=True, timeout=60)


@pytest.mark.parametrize(("title", "rel", "args"), [
    ("Concert", "Concert (2011)/Concert.2011.mkv", [*TONE, "-c:a", "mp3"]),
    ("Recording", "Recording (2009)/Recording.2009.ts",
     [*PICTURE, *TONE, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest"]),
])
def test_plays_through_hls(page: Page, live_server: str, core: Core, tmp_path: Path,
                           title: str, rel: str, args: list[str]) -> None:
    _ffmpeg(tmp_path / "odd" / rel, *args)
    source = core.sources.create(SourceSpec(name="Odd disk", kind="local", path=str(tmp_path / "odd")))
    core.jobs.run_scan_now(source.id)

    log_in(page, "/")
    page.locator(".tile", has_text=title).click()
    page.locator(".file").get_by_role("link", name=re.compile("Play")).click()
    # an audio-only Matroska file with MP3 plays directly where the browser plays both
    # (Chromium does); the rest go through HLS
    expect(page.locator("#playback-mode")).to_have_text(
        "Direct play" if title == "Concert" else "Remux (HLS)")
    page.wait_for_function(f"{VIDEO}.currentTime > 1.0", timeout=20_000)
    page.evaluate(f"{VIDEO}.currentTime = 4.5")
    page.wait_for_function(f"{VIDEO}.currentTime > 4.8", timeout=20_000)
    expect(page.locator("#player-note")).to_be_hidden()


def test_mp4_with_its_index_at_the_end_plays_and_seeks_from_ftp(
        page: Page, live_server: str, core: Core, ftp_root: Path, ftp_server: EmbeddedFtpServer) -> None:
    """Not "faststart": the moov atom sits after the picture data, so the browser reads
    the start, then a Range at the end (FTP REST) before the first frame; direct play
    must still start, seek to the middle and near the end."""
    make_clip(ftp_root / "Films" / "Moov (2001)" / "Moov.2001.mp4", seconds=20, width=320,
              height=180, faststart=False)
    data = (ftp_root / "Films" / "Moov (2001)" / "Moov.2001.mp4").read_bytes()
    assert data.index(b"moov") > data.index(b"mdat")
    source = core.sources.create(SourceSpec(name="Seedbox", kind="ftp", host=ftp_server.host,
                                            port=ftp_server.port, username=FTP_USER, password=FTP_PASSWORD))
    assert not core.jobs.run_scan_now(source.id).errors

    log_in(page, "/")
    page.locator(".tile", has_text="Moov").click()
    page.locator(".file").get_by_role("link", name=re.compile("Play")).click()
    expect(page.locator("#stream-url")).to_have_value(re.compile(r"/stream\?token="))
    page.wait_for_function(f"{VIDEO}.currentTime > 0.5", timeout=20_000)
    for target in (10.0, 18.5):
        page.evaluate(f"t => {{ {VIDEO}.currentTime = t; }}", target)
        page.wait_for_function(f"{VIDEO}.currentTime > {target + 0.3}", timeout=20_000)
    expect(page.locator("#player-note")).to_be_hidden()


def test_a_download_cut_short_plays_then_says_why_it_stops(
        page: Page, live_server: str, core: Core, tmp_path: Path) -> None:
    """A Matroska file (AC-3 audio: HLS) cut in half (a download that stopped): it plays up to
    the cut; a seek past it gets the server's reason (the segments there hold no media
    data, a 404), not hls.js's bare "fragLoadError"."""
    rel = "Cut (2015)/Cut.2015.mkv"
    out = tmp_path / "odd" / rel
    _ffmpeg(out, "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-f", "lavfi", "-i",
            "sine=frequency=440:sample_rate=48000", "-t", "16", "-c:v", "libx264", "-preset",
            "ultrafast", "-g", "25", "-c:a", "ac3")
    with out.open("r+b") as f:
        f.truncate(out.stat().st_size // 2)
    source = core.sources.create(SourceSpec(name="Odd disk", kind="local", path=str(tmp_path / "odd")))
    core.jobs.run_scan_now(source.id)  # reports the file as damaged; it stays playable

    log_in(page, "/")
    page.locator(".tile", has_text="Cut").click()
    page.locator(".file").get_by_role("link", name=re.compile("Play")).click()
    expect(page.locator("#playback-mode")).to_have_text("Remux (HLS)")
    page.wait_for_function(f"{VIDEO}.currentTime > 1.0", timeout=20_000)
    page.evaluate(f"{VIDEO}.currentTime = 14")
    expect(page.locator("#player-note")).to_contain_text("no media data", timeout=60_000)


def test_a_file_that_is_not_media_says_why(page: Page, live_server: str, core: Core, tmp_path: Path) -> None:
    """Random bytes named .mkv: the plan is a 422 with the server's reason; the page fell
    back to the file as it is and said only that the browser cannot play it."""
    out = tmp_path / "odd" / "Noise (2017)" / "Noise.2017.mkv"
    out.parent.mkdir(parents=True)
    out.write_bytes(bytes((i * 7919 + 13) % 251 for i in range(300_000)))
    source = core.sources.create(SourceSpec(name="Odd disk", kind="local", path=str(tmp_path / "odd")))
    core.jobs.run_scan_now(source.id)  # names the file in its errors; it is listed all the same

    log_in(page, "/")
    page.locator(".tile", has_text="Noise").click()
    page.locator(".file").get_by_role("link", name=re.compile("Play")).click()
    expect(page.locator("#player-note")).to_contain_text(
        "This file cannot be played: not a readable media file")
