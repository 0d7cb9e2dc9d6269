"""Constants and helpers shared by the browser tests (the fixtures are in conftest)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reelhouse.library import queries
from reelhouse.sources.registry import SourceSpec

from helpers import ADMIN, ADMIN_PASSWORD, FTP_PASSWORD, FTP_USER

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from reelhouse.core import Core
    from reelhouse.demo.ftpd import EmbeddedFtpServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: the web player's <video>, in the page's scripts
VIDEO = "document.getElementById('player')"
FILM_REL = "Big Buck Bunny (2008)/Big.Buck.Bunny.2008.1080p.mp4"
LOCAL_REL = "Sintel (2010)/Sintel.2010.720p.mp4"


@dataclass
class Library:
    ftp_source_id: int
    local_source_id: int


def log_in(page: Page, path: str = "/", name: str = ADMIN, password: str = ADMIN_PASSWORD) -> None:
    """Open ``path`` (→ login form), log in as ``name`` (the admin), land back on ``path``."""
    page.goto(path)
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def make_film(out: Path, *args: str) -> Path:
    """Make ``out`` (its folder too) with ffmpeg from a 6 s, 320x180, 25 fps test picture
    (input 0) and a 6 s 440 Hz tone (input 1); ``args``: further inputs, maps, codecs."""
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=6",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=6", *args, str(out)],
                   check=True, timeout=120)
    return out


def seedbox(core: Core, ftp_server: EmbeddedFtpServer) -> int:
    """Add ``ftp_server`` as the FTP source "Seedbox" and scan it (asserting no error);
    returns the source's id."""
    source = core.sources.create(SourceSpec(name="Seedbox", kind="ftp", host=ftp_server.host,
                                            port=ftp_server.port, username=FTP_USER, password=FTP_PASSWORD))
    assert not core.jobs.run_scan_now(source.id).errors
    return source.id


def first_file(core: Core, source_id: int) -> int:
    """The id of the first media file of source ``source_id``."""
    with core.sessions() as s:
        return queries.list_media_files(s, source_id, False, 0, 10)[0][0].id
