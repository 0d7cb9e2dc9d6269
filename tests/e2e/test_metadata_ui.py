"""Metadata in the browser: the grid shows poster thumbnails (served resized by
reelhouse), and "Fix match" on a detail page searches TMDB (a fake server replaying
recorded answers) and applies the pick."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e.support import log_in
from playwright.sync_api import Page, expect
from tmdb_fake import FakeTmdb, jpeg

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.sources.registry import SourceSpec

from helpers import ADMIN, ADMIN_PASSWORD

VIDEO = b"\x00not a video\x00" * 8


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    """A Core whose TMDB is the fake, with a scanned local folder: Sintel (2010) with a
    poster.jpg, and The Thing (two films of that name on TMDB: needs review)."""
    with FakeTmdb() as fake:
        c = Core(load_settings(data_dir=tmp_path / "data", **fake.settings()))
        c.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
        films = tmp_path / "films"
        (films / "Sintel (2010)").mkdir(parents=True)
        (films / "Sintel (2010)" / "Sintel.2010.mkv").write_bytes(VIDEO)
        (films / "Sintel (2010)" / "poster.jpg").write_bytes(jpeg(600, 900, (30, 160, 90)))
        (films / "Movies").mkdir()
        (films / "Movies" / "The.Thing.mkv").write_bytes(VIDEO)
        sid = c.sources.create(SourceSpec(name="Home disk", kind="local", path=str(films))).id
        c.jobs.run_scan_now(sid)
        yield c
        c.close()


def test_grid_poster_and_fix_match(page: Page, artifacts: Path) -> None:
    log_in(page, "/")
    sintel = page.locator(".tile", has_text="Sintel")
    img = sintel.locator("img.poster-img")
    expect(img).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    assert img.evaluate("img => img.naturalWidth") in (200, 400)  # the resized copy (1x or 2x)
    expect(page.locator(".tile", has_text="The Thing").locator("img.poster-img")).to_have_count(0)
    page.screenshot(path=str(artifacts / "e2e-metadata-grid.png"))

    page.locator(".tile", has_text="The Thing").click()
    expect(page.locator(".review-note")).to_contain_text("unsure")
    page.locator(".fix-match summary").click()
    page.get_by_role("button", name="Search TMDB").click()
    results = page.locator(".match-result")
    expect(results).to_have_count(2)
    results.filter(has_text="(1982)").get_by_role("button", name="Use this").click()
    expect(page.locator(".item-facts")).to_contain_text("Horror")
    expect(page.locator(".hero .year")).to_have_text("1982")
    expect(page.locator(".hero img.poster-img")).to_be_visible()
    expect(page.locator(".review-note")).to_have_count(0)
    expect(page.locator(".fix-match summary")).to_contain_text("fixed by hand")

    page.locator(".fix-match summary").click()  # the page reloaded: open it again
    page.get_by_label("Title", exact=True).fill("The Thing (Carpenter)")
    page.get_by_role("button", name="Save title and year").click()
    expect(page.locator("h1")).to_have_text(re.compile(r"The Thing \(Carpenter\)"))
    page.screenshot(path=str(artifacts / "e2e-metadata-detail.png"), full_page=True)
