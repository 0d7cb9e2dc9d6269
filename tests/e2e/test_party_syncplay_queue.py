"""A browser in a watch party that a Jellyfin app steers through its SyncPlay queue
(Debian chromium): when the app moves the group to the next item, the party plays
that file and the party page follows — it reloads onto the new film (title, stream)
and plays it with the group."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, WebSocketRoute, expect
from sqlalchemy import select

from reelhouse.core import Core
from reelhouse.db.models import MediaFile, SyncPlayQueue, User, WatchSession
from reelhouse.demo.media import make_clip
from reelhouse.jellyfin import ids
from reelhouse.sources.registry import SourceSpec

from helpers import ADMIN, ADMIN_PASSWORD, place, session_token

pytestmark = [pytest.mark.requires_ffmpeg, pytest.mark.timeout(180)]

AUTH = 'MediaBrowser Client="e2e", Device="pytest", DeviceId="e2e-syncplay", Version="1.0"'


@pytest.fixture(scope="session")
def short_film(clip_cache: Path) -> Path:
    return make_clip(clip_cache / "queue.mp4", seconds=20, width=320, height=180)


def _two_films_and_an_app(core: Core, tmp_path: Path, short_film: Path, live_server: str
                          ) -> tuple[tuple[int, int], tuple[int, int], int, requests.Session]:
    """Bunny and Sintel scanned from a local source, as ``(media file id, movie id)``;
    the admin's id; a Jellyfin app session logged in as the admin."""
    for rel in ("Big Buck Bunny (2008)/Big.Buck.Bunny.2008.mp4", "Sintel (2010)/Sintel.2010.mp4"):
        place(short_film, tmp_path / "films", rel)
    src = core.sources.create(SourceSpec(name="Home disk", kind="local", path=str(tmp_path / "films")))
    assert not core.jobs.run_scan_now(src.id).errors
    with core.sessions() as s:
        films = {mf.path.rsplit("/", 1)[-1]: (mf.id, mf.movie_id) for mf in s.scalars(select(MediaFile))}
        admin_id = s.scalars(select(User.id).where(User.name == ADMIN)).one()
    jf = requests.Session()
    r = jf.post(f"{live_server}/jellyfin/Users/AuthenticateByName", json={"Username": ADMIN, "Pw": ADMIN_PASSWORD},
                headers={"authorization": AUTH + ', Token=""'}, timeout=10)
    assert r.status_code == 200, r.text
    jf.headers["authorization"] = AUTH + f', Token="{r.json()["AccessToken"]}"'
    return films["Big.Buck.Bunny.2008.mp4"], films["Sintel.2010.mp4"], admin_id, jf


#: A fallback poll that never comes within a test (ms; setInterval's limit is 2**31 - 1).
FOREVER_MS = 1_000_000_000


def _member_context(browser: Browser, live_server: str, core: Core, user_id: int, fallback_ms: int
                    ) -> BrowserContext:
    """A browser context signed in as ``user_id`` whose queue panels poll every
    ``fallback_ms`` while their party socket is down (party_queue.js)."""
    ctx = browser.new_context(base_url=live_server, bypass_csp=True)
    ctx.set_default_timeout(20_000)
    ctx.add_cookies([{"name": "reelhouse_session", "value": session_token(core, user_id), "url": live_server}])
    ctx.add_init_script(f"window.reelhouseQueueFallbackMs = {fallback_ms};")
    return ctx


def _settled(page: Page) -> int:
    """Wait until the panel follows the party socket with no read under way and not
    polling; the number of queue reads it has made."""
    page.wait_for_function("window.reelQueue.live && window.reelQueue.reads >= 1 && !window.reelQueue.busy")
    status = page.evaluate("window.reelQueue")
    assert status["polling"] is False
    return int(status["reads"])


def _queue_row(core: Core, party_id: int) -> dict[str, Any]:
    with core.sessions() as s:
        row = s.get(SyncPlayQueue, party_id)
        assert row is not None
        s.refresh(row)
        return dict(row.data)


