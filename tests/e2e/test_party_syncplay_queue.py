"""A browser in a watch party that a Jellyfin app steers through its SyncPlay queue
(Debian chromium): when the app moves the group to the next item, the party plays
that file and the party page follows — it reloads onto the new film (title, stream)
and plays it with the group."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, expect
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
    an app's change shows up in it; the browser removes, adds a film found by search,
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

    ctx = browser.new_context(base_url=live_server, bypass_csp=True)
    ctx.set_default_timeout(20_000)
    ctx.add_cookies([{"name": "reelhouse_session", "value": session_token(core, admin_id), "url": live_server}])
    try:
        page = ctx.new_page()
        page.goto(f"/party/{code}")
        items = page.locator("#queue-items li")
        expect(items).to_have_count(1)
        expect(items.nth(0)).to_have_attribute("aria-current", "true")
        expect(items.nth(0)).to_contain_text("Big Buck Bunny")

        # the app queues Sintel: the panel shows it
        r = jf.post(f"{live_server}/jellyfin/SyncPlay/Queue", json={"ItemIds": [ids.encode("movie", sintel[1])]},
                    timeout=10)
        assert r.status_code == 204, r.text
        expect(items).to_have_count(2)
        expect(items.nth(1)).to_contain_text("Sintel")
        expect(items.nth(1)).not_to_have_attribute("aria-current", "true")

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
        # next: Bunny again
        page.click("#queue-next")
        expect(page.locator("h1")).to_contain_text("Big Buck Bunny")

        # emptied: the panel says so, and play is refused with that reason (the old film does not start)
        items = page.locator("#queue-items li")
        expect(items).to_have_count(2)
        for _ in range(2):
            items.nth(0).get_by_role("button", name="Remove").click()
        expect(items).to_have_count(0)
        expect(page.locator("#queue-empty")).to_be_visible()
        assert stored() == []
        page.click("#party-play")
        expect(page.locator("#toasts")).to_contain_text("queue is empty")
        with core.sessions() as s:
            state = s.get(WatchSession, party_id)
            assert state is not None and state.state == "idle"
    finally:
        ctx.close()
