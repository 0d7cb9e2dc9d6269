"""The A-Z bar in a real browser: a letter without titles (for the page's filters) is a
disabled link — no href, out of the Tab order, ``aria-disabled`` — in the same box as
the others; the letters follow the title folding ("Ørnen" under O, "Æon Flux" under A)
and the search (only the letters of what it found). The login takes the user name in
any letter case."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from e2e.support import log_in
from playwright.sync_api import Page, expect
from sqlalchemy import insert

from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie, SourceRow

from helpers import ADMIN

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TITLES = ["Ørnen", "Æon Flux", "Amélie", "Zodiac", "100 Wolf", "The Matrix"]


@pytest.fixture
def titled(core: Core, tmp_path: Path) -> Core:
    with core.sessions() as s:
        s.execute(insert(SourceRow), [{"id": 1, "name": "disk", "kind": "local", "path": str(tmp_path),
                                       "tls": "none", "verify_tls": True, "created_at": NOW}])
        s.execute(insert(Movie), [{"id": i, "title": t, "match_key": f"m{i}", "needs_review": False,
                                   "locked": False, "created_at": NOW} for i, t in enumerate(TITLES, start=1)])
        s.execute(insert(MediaFile), [{"source_id": 1, "path": f"Films/{i}.mkv", "size": 1, "kind": "movie",
                                       "movie_id": i, "first_seen": NOW, "last_seen": NOW}
                                      for i in range(1, len(TITLES) + 1)])
        s.commit()
    return core


def _bar(page: Page) -> tuple[list[str], list[str]]:
    """(letters with a link, disabled letters) of the bar."""
    bar = page.locator("nav.az")
    return (bar.locator("a[href]").all_inner_texts(), bar.locator("a[aria-disabled=true]").all_inner_texts())


def test_empty_letters_are_disabled_and_skipped_by_tab(titled: Core, page: Page) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in(page, name=ADMIN.upper())  # the login form takes the name in any letter case
    enabled, disabled = _bar(page)
    assert enabled == ["#", "A", "M", "O", "Z"]
    assert disabled == [c for c in "BCDEFGHIJKLNPQRSTUVWXY"]
    empty = page.locator("nav.az").get_by_role("link", name="B", exact=True)
    expect(empty).to_have_attribute("aria-disabled", "true")
    expect(empty).not_to_have_attribute("href", r".*")
    # the same box as a letter with titles: the bar keeps its layout (one row, same height)
    boxes = [page.locator("nav.az a").nth(i).bounding_box() for i in range(27)]
    assert all(b is not None for b in boxes)
    assert len({round(b["y"]) for b in boxes if b}) == 1 and len({round(b["height"]) for b in boxes if b}) == 1
    xs = [b["x"] for b in boxes if b]
    assert xs == sorted(xs)
    # Tab walks the letters with titles only
    page.locator("nav.az").get_by_role("link", name="#", exact=True).focus()
    walked = []
    for _ in range(4):
        page.keyboard.press("Tab")
        walked.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert walked == ["A", "M", "O", "Z"]
    # a disabled letter goes nowhere; O shows Ørnen (folded: Ø under O), A both A titles
    url = page.url
    expect(empty).to_be_disabled()  # Playwright reads aria-disabled: it would not click it
    empty.click(force=True)
    page.wait_for_load_state()
    assert page.url == url
    page.locator("nav.az").get_by_role("link", name="O", exact=True).click()
    page.wait_for_url("**letter=O**")
    expect(page.locator(".grid .tile-title")).to_have_text(["Ørnen"])
    assert _bar(page)[0] == ["#", "A", "M", "O", "Z"]  # the current letter's filter is not the bar's
    page.locator("nav.az").get_by_role("link", name="A", exact=True).click()
    page.wait_for_url("**letter=A**")
    expect(page.locator(".grid .tile-title")).to_have_text(["Æon Flux", "Amélie"])


def test_the_bar_follows_the_search(titled: Core, page: Page) -> None:
    log_in(page)
    page.get_by_label("Search titles").fill("ornen")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**q=ornen**")
    expect(page.locator(".grid .tile-title")).to_have_text(["Ørnen"])
    enabled, disabled = _bar(page)
    assert enabled == ["O"] and len(disabled) == 26
