"""A film named on a Mac (NFD) with every character a URL or a shell minds (``'``,
``#``, ``%``, ``?``, ``&``, ``+``, ``[ ]``), on pure-ftpd, with a one-cue French
subtitle in latin-1 made elsewhere (NFC name ``….fr.srt``): in Chromium the film plays
directly, the subtitle menu offers the sidecar, and its cue reads ``Ça déjà vu``. The
sidecar was not found (NFD vs NFC stem), and the cue read ``Зa dйjа vu`` (CP1251)."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import pytest
from e2e.support import log_in
from playwright.sync_api import Page, expect

from reelhouse.core import Core
from reelhouse.library import queries
from reelhouse.sources.registry import SourceSpec

from helpers import PURE_PASSWORD, PURE_USER, pure_ftpd

pytestmark = [pytest.mark.requires_ffmpeg, pytest.mark.ftpd]

VIDEO = "document.getElementById('player')"
FOLDER = unicodedata.normalize("NFD", "Films/Amélie's #1 100% Film? & Co + [x] (2001)/")
STEM = "Amélie's #1 100% Film? & Co + [x] (2001)"
CUE = "Ça déjà vu"


def _fill(home: Path, film: Path) -> None:
    (home / FOLDER).mkdir(parents=True)
    shutil.copyfile(film, home / FOLDER / (unicodedata.normalize("NFD", STEM) + ".mp4"))
    srt = f"1\n00:00:00,000 --> 00:00:30,000\n{CUE}\n"
    (home / FOLDER / (unicodedata.normalize("NFC", STEM) + ".fr.srt")).write_bytes(srt.encode("latin-1"))


def test_mac_named_film_plays_with_its_latin1_sidecar(page: Page, live_server: str, core: Core,
                                                      tmp_path: Path, film: Path) -> None:
    with pure_ftpd(tmp_path, lambda home: _fill(home, film)) as (port, _):
        sid = core.sources.create(SourceSpec(name="pure", kind="ftp", host="127.0.0.1", port=port,
                                             username=PURE_USER, password=PURE_PASSWORD)).id
        assert not core.jobs.run_scan_now(sid).errors
        with core.sessions() as s:
            [row] = queries.list_media_files(s, sid, False, 0, 10)[0]
            file_id = row.id
        log_in(page, f"/play/{file_id}")
        page.wait_for_function(f"{VIDEO}.dataset.mode === 'direct'", timeout=20_000)
        page.wait_for_function(f"{VIDEO}.currentTime > 0.3", timeout=30_000)
        expect(page.locator("#subtitle-menu option")).to_have_count(2)  # Off, the sidecar
        page.select_option("#subtitle-menu", index=1)
        page.wait_for_function(
            f"Array.from({VIDEO}.textTracks).some(t => t.mode === 'showing' && t.activeCues "
            "&& t.activeCues.length > 0)", timeout=20_000)
        text = page.evaluate(f"Array.from({VIDEO}.textTracks).find(t => t.mode === 'showing')"
                             ".activeCues[0].text")
        assert text == CUE
        page.close()