def test_the_party_page_follows_the_queue(browser: Browser, live_server: str, core: Core, tmp_path: Path,
                                          short_film: Path) -> None:
    bunny, sintel, admin_id, jf = _two_films_and_an_app(core, tmp_path, short_film, live_server)

    # the app: a group playing Bunny then Sintel
    assert jf.post(f"{live_server}/jellyfin/SyncPlay/New", json={"GroupName": "g"}, timeout=10).status_code == 200
    queue = [ids.encode("movie", bunny[1]), ids.encode("movie", sintel[1])]
    r = jf.post(f"{live_server}/jellyfin/SyncPlay/SetNewQueue",
                json={"PlayingQueue": queue, "PlayingItemPosition": 0, "StartPositionTicks": 0}, timeout=10)
    assert r.status_code == 204, r.text
    with core.sessions() as s:
        party = s.scalars(select(WatchSession)).one()
        code, party_id = party.code, party.id

    # a browser member on the party page
    ctx = browser.new_context(base_url=live_server, bypass_csp=True)
    ctx.set_default_timeout(20_000)
    ctx.add_cookies([{"name": "reelhouse_session", "value": session_token(core, admin_id), "url": live_server}])
    try:
        page = ctx.new_page()
        page.goto(f"/party/{code}")
        assert f"/{bunny[0]}/stream" in (page.locator("#party").get_attribute("data-stream-url") or "")
        expect(page.locator("h1")).to_contain_text("Big Buck Bunny")
        page.wait_for_function("document.getElementById('player').readyState >= 2")

        with core.sessions() as s:
            row = s.get(SyncPlayQueue, party_id)
            assert row is not None
            playing = row.data["playing"]
        r = jf.post(f"{live_server}/jellyfin/SyncPlay/NextItem", json={"PlaylistItemId": playing}, timeout=10)
        assert r.status_code == 204, r.text

        # the page reloads onto Sintel and plays it with the party
        expect(page.locator("h1")).to_contain_text("Sintel")
        assert f"/{sintel[0]}/stream" in (page.locator("#party").get_attribute("data-stream-url") or "")
        deadline = time.monotonic() + 30
        while True:
            with core.sessions() as s:
                state = s.get(WatchSession, party_id)
                assert state is not None
                s.refresh(state)
                if state.state == "playing":
                    break
            assert time.monotonic() < deadline, state.state
            time.sleep(0.2)
        page.wait_for_function("!document.getElementById('player').paused && "
                               "document.getElementById('player').currentTime > 0.5")
        assert page.locator("#party-banner").is_hidden() or "another film" not in page.locator(
            "#party-banner").inner_text()
    finally:
        ctx.close()


