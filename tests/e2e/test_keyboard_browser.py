"""Keyboard use of the pages in a real browser: the first Tab of every page with the top
bar is a "Skip to content" link (WCAG 2.1 SC 2.4.1, Bypass Blocks), shown while it has
the focus, that moves the focus past the navigation."""

from __future__ import annotations

from e2e.support import log_in
from playwright.sync_api import Page, expect


def _focused(page: Page) -> str:
    return str(page.evaluate("document.activeElement.textContent.trim()"))


def test_the_first_tab_skips_the_navigation(page: Page) -> None:
    """The library page's first focusable control was the brand link, then eight links
    of the top bar; the grid's first title was 47 Tabs away with its A-Z bar (found by
    an outside-in hunt)."""
    log_in(page, "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    assert page.evaluate("document.activeElement.closest('header') === null")
    assert page.evaluate("document.activeElement.name") == "q"  # the library's search field
    page.goto("/transfers")
    page.keyboard.press("Tab")
    assert _focused(page) == "Skip to content"
    page.keyboard.press("Tab")
    assert _focused(page) == "▶reelhouse"  # then the top bar, as before
    expect(skip).not_to_be_in_viewport()  # out of sight once it has not the focus


def test_a_filter_select_goes_through_its_options_with_the_arrow_keys(page: Page) -> None:
    """A filter select of the library submitted the form at its first change, and an
    arrow key on a closed select is a change: one press reloaded the page with the next
    option and the focus back at the page's start, so "1080p" (two presses down) could
    not be picked from the keyboard (WCAG 2.2 SC 3.2.2; found by an outside-in hunt).
    Keys now only move through the options, Enter sends the choice, and the new page
    puts the focus back on the select."""
    log_in(page, "/")
    resolution = page.get_by_label("Resolution")
    resolution.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(resolution).to_have_value("1080p")
    page.keyboard.press("Enter")
    page.wait_for_url("**resolution=1080p**")
    resolution = page.get_by_label("Resolution")
    expect(resolution).to_have_value("1080p")
    expect(resolution).to_be_focused()
    # picked with the pointer from the list, a filter still applies at once
    page.get_by_label("Type").select_option("movie")
    page.wait_for_url("**type=movie**")
    assert "resolution=1080p" in page.url
