"""The watch-party seek controls from the keyboard (Debian chromium).

A host holding an arrow key on the seek bar (a key repeats about 30 times a second)
sent one ``seek`` message per change: past ``ws_messages_per_second`` (20, burst 40)
the server closed the host's socket for flooding and the page stopped, "Not
reconnecting" (found by an outside-in hunt). And each press moved 0.1 s (the bar's
step): a keyboard seek through a film took thousands of presses."""

from __future__ import annotations

import pytest
from e2e.party_pages import open_party
from playwright.sync_api import BrowserContext, WebSocket, expect

pytestmark = [pytest.mark.requires_ffmpeg, pytest.mark.timeout(180)]


def test_a_held_arrow_key_on_the_seek_bar_seeks_without_flooding(admin_party: tuple[str, BrowserContext]) -> None:
    code, ctx = admin_party
    seeks: list[str] = []
    closed: list[bool] = []

    def watch(ws: WebSocket) -> None:
        ws.on("framesent", lambda text: seeks.append(str(text)) if '"seek"' in str(text) else None)
        ws.on("close", lambda _ws: closed.append(True))

    page = open_party(ctx, code, watch)
    bar = page.locator("#party-seek")
    expect(bar).to_be_enabled()
    bar.focus()
    # a held key: as fast as the browser takes them, far over 20 messages a second
    for _ in range(300):
        page.keyboard.press("ArrowRight")
    # the last change arrives: the end of the film (30 s), and the socket stayed open
    page.wait_for_function("() => Math.abs(window.reelParty.state().position - 30) < 0.01")
    expect(page.locator("#party-banner")).not_to_contain_text("Disconnected")
    assert not closed
    assert len(seeks) < 100, len(seeks)  # one per 250 ms at most, not one per key
    # one press: 5 s back, not the bar's 0.1 s step
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => Math.abs(window.reelParty.state().position - 25) < 0.01")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => Math.abs(window.reelParty.state().position - 20) < 0.01")
