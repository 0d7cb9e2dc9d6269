"""Constants and helpers shared by the browser tests (the fixtures are in conftest)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from helpers import ADMIN, ADMIN_PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Page

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
FILM_REL = "Big Buck Bunny (2008)/Big.Buck.Bunny.2008.1080p.mp4"
LOCAL_REL = "Sintel (2010)/Sintel.2010.720p.mp4"


@dataclass
class Library:
    ftp_source_id: int
    local_source_id: int


def log_in(page: Page, path: str = "/") -> None:
    """Open ``path`` (→ login form), log in as the admin, land back on ``path``."""
    page.goto(path)
    page.get_by_label("User name").fill(ADMIN)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)