def test_the_queue_panel(browser: Browser, live_server: str, core: Core, tmp_path: Path,
                         short_film: Path) -> None:
    """The party page's queue panel shows the app's queue with the playing entry marked;
    an app's change shows up in it at once, told by the party's socket (the panel's
    fallback poll is set to 11 days here, and it runs only while the socket is down: one
    read follows the change); the browser removes, adds a film found by search,
    moves it up, goes to the previous and next entries (the page reloads onto that
    film) — each change lands in the queue the apps are served; once emptied, the panel
    says so and play is refused ("the play queue is empty")."""
    bunny, sintel, admin_id, jf = _two_films_and_an_app(core, tmp_path, short_film, live_server)
    assert jf.post(f"{live_server}/jellyfin/SyncPlay/New", json={"GroupName": "g"}, timeout=10).status_code == 200
    r = jf.post(f"{live_server}/jellyfin/SyncPlay/SetNewQueue",
                json={"PlayingQueue": [ids.encode("movie", bunny[1])], "PlayingItemPosition": 0,
                      "StartPositionTicks": 0}, timeout=10)
    assert r.status_code == 204, r.text
    with core.sessions() as s:
        party = s.scalars(select(WatchSession)).one()
        code, party_id = party.code, party.id

    def stored() -> list[int]:
        with core.sessions() as s:
            row = s.get(SyncPlayQueue, party_id)
            assert row is not None
            s.refresh(row)
            return [f for _, _, f in row.data["items"]]

    ctx = _member_context(browser, live_server, core, admin_id, FOREVER_MS)
    try:
        page = ctx.new_page()
        page.goto(f"/party/{code}")
        items = page.locator("#queue-items li")
        expect(items).to_have_count(1)
        expect(items.nth(0)).to_have_attribute("aria-current", "true")
        expect(items.nth(0)).to_contain_text("Big Buck Bunny")
        reads = _settled(page)

        # the app queues Sintel: the socket says so, the panel reads the queue once and shows it
        r = jf.post(f"{live_server}/jellyfin/SyncPlay/Queue", json={"ItemIds": [ids.encode("movie", sintel[1])]},
                    timeout=10)
        assert r.status_code == 204, r.text
        expect(items).to_have_count(2)
        expect(items.nth(1)).to_contain_text("Sintel")
        expect(items.nth(1)).not_to_have_attribute("aria-current", "true")
        now = _settled(page)
        # read on the socket's word (the poll is off): one read, or two when a resync sent the
        # message again (party/socket: a 'queue' message is re-sent after a drained resync)
        assert reads + 1 <= now <= reads + 2, (reads, now)

        # the browser removes it, adds it back by search, moves it up
        items.nth(1).get_by_role("button", name="Remove").click()
        expect(items).to_have_count(1)
        assert stored() == [bunny[0]]
        page.fill("#queue-search", "sintel")
        page.click("#queue-add button[type=submit]")
        expect(items).to_have_count(2)
        assert stored() == [bunny[0], sintel[0]]
        items.nth(1).get_by_role("button", name="Move up").click()
        expect(items.nth(0)).to_contain_text("Sintel")
        assert stored() == [sintel[0], bunny[0]]

        # previous (Sintel is before the playing Bunny now): the page reloads onto Sintel
        page.click("#queue-prev")
        expect(page.locator("h1")).to_contain_text("Sintel")
        expect(page.locator("#queue-items li").nth(0)).to_have_attribute("aria-current", "true")
        # next: Bunny again (once the reloaded page's panel is up: a click before its script
        # ran would be lost, as a loaded machine may show the page before running it)
        _settled(page)
        page.click("#queue-next")
        expect(page.locator("h1")).to_contain_text("Big Buck Bunny")

        # emptied: the panel says so, and play is refused with that reason (the old film does not start)
        items = page.locator("#queue-items li")
        expect(items).to_have_count(2)
        _settled(page)
        for left in (1, 0):  # each removal shown before the next click: else, on a loaded
            # machine, the second click could land on the first row before it is gone
            items.nth(0).get_by_role("button", name="Remove").click()
            expect(items).to_have_count(left)
        expect(page.locator("#queue-empty")).to_be_visible()
        assert stored() == []
        page.click("#party-play")
        expect(page.locator("#toasts")).to_contain_text("queue is empty")
        with core.sessions() as s:
            state = s.get(WatchSession, party_id)
            assert state is not None and state.state == "idle"
    finally:
        ctx.close()


def _app_group(core: Core, jf: requests.Session, live_server: str, films: list[int]) -> tuple[str, int]:
    """The app makes a group playing the movies ``films`` (movie ids) from the first:
    its party's ``(code, id)``."""
    assert jf.post(f"{live_server}/jellyfin/SyncPlay/New", json={"GroupName": "g"}, timeout=10).status_code == 200
    r = jf.post(f"{live_server}/jellyfin/SyncPlay/SetNewQueue",
                json={"PlayingQueue": [ids.encode("movie", m) for m in films], "PlayingItemPosition": 0,
                      "StartPositionTicks": 0}, timeout=10)
    assert r.status_code == 204, r.text
    with core.sessions() as s:
        party = s.scalars(select(WatchSession)).one()
        return party.code, party.id


