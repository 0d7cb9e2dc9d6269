"""The pages' scripts still work where ``Origin`` and ``Sec-Fetch-Site`` never reach the
server (a privacy proxy strips them, an old browser): every state change they make
carries the page's CSRF token (``<meta name="csrf-token">``, ``X-CSRF-Token``), the
proof :mod:`reelhouse.api.security` takes then. In Chromium with those headers
removed from every request before the app sees it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie, WatchProgress
from reelhouse.library.scanner import scan_source
from reelhouse.server import create_app
from reelhouse.sources.memory import MemorySource

from helpers import install_source, serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.requires_ffmpeg

PASSWORD = "a long password"
#: The paths of the state changes the server received.
SEEN: list[str] = []
NEW_PASSWORD = "another long password"


@pytest.fixture
def site(tmp_path: Path, sample_mp4: Path) -> Iterator[tuple[Core, str]]:
    core = Core(load_settings(data_dir=tmp_path / "data"))
    memory = MemorySource({"Film (2020)/Film (2020).mp4": sample_mp4.read_bytes()})
    scan_source(core.sessions, install_source(core, tmp_path, memory), memory)
    core.users.add("ann", PASSWORD)
    app = create_app(core)

    async def stripping_proxy(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"]
                                          if k.lower() != b"origin" and not k.lower().startswith(b"sec-fetch-")]}
            if scope["method"] not in ("GET", "HEAD"):
                SEEN.append(scope["path"])
        await app(scope, receive, send)

    try:
        with serving(stripping_proxy) as url:
            yield core, url
    finally:
        core.close()


@pytest.fixture
def page(browser: Browser, site: tuple[Core, str]) -> Iterator[Page]:
    context = browser.new_context(base_url=site[1], viewport={"width": 1280, "height": 860})
    context.set_default_timeout(30_000)
    refused: list[str] = []
    pg = context.new_page()
    pg.on("response", lambda r: refused.append(r.url) if r.status == 403 else None)
    try:
        yield pg
        assert refused == []
    finally:
        context.close()


def test_scripts_send_the_csrf_token(site: tuple[Core, str], page: Page) -> None:
    core, _ = site
    page.goto("/login")
    page.get_by_label("User name").fill("ann")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    with core.sessions() as s:
        movie_id = s.scalar(select(Movie.id))
        file_id = s.scalar(select(MediaFile.id))
    # player.js: the playback plan (POST) and the progress reports (PUT)
    page.goto(f"/play/{file_id}")
    expect(page.locator("#playback-mode")).to_have_text("Direct play")
    _poll(lambda: page.evaluate("() => document.getElementById('player').currentTime") > 1.5)
    page.evaluate("() => document.getElementById('player').pause()")  # a pause reports the position
    _poll(lambda: _position(core, file_id) > 1.0)
    # together.js: POST /api/parties
    page.goto(f"/movies/{movie_id}")
    page.get_by_role("button", name="Watch together").click()
    page.wait_for_url("**/party/*")
    # api.js: change the password
    page.goto("/account")
    page.locator("#old-password").fill(PASSWORD)
    page.locator("#new-password").fill(NEW_PASSWORD)
    page.locator("#new-password-again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#password-status")).to_have_text("Password changed; other sessions signed out.")
    # the logout form: its hidden csrf_token
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    assert core.users.authenticate("ann", NEW_PASSWORD)
    assert {"/api/parties", "/api/auth/password", "/logout", f"/api/library/media-files/{file_id}/progress",
            f"/api/library/media-files/{file_id}/playback/plan"} <= set(SEEN)


def _position(core: Core, file_id: int) -> float:
    with core.sessions() as s:
        return s.scalar(select(WatchProgress.position).where(WatchProgress.media_file_id == file_id)) or 0.0


def _poll(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
