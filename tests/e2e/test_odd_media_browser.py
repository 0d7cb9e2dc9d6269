"""Odd media in real Chromium: an audio-only Matroska file (MP3: no browser plays the
container) and an MPEG-TS recording (no keyframe index) play through hls.js."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from e2e.support import CHROMIUM, log_in

from reelhouse.core import Core
from reelhouse.sources.registry import SourceSpec

pytestmark = [
    pytest.mark.requires_chromium,
    pytest.mark.requires_ffmpeg,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing"),
]

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - the skip below says why
    pytest.skip("playwright is not installed", allow_module_level=True)

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
    expect(page.locator("#playback-mode")).to_have_text("Remux (HLS)")
    page.wait_for_function(f"{VIDEO}.currentTime > 1.0", timeout=20_000)
    page.evaluate(f"{VIDEO}.currentTime = 4.5")
    page.wait_for_function(f"{VIDEO}.currentTime > 4.8", timeout=20_000)
    expect(page.locator("#player-note")).to_be_hidden()