def test_repeat_and_shuffle_in_the_panel(browser: Browser, live_server: str, core: Core, tmp_path: Path,
                                        short_film: Path) -> None:
    """The panel's repeat button cycles off → all → one → off and its shuffle button
    toggles: each press is SyncPlay's SetRepeatMode / SetShuffleMode on the queue the
    apps are served; an app's mode shows in the panel at once (the party socket; no
    poll runs)."""
    bunny, sintel, admin_id, jf = _two_films_and_an_app(core, tmp_path, short_film, live_server)
    code, party_id = _app_group(core, jf, live_server, [bunny[1], sintel[1]])
    ctx = _member_context(browser, live_server, core, admin_id, FOREVER_MS)
    try:
        page = ctx.new_page()
        page.goto(f"/party/{code}")
        expect(page.locator("#queue-items li")).to_have_count(2)
        _settled(page)
        repeat, shuffle = page.locator("#queue-repeat"), page.locator("#queue-shuffle")
        expect(repeat).to_have_attribute("data-mode", "none")
        expect(repeat).to_have_attribute("aria-pressed", "false")
        for mode, stored in (("all", "RepeatAll"), ("one", "RepeatOne"), ("none", "RepeatNone")):
            repeat.click()
            expect(repeat).to_have_attribute("data-mode", mode)
            assert _queue_row(core, party_id)["repeat"] == stored
        expect(repeat).to_contain_text("Repeat: off")

        pids = [e[1] for e in _queue_row(core, party_id)["items"]]
        shuffle.click()
        expect(shuffle).to_have_attribute("aria-pressed", "true")
        row = _queue_row(core, party_id)
        assert row["shuffled"] is not None and sorted(row["shuffled"]) == sorted(pids)
        assert row["shuffled"][0] == row["playing"]  # the playing entry first
        shuffle.click()
        expect(shuffle).to_have_attribute("aria-pressed", "false")
        assert _queue_row(core, party_id)["shuffled"] is None

        # an app's modes: the panel follows through the socket (no poll runs)
        _settled(page)
        r = jf.post(f"{live_server}/jellyfin/SyncPlay/SetRepeatMode", json={"Mode": "RepeatOne"}, timeout=10)
        assert r.status_code == 204, r.text
        expect(repeat).to_have_attribute("data-mode", "one")
        expect(repeat).to_contain_text("Repeat: one")
        _settled(page)
        r = jf.post(f"{live_server}/jellyfin/SyncPlay/SetShuffleMode", json={"Mode": "Shuffle"}, timeout=10)
        assert r.status_code == 204, r.text
        expect(shuffle).to_have_attribute("aria-pressed", "true")
    finally:
        ctx.close()


def test_the_panel_polls_while_the_socket_is_down(browser: Browser, live_server: str, core: Core,
                                                 tmp_path: Path, short_film: Path) -> None:
    """With the party socket refused (each attempt closed at once: a proxy that drops
    WebSockets), the panel falls back to reading the queue every so often, and an
    app's change still reaches it."""
    bunny, sintel, admin_id, jf = _two_films_and_an_app(core, tmp_path, short_film, live_server)
    code, _ = _app_group(core, jf, live_server, [bunny[1]])
    ctx = _member_context(browser, live_server, core, admin_id, 300)

    def refuse(ws: WebSocketRoute) -> None:
        ws.close(code=1011, reason="no WebSockets here")

    ctx.route_web_socket("**/api/parties/*/ws", refuse)
    try:
        page = ctx.new_page()
        page.goto(f"/party/{code}")
        items = page.locator("#queue-items li")
        expect(items).to_have_count(1)
        page.wait_for_function("window.reelQueue.polling && !window.reelQueue.live")
        r = jf.post(f"{live_server}/jellyfin/SyncPlay/Queue", json={"ItemIds": [ids.encode("movie", sintel[1])]},
                    timeout=10)
        assert r.status_code == 204, r.text
        expect(items).to_have_count(2)
        expect(items.nth(1)).to_contain_text("Sintel")
        assert page.evaluate("window.reelQueue.live") is False
    finally:
        ctx.close()
