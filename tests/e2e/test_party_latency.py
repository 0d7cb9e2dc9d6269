"""A watch party between a host on the server's doorstep and a friend 300 ms away (a
round trip through a real TCP proxy holding every byte 150 ms each way: page, film and
WebSocket), in two real browsers (Debian chromium). The friend joins mid-play and lands
where the party is (elapsed time counted on the server's clock, not the moment its
welcome came in); its seek moves the host; its pause stops both at one frame."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e.latency_proxy import Proxy, latency_proxy
from e2e.party_pages import make_party, open_party, signed_in
from e2e.party_sync import SETTLE, Window, drift, samples, server_time, start_sampling, wait_members, wait_state
from party.support import USERS
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from reelhouse.core import Core
from reelhouse.db.models import User
from reelhouse.demo.media import make_clip
from reelhouse.party import state as st

from helpers import ADMIN

pytestmark = [
    pytest.mark.requires_ffmpeg,
    pytest.mark.timeout(180),
]

ONE_WAY = 0.15  # s: a 300 ms round trip
_VIEW = {"viewport": {"width": 1000, "height": 700}}


@pytest.fixture(scope="session")
def party_film(clip_cache: Path) -> Path:
    return make_clip(clip_cache / "party.mp4", seconds=30, width=480, height=270)


@pytest.fixture
def far_server(live_server: str) -> Iterator[Proxy]:
    with latency_proxy(live_server, ONE_WAY) as proxy:
        yield proxy


def _position(page: Page) -> float:
    return float(page.evaluate("() => window.reelParty.video.currentTime"))


def test_a_far_friend_joins_mid_play_seeks_and_pauses_in_sync(
        core: Core, tmp_path: Path, party_film: Path, browser: Browser, live_server: str, far_server: Proxy) -> None:
    code = make_party(core, tmp_path, party_film, USERS)
    near_ctx = signed_in(browser, core, live_server, **_VIEW)
    far_ctx = signed_in(browser, core, far_server.url, "sam", **_VIEW)
    try:
        host, friend = near_ctx.new_page(), far_ctx.new_page()
        host.goto(f"/party/{code}")
        host.wait_for_function("() => window.reelParty.video.readyState >= 3")
        host.locator("#party-play").click()
        wait_state(host, "playing")
        host.wait_for_function("() => window.reelParty.video.currentTime > 2")  # well under way

        friend.goto(f"/party/{code}")  # joins mid-play, 300 ms away
        wait_members(host, 2)
        friend.wait_for_function("() => !window.reelParty.video.paused && window.reelParty.video.currentTime > 2")
        rtt = friend.evaluate("() => Math.min(...window.reelParty.clock.samples.map(s => s.rtt))")
        assert rtt >= 2 * ONE_WAY  # the latency is real
        for p in (host, friend):
            start_sampling(p)
        t = server_time(host)
        time.sleep(SETTLE + 3.0)
        joined = drift(samples(host), [samples(friend)], [Window("join", t + SETTLE, server_time(host))]).figures()
        print("far friend after joining mid-play", joined)
        assert joined["samples"] >= 10 and joined["p95_ms"] <= 100 and joined["max_ms"] <= 250, joined

        # the friend jumps 10 s ahead: the host follows
        before = host.evaluate("() => window.reelParty.expected()")
        friend.locator("#party-fwd").click()
        host.wait_for_function("(b) => window.reelParty.expected() > b + 8", arg=before)
        t = server_time(host)
        time.sleep(SETTLE + 2.5)
        seeked = drift(samples(host), [samples(friend)], [Window("seek", t + SETTLE, server_time(host))]).figures()
        print("after the far friend's seek", seeked)
        assert seeked["samples"] >= 10 and seeked["p95_ms"] <= 100 and seeked["max_ms"] <= 250, seeked

        # the friend pauses: both stop on the same frame, the one the friend saw when it
        # pressed (not 150 ms later, when the server heard of it)
        pressed = friend.evaluate("""() => { const at = window.reelParty.expected();
            document.getElementById('party-play').click(); return at; }""")
        for p in (host, friend):
            wait_state(p, "paused")
            p.wait_for_function("() => window.reelParty.video.paused")
        time.sleep(1.0)
        assert abs(_position(host) - _position(friend)) < 0.05
        paused = friend.evaluate("() => window.reelParty.state().position")
        print("paused", paused - pressed, "s after the friend pressed")
        assert abs(paused - pressed) < 0.05
    finally:
        near_ctx.close()
        far_ctx.close()


def test_a_friend_whose_network_was_down_while_the_party_ended_is_told(
        core: Core, tmp_path: Path, party_film: Path, browser: Browser, far_server: Proxy) -> None:
    """The friend's network goes down (its laptop sleeps) and the host ends the party
    meanwhile. Back online, its page's reconnect is refused at the handshake (HTTP 403:
    the browser sees only close code 1006, as for a network error); the page must find
    out why, not retry for ever saying it is reconnecting."""
    code = make_party(core, tmp_path, party_film, USERS)
    ctx = signed_in(browser, core, far_server.url, "sam", **_VIEW)
    try:
        friend = open_party(ctx, code)
        far_server.refusing = True
        far_server.cut()
        expect(friend.locator("#party-banner")).to_have_text("Connection lost — reconnecting…")
        with core.sessions() as s:
            admin = s.scalars(select(User).where(User.name == ADMIN)).one()
        core.parties.apply(code, lambda now: st.End(admin.id, now))
        far_server.refusing = False
        expect(friend.locator("#party-banner")).to_have_text("This party has ended.", timeout=15_000)
    finally:
        ctx.close()


def test_a_page_whose_clock_stopped_while_asleep_is_back_in_sync_at_once(
        core: Core, tmp_path: Path, party_film: Path, browser: Browser, live_server: str, far_server: Proxy) -> None:
    """A laptop sleeps a moment and wakes with its socket still open: the page's
    performance.now() stopped meanwhile and is now 5 s behind. The next pong shows the
    jump; the page must not keep an older clock sample (it wins on round trip for up to
    8 pings, 16 s) and play 5 s behind the others."""
    code = make_party(core, tmp_path, party_film, USERS)
    near_ctx = signed_in(browser, core, live_server, **_VIEW)
    far_ctx = signed_in(browser, core, far_server.url, "sam", **_VIEW)
    try:
        host, friend = near_ctx.new_page(), far_ctx.new_page()
        for p in (host, friend):
            p.goto(f"/party/{code}")
            p.wait_for_function("() => window.reelParty.video.readyState >= 3")
        wait_members(host, 2)
        host.locator("#party-play").click()
        for p in (host, friend):
            p.wait_for_function("() => !window.reelParty.video.paused && window.reelParty.video.currentTime > 1")
        friend.evaluate("""() => { const now = performance.now.bind(performance);
            performance.now = () => now() - 5000; }""")
        time.sleep(5.0)  # a ping every 2 s
        gap = friend.evaluate("() => window.reelParty.video.currentTime") - _position(host)
        assert abs(gap) < 0.25, gap
    finally:
        near_ctx.close()
        far_ctx.close()
