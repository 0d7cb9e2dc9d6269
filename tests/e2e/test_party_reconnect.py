"""The watch-party page after the server closes its socket (Debian chromium).

A close with 1008 (policy violation: too many messages, too many connections, too many
reconnects) is the server saying no: the page called it back every 300 ms for ever
(its back-off restarted on every open, and the server accepts before it refuses). It
must stop and say why. Other closes back off exponentially with jitter."""

from __future__ import annotations

import time

import pytest
from e2e.party_pages import open_party
from playwright.sync_api import BrowserContext, WebSocket, expect

pytestmark = [pytest.mark.requires_ffmpeg, pytest.mark.timeout(180)]


def test_a_policy_close_stops_the_reconnects_and_says_why(admin_party: tuple[str, BrowserContext]) -> None:
    code, ctx = admin_party
    sockets: list[WebSocket] = []
    page = open_party(ctx, code, sockets.append)
    assert len(sockets) == 1
    # far over ws_messages_per_second (20/s, burst 40): the server closes with 1008
    page.evaluate("() => { for (let i = 0; i < 200; i++) window.reelParty.send('ping', { t0: 0 }); }")
    banner = page.locator("#party-banner")
    expect(banner).to_contain_text("Disconnected by the server: too many messages; slow down")
    expect(banner).to_contain_text("Not reconnecting")
    time.sleep(3.0)  # the old page had called back ten times by now
    assert len(sockets) == 1, [s.url for s in sockets]
    expect(banner).to_contain_text("Disconnected by the server")


def test_other_closes_back_off_exponentially_with_jitter(admin_party: tuple[str, BrowserContext]) -> None:
    page = open_party(admin_party[1], admin_party[0])
    low, high = page.evaluate("""() => {
        const b = window.reelParty.backoff;
        return [[...Array(10).keys()].map((n) => b(n, 0)), [...Array(10).keys()].map((n) => b(n, 0.999))];
    }""")
    # half fixed, half random: from 0.25-0.5 s doubling to the 15 s cap
    assert low[:6] == [250, 500, 1000, 2000, 4000, 7500] and low[6:] == [7500] * 4
    assert all(lo < hi <= 2 * lo for lo, hi in zip(low, high, strict=True))
    assert high[-1] < 15000
