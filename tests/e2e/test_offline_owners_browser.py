"""Keep offline with several owners, in Chromium: two users keep the same film (one
copy), each page shows its user's own state, a third sees nothing kept; releasing on
the film's page or the Transfers page removes only that user's claim, and the copy
with the last. Before, "✓ Kept offline" showed to every user once anyone kept the
film, and the second user's "release" removed the first user's copy."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e.support import FILM_REL, Library, log_in
from playwright.sync_api import Browser, Page, expect

from reelhouse.core import Core

FILM = "Big Buck Bunny"


@pytest.fixture
def pages(browser: Browser, live_server: str, core: Core) -> Iterator[dict[str, Page]]:
    """ann, bob and cat (not admins), each logged in in their own browser context."""
    contexts = []
    out = {}
    try:
        for name in ("ann", "bob", "cat"):
            core.users.add(name, f"{name}-password")
            context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 860})
            context.set_default_timeout(30_000)
            contexts.append(context)
            out[name] = context.new_page()
            log_in(out[name], "/", name, f"{name}-password")
        yield out
    finally:
        for context in contexts:
            context.close()


def _film_page(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name=FILM).first.click()
    page.wait_for_url("**/movies/*")


def _wait_ready(core: Core) -> None:
    deadline = time.monotonic() + 30
    while not any(c.state == "ready" for c in core.offline.copies()):
        assert time.monotonic() < deadline, "the offline copy was not made"
        time.sleep(0.1)


def test_each_user_sees_and_releases_their_own_keep_offline(
    pages: dict[str, Page], library: Library, core: Core, artifacts: Path,
) -> None:
    ann, bob, cat = pages["ann"], pages["bob"], pages["cat"]
    copy = core.settings.store_dir / "offline" / str(library.ftp_source_id) / FILM_REL
    _film_page(ann)
    ann.get_by_role("button", name="Keep offline").click()
    expect(ann.get_by_role("button", name="✓ Kept offline (downloading…)")).to_be_visible()
    _wait_ready(core)

    # bob and cat see the film as not kept by them, with no trace of ann's copy
    for page in (bob, cat):
        _film_page(page)
        expect(page.get_by_role("button", name="Keep offline", exact=True)).to_be_visible()
        expect(page.get_by_text("offline copy")).to_have_count(0)

    bob.get_by_role("button", name="Keep offline", exact=True).click()
    expect(bob.get_by_role("button", name="✓ Kept offline (downloading…)")).to_be_visible()
    bob.reload()  # the copy was there already: his is ready at once
    expect(bob.get_by_role("button", name="✓ Kept offline", exact=True)).to_be_visible()
    expect(bob.get_by_text("offline copy").first).to_be_visible()
    cat.reload()
    expect(cat.get_by_role("button", name="Keep offline", exact=True)).to_be_visible()
    bob.screenshot(path=str(artifacts / "offline-kept-by-bob.png"))

    # bob releases on the film's page: ann's copy stays
    bob.get_by_role("button", name="✓ Kept offline", exact=True).click()
    expect(bob.get_by_role("button", name="Keep offline", exact=True)).to_be_visible()
    bob.reload()
    expect(bob.get_by_role("button", name="Keep offline", exact=True)).to_be_visible()
    ann.reload()
    expect(ann.get_by_role("button", name="✓ Kept offline", exact=True)).to_be_visible()
    assert copy.exists()

    # ann releases on the Transfers page: the last claim, the copy goes
    errors: list[str] = []  # a user's Transfers page threw at its (admins') upload form
    ann.on("pageerror", lambda e: errors.append(str(e)))
    ann.goto("/transfers")
    mine = ann.locator("#my-offline-copies li")
    expect(mine).to_have_count(1)
    mine.get_by_role("button", name="Release").click()
    expect(mine).to_have_count(0)
    assert not copy.exists() and core.offline.copies() == []
    assert errors == []
    _film_page(ann)
    expect(ann.get_by_role("button", name="Keep offline", exact=True)).to_be_visible()
