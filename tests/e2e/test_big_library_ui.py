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
from reelhouse.db.models import MediaFile, Movie, SourceRow, User, WatchProgress

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
