"""The watch-party page after the server closes its socket (Debian chromium).

A close with 1008 (policy violation: too many messages, too many connections, too many
reconnects) is the server saying no: the page called it back every 300 ms for ever
(its back-off restarted on every open, and the server accepts before it refuses). It
must stop and say why. Other closes back off exponentially with jitter."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, WebSocket, expect
from sqlalchemy import select

from reelhouse.core import Core
from reelhouse.db.models import MediaFile, User
from reelhouse.demo.media import make_clip
from reelhouse.sources.registry import SourceSpec

from helpers import ADMIN, place, session_token

pytestmark = [pytest.mark.requires_ffmpeg, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("reconnect") / "film.mp4", seconds=4, width=160, height=90)


def _party(core: Core, tmp_path: Path, film: Path) -> str:
    place(film, tmp_path / "films", "Big Buck Bunny (2008)/Big.Buck.Bunny.2008.mp4")
    src = core.sources.create(SourceSpec(name="Home disk", kind="local", path=str(tmp_path / "films")))
    assert not core.jobs.run_scan_now(src.id).errors
    with core.sessions() as s:
        film_id = s.scalars(select(MediaFile.id)).one()
        admin = s.scalars(select(User).where(User.name == ADMIN)).one()
    return core.parties.create(admin, film_id, "collaborative").code


def _admin_context(core: Core, browser: Browser, live_server: str) -> BrowserContext:
    """A browser context signed in as the admin (a session cookie), 20 s timeouts."""
    ctx = browser.new_context(base_url=live_server)
    ctx.set_default_timeout(20_000)
    with core.sessions() as s:
        admin_id = s.scalars(select(User.id).where(User.name == ADMIN)).one()
    ctx.add_cookies([{"name": "reelhouse_session", "value": session_token(core, admin_id), "url": live_server}])
    return ctx


def test_a_policy_close_stops_the_reconnects_and_says_why(
        core: Core, tmp_path: Path, film: Path, browser: Browser, live_server: str) -> None:
    code = _party(core, tmp_path, film)
    ctx = _admin_context(core, browser, live_server)
    try:
        page = ctx.new_page()
        sockets: list[WebSocket] = []
        page.on("websocket", lambda ws: sockets.append(ws))
        page.goto(f"/party/{code}")
        page.wait_for_function("() => window.reelParty.state() !== null")
        assert len(sockets) == 1
        # far over ws_messages_per_second (20/s, burst 40): the server closes with 1008
        page.evaluate("() => { for (let i = 0; i < 200; i++) window.reelParty.send('ping', { t0: 0 }); }")
        banner = page.locator("#party-banner")
        expect(banner).to_contain_text("Disconnected by the server: too many messages; slow down")
        expect(banner).to_contain_text("Not reconnecting")
        time.sleep(3.0)  # the old page had called back ten times by now
        assert len(sockets) == 1, [s.url for s in sockets]
        expect(banner).to_contain_text("Disconnected by the server")
    finally:
        ctx.close()


def test_other_closes_back_off_exponentially_with_jitter(
        core: Core, tmp_path: Path, film: Path, browser: Browser, live_server: str) -> None:
    code = _party(core, tmp_path, film)
    ctx = _admin_context(core, browser, live_server)
    try:
        page = ctx.new_page()
        page.goto(f"/party/{code}")
        page.wait_for_function("() => window.reelParty.state() !== null")
        low, high = page.evaluate("""() => {
            const b = window.reelParty.backoff;
            return [[...Array(10).keys()].map((n) => b(n, 0)), [...Array(10).keys()].map((n) => b(n, 0.999))];
        }""")
        # half fixed, half random: from 0.25-0.5 s doubling to the 15 s cap
        assert low[:6] == [250, 500, 1000, 2000, 4000, 7500] and low[6:] == [7500] * 4
        assert all(lo < hi <= 2 * lo for lo, hi in zip(low, high, strict=True))
        assert high[-1] < 15000
    finally:
        ctx.close()
