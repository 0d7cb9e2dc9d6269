"""Set-up the watch-party browser tests share: a party on a film scanned from a local
folder, a browser context signed in as one of its users, the party page open (and
the ``admin_party`` fixture of conftest.py, made of the first two)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from reelhouse.db.models import MediaFile, User
from reelhouse.sources.registry import SourceSpec

from helpers import ADMIN, place, session_token

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, WebSocket

    from reelhouse.core import Core


def make_party(core: Core, tmp_path: Path, film: Path, users: Mapping[str, str] | None = None) -> str:
    """A collaborative party of the admin's on ``film`` (scanned from a local folder
    under ``tmp_path``, the library's only file); ``users`` (name: password) are added
    first. Returns its code."""
    place(film, tmp_path / "films", "Big Buck Bunny (2008)/Big.Buck.Bunny.2008.mp4")
    src = core.sources.create(SourceSpec(name="Home disk", kind="local", path=str(tmp_path / "films")))
    assert not core.jobs.run_scan_now(src.id).errors
    for name, password in (users or {}).items():
        core.users.add(name, password)
    with core.sessions() as s:
        film_id = s.scalars(select(MediaFile.id)).one()
        admin = s.scalars(select(User).where(User.name == ADMIN)).one()
    return core.parties.create(admin, film_id, "collaborative").code


def signed_in(browser: Browser, core: Core, base: str, name: str = ADMIN, **options: Any) -> BrowserContext:
    """A browser context on ``base`` signed in as user ``name`` (a session cookie), 20 s
    timeouts; ``options``: more of ``browser.new_context``'s (a viewport …)."""
    ctx = browser.new_context(base_url=base, **options)
    ctx.set_default_timeout(20_000)
    with core.sessions() as s:
        user_id = s.scalars(select(User.id).where(User.name == name)).one()
    ctx.add_cookies([{"name": "reelhouse_session", "value": session_token(core, user_id), "url": base}])
    return ctx


def open_party(ctx: BrowserContext, code: str, watch: Callable[[WebSocket], None] | None = None) -> Page:
    """A new page of ``ctx`` on party ``code``, once the party's state has come;
    ``watch``: called with each WebSocket the page opens (from before it opens one)."""
    page = ctx.new_page()
    if watch is not None:  # wrapped: Playwright takes Python functions, not builtins (list.append)
        page.on("websocket", lambda ws: watch(ws))
    page.goto(f"/party/{code}")
    page.wait_for_function("() => window.reelParty.state() !== null")
    return page
