"""The library page for big libraries (issue 14), in a real browser: pages of 60 titles
with a "Next page" link (keyset), the A-Z jump, and filters by resolution, genre and
"unwatched" — on a library of 130 films put straight into the database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from e2e.support import log_in
from playwright.sync_api import Page, expect
from sqlalchemy import insert, select

from reelhouse.core import Core
from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show, SourceRow, User, WatchProgress

from helpers import ADMIN

NOW = datetime(2026, 1, 1, tzinfo=UTC)
FILMS = 130


@pytest.fixture
def big(core: Core, tmp_path: Path) -> Core:
    with core.sessions() as s:
        uid = s.scalar(select(User.id).where(User.name == ADMIN))
    with core.sessions() as s:
        s.execute(insert(SourceRow), [{"id": 1, "name": "disk", "kind": "local", "path": str(tmp_path),
                                       "tls": "none", "verify_tls": True, "created_at": NOW}])
        s.execute(insert(Movie), [{"id": i, "title": f"{chr(65 + i % 26)}film {i:03d}", "year": 1990 + i % 30,
                                   "match_key": f"m{i}", "genres": ["Comedy"] if i % 10 == 0 else ["Drama"],
                                   "needs_review": False, "locked": False, "created_at": NOW}
                                  for i in range(1, FILMS + 1)])
        s.execute(insert(MediaFile), [{"source_id": 1, "path": f"Films/{i}.mkv", "size": 1, "kind": "movie",
                                       "movie_id": i, "height": 2160 if i % 13 == 0 else 1080,
                                       "first_seen": NOW, "last_seen": NOW} for i in range(1, FILMS + 1)])
        s.execute(insert(WatchProgress), [{"user_id": uid, "media_file_id": i, "position": 0.0,
                                           "watched": True, "updated_at": NOW} for i in range(1, 21)])
        s.commit()
    return core


def _titles(page: Page) -> list[str]:
    return page.locator(".grid .tile-title").all_inner_texts()


def test_pages_az_and_filters(big: Core, page: Page) -> None:
    log_in(page)
    expect(page.locator(".count")).to_have_text(f"{FILMS} titles")
    first = _titles(page)
    assert len(first) == 60 and first == sorted(first, key=str.lower)
    page.get_by_role("link", name="Next page →").click()
    second = _titles(page)
    assert len(second) == 60 and not set(first) & set(second)
    assert second[0].lower() > first[-1].lower()
    page.get_by_role("link", name="Next page →").click()
    third = _titles(page)
    assert len(third) == FILMS - 120
    expect(page.get_by_role("link", name="Next page →")).to_have_count(0)
    page.get_by_role("link", name="← First page").click()
    assert _titles(page) == first
    # A-Z: the films whose title starts with K
    page.locator("nav.az").get_by_role("link", name="K", exact=True).click()
    k = _titles(page)
    assert k and all(t.startswith("K") for t in k)
    assert len(k) == sum(1 for i in range(1, FILMS + 1) if chr(65 + i % 26) == "K")
    page.locator("nav.az").get_by_role("link", name="K", exact=True).click()  # again: off
    expect(page.locator(".count")).to_have_text(f"{FILMS} titles")
    # filters: resolution, genre, unwatched
    page.get_by_label("Resolution").select_option("2160p")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".count")).to_have_text(f"{FILMS // 13} titles")
    page.goto("/?genre=Comedy")
    expect(page.locator(".count")).to_have_text(f"{FILMS // 10} titles")
    page.goto("/")
    page.get_by_label("Unwatched").check()
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".count")).to_have_text(f"{FILMS - 20} titles")


@pytest.fixture
def long_show(core: Core, tmp_path: Path) -> int:
    """A show of 30 seasons of 30 episodes and two specials (season 0), one file each."""
    with core.sessions() as s:
        s.execute(insert(SourceRow), [{"id": 1, "name": "disk", "kind": "local", "path": str(tmp_path),
                                       "tls": "none", "verify_tls": True, "created_at": NOW}])
        s.execute(insert(Show), [{"id": 7, "title": "The Long Show", "year": 1990, "match_key": "s7",
                                  "needs_review": False, "locked": False, "created_at": NOW}])
        s.execute(insert(Season), [{"id": 100 + n, "show_id": 7, "number": n} for n in range(31)])
        eps = [{"id": (100 + n) * 100 + e, "season_id": 100 + n, "number": e, "title": f"Part {n}.{e}"}
               for n in range(31) for e in range(1, (3 if n == 0 else 31))]
        s.execute(insert(Episode), eps)
        s.execute(insert(MediaFile), [{"id": e["id"], "source_id": 1, "path": f"Long/{e['id']}.mkv", "size": 1,
                                       "kind": "episode", "episode_id": e["id"], "show_id": 7, "first_seen": NOW,
                                       "last_seen": NOW} for e in eps])
        s.commit()
    return 7


def test_a_show_of_thirty_seasons_shows_one_season_at_a_time(long_show: int, page: Page) -> None:
    """The show page listed every season at once: for 30 seasons of 30 episodes, a 1 MB
    page of 2,700 controls, season 30 some 900 episodes (and 2,700 Tabs) down (found by
    an outside-in hunt). Now a link to each season, and the chosen season's episodes."""
    log_in(page, f"/shows/{long_show}")
    seasons = page.get_by_role("navigation", name="Seasons")
    expect(seasons.get_by_role("link")).to_have_count(31)
    expect(seasons.get_by_role("link", name="Season 1", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.locator(".episode")).to_have_count(30)  # season 1 first (not the specials)
    expect(page.locator(".episode-code").first).to_have_text("S01E01")
    # from the keyboard: season 30 is a few Tabs away, past the page's top
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # "Skip to content"
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Season 30":
            break
    else:
        raise AssertionError("Season 30 is not within 60 Tabs of the content")
    page.keyboard.press("Enter")
    page.wait_for_url("**season=30")
    expect(page.locator(".episode")).to_have_count(30)
    expect(page.locator(".episode-code").first).to_have_text("S30E01")
    expect(page.get_by_role("heading", name="Season 30")).to_be_visible()
    # the player of an episode leads back to its season
    page.get_by_role("link", name="Play S30E05").click()
    page.get_by_role("link", name="← The Long Show").click()
    page.wait_for_url("**season=30")
    page.goto(f"/shows/{long_show}?season=0")
    expect(page.locator(".episode-code")).to_have_text(["S00E01", "S00E02"])
    expect(page.get_by_role("heading", name="Specials")).to_be_visible()
    for bad in ("x", "99", "-1", "１"):  # not a season of the show: the first season
        page.goto(f"/shows/{long_show}?season={bad}")
        expect(page.locator(".episode-code").first).to_have_text("S01E01")


def test_back_and_forward_show_the_filters_of_the_grid(big: Core, page: Page) -> None:
    """Back showed the page as it was left: the grid of all titles under the "2160p" just
    chosen (or a genre typed and sent), a filter shown that was not applied (found by an
    outside-in hunt). The fields now say what filters the grid on every page of the history."""
    log_in(page)
    expect(page.locator(".count")).to_have_text(f"{FILMS} titles")
    page.get_by_label("Resolution").select_option("2160p")
    page.wait_for_url("**resolution=2160p**")
    expect(page.locator(".count")).to_have_text(f"{FILMS // 13} titles")
    page.get_by_label("Genre").fill("Comedy")
    page.get_by_label("Genre").press("Enter")
    page.wait_for_url("**genre=Comedy**")
    page.go_back()
    page.wait_for_url(lambda url: "genre=Comedy" not in url)
    expect(page.locator(".count")).to_have_text(f"{FILMS // 13} titles")
    expect(page.get_by_label("Genre")).to_have_value("")
    expect(page.get_by_label("Resolution")).to_have_value("2160p")
    page.go_back()
    page.wait_for_url(lambda url: "resolution" not in url)
    expect(page.locator(".count")).to_have_text(f"{FILMS} titles")
    expect(page.get_by_label("Resolution")).to_have_value("")
    page.go_forward()
    page.wait_for_url("**resolution=2160p**")
    expect(page.get_by_label("Resolution")).to_have_value("2160p")
    expect(page.get_by_label("Genre")).to_have_value("")


def test_a_new_search_looks_past_the_letter(big: Core, page: Page) -> None:
    """The A-Z letter is a hidden field of the filters: a search typed on the K page
    looked among the titles under K only, and "Nothing matches" did not say why (found
    by an outside-in hunt). A new search drops the letter; other filters keep it."""
    log_in(page)
    page.locator("nav.az").get_by_role("link", name="K", exact=True).click()
    page.wait_for_url("**letter=K**")
    page.get_by_label("Search titles").fill("Bfilm 001")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**q=Bfilm**")
    assert "letter=K" not in page.url
    expect(page.locator(".grid .tile-title")).to_have_text(["Bfilm 001"])
    page.locator("nav.az").get_by_role("link", name="B", exact=True).click()  # the letter with the search
    page.wait_for_url("**letter=B**")
    page.get_by_label("Type").select_option("movie")  # a filter keeps both
    page.wait_for_url("**type=movie**")
    assert "letter=B" in page.url and "q=Bfilm" in page.url
    expect(page.locator(".grid .tile-title")).to_have_text(["Bfilm 001"])
