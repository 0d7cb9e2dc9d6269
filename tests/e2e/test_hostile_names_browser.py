"""Hostile names in a real browser, under the app's own Content-Security-Policy (no
``bypass_csp``): file and folder names with ``<script>``, ``</script>``, quotes,
``javascript:``, a right-to-left override and 300 characters, NFO-like overview and
genres, a subtitle track name; through the grid, search, the movie page, the player
(the film plays) and a watch party. No dialog opens, no inline script or injected
element exists, no CSP violation is reported, and each name reads as typed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, MediaStream, Movie
from reelhouse.library.scanner import scan_source
from reelhouse.server import create_app
from reelhouse.sources.memory import MemorySource

from helpers import install_source, serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.requires_ffmpeg

TITLE = "<img src=x onerror=alert(1)> \"'` \u202egnp.exe"  # a file name: no "/"
#: What an NFO's <title> may say (text, so "</script>" too).
NFO_TITLE = "</script><script>alert(2)</script> \"'"
FILES = [
    f"{TITLE} (2020)/{TITLE} (2020).mp4",
    "javascript:alert(3) (2019)/javascript:alert(3) (2019).mp4",
    "Long " + "x" * 300 + " (2018)/film.mp4",
]
PASSWORD = "a long password"
#: Scripts the pages load (anything else in the DOM was injected).
PAGE_SCRIPTS = ("api.js", "app.js", "hls.min.js", "retry_after.js", "player.js", "transfers.js", "match.js",
                "prepare.js", "together.js", "drift.js", "party.js", "party_queue.js")


@pytest.fixture
def site(tmp_path: Path, sample_mp4: Path) -> Iterator[tuple[Core, str]]:
    core = Core(load_settings(data_dir=tmp_path / "data"))
    clip = sample_mp4.read_bytes()
    memory = MemorySource({p: clip for p in FILES})
    sid = install_source(core, tmp_path, memory, name="<b>disk</b> \"'")
    scan_source(core.sessions, sid, memory)
    core.users.add("ann", PASSWORD)
    with core.sessions() as s:
        for m in s.scalars(select(Movie)):
            if m.title.startswith("javascript:"):
                m.title = NFO_TITLE
            m.overview = "</script><script>alert(4)</script> plot"
            m.genres = ["<svg onload=alert(5)>", "Drama"]
        first = s.scalars(select(MediaFile)).first()
        assert first is not None
        s.add(MediaStream(media_file_id=first.id, index=5, type="subtitle", codec="subrip",
                          language="<i>x</i>", title="</script><script>alert(6)</script>"))
        s.commit()
    try:
        with serving(create_app(core)) as url:
            yield core, url
    finally:
        core.close()


class Watch:
    """Dialogs, CSP reports and page errors of one page."""

    def __init__(self, page: Page) -> None:
        self.dialogs: list[str] = []
        self.console: list[str] = []
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: self.console.append(m.text))
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))

    def check(self, page: Page, where: str) -> None:
        assert not self.dialogs, (where, self.dialogs)
        csp = [m for m in self.console if "Content Security Policy" in m or "pageerror" in m]
        assert not csp, (where, csp)
        injected = page.evaluate(
            """(known) => [...document.querySelectorAll('script, img, svg, iframe, object, embed, [onerror], [onload]')]
                .filter(e => !(e.tagName === 'SCRIPT'
                               && known.some(k => (e.getAttribute('src') || '').endsWith('/' + k))))
                .filter(e => !(e.tagName === 'IMG' && (e.getAttribute('src') || '').startsWith('/api/images/')))
                .map(e => e.outerHTML.slice(0, 120))""", list(PAGE_SCRIPTS))
        assert injected == [], (where, injected)
        hrefs = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))")
        assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:"))], where


@pytest.fixture
def page(browser: Browser, site: tuple[Core, str]) -> Iterator[Page]:
    context = browser.new_context(base_url=site[1], viewport={"width": 1280, "height": 860})
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_hostile_names_in_the_browser(site: tuple[Core, str], page: Page) -> None:
    core, _ = site
    watch = Watch(page)
    page.goto("/")
    page.get_by_label("User name").fill("ann")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    expect(page.locator(".grid .tile-title")).to_have_count(3)
    assert {TITLE, NFO_TITLE} <= set(page.locator(".grid .tile-title").all_inner_texts())
    watch.check(page, "grid")

    page.get_by_label("Search titles").fill(TITLE)
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".grid .tile-title")).to_have_text([TITLE])
    assert page.get_by_label("Search titles").input_value() == TITLE
    watch.check(page, "search")

    page.locator(".grid .tile a").first.click()
    expect(page.locator("h1")).to_contain_text(TITLE)
    expect(page.locator(".overview")).to_have_text("</script><script>alert(4)</script> plot")
    watch.check(page, "movie page")

    page.locator("a.play").first.click()
    page.wait_for_url("**/play/*")
    expect(page.locator("h1.item-title")).to_have_text(TITLE + " (2020)")
    expect(page.locator("#player")).to_have_js_property("paused", False, timeout=20_000)
    expect(page.locator(".streams-subtitles")).to_contain_text("</script><script>alert(6)</script>")
    watch.check(page, "player")

    with core.sessions() as s:
        movie_id = s.scalar(select(Movie.id).where(Movie.title == NFO_TITLE))
    page.goto(f"/movies/{movie_id}")
    expect(page.locator("h1")).to_contain_text(NFO_TITLE)
    watch.check(page, "movie page of the NFO title")
    page.get_by_role("button", name="Watch together").click()
    page.wait_for_url("**/party/*")
    expect(page.locator("h1.item-title")).to_contain_text(NFO_TITLE)
    expect(page.locator("#participants")).to_contain_text("ann")
    watch.check(page, "party")
    assert page.title().startswith("Party ") and NFO_TITLE in page.title()


def test_a_300_character_name_does_not_break_the_layout(site: tuple[Core, str], page: Page) -> None:
    """An unbroken 300-character title and file name wrap or are cut: no page scrolls
    sideways, on a desktop or a phone-sized window."""
    core, _ = site
    with core.sessions() as s:
        movie_id = s.scalar(select(Movie.id).where(Movie.title.like("Long %")))
        file_id = s.scalar(select(MediaFile.id).where(MediaFile.movie_id == movie_id))
    watch = Watch(page)
    page.goto("/login")
    page.get_by_label("User name").fill("ann")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    wide = []
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 800})
        for path in ("/", "/?q=Long", f"/movies/{movie_id}", f"/play/{file_id}"):
            page.goto(path)
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 0:
                culprits = page.evaluate("""() => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                    .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 1))
                    .map(e => e.tagName + '.' + e.className).slice(0, 8)""")
                wide.append((width, path, overflow, culprits))
    assert wide == [], "\n".join(map(str, wide))
    watch.check(page, "long name")
