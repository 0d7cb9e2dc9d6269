"""Browser tests (waits use locators: Playwright's wait_for_function evaluates a string,
which our CSP forbids) of the login-related pages and the cross-site defences: a page on
another port of the same host (same site: the Lax cookie goes along) tries a state
change and a WebSocket with the admin's cookie and is refused; the first-run setup
page; the Users (with API keys) and Account pages; no Content-Security-Policy violation anywhere."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from e2e.support import log_in
from party.support import add_media_file
from playwright.sync_api import expect

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.server import create_app

from helpers import serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page


@pytest.fixture
def attacker(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A plain static HTTP server on another port of the same host: (folder, base URL)."""
    folder = tmp_path / "evil"
    folder.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def _csp_watch(page: Page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text)
            if "Content Security Policy" in m.text or "Refused to" in m.text else None)
    return problems


def test_a_page_on_another_port_cannot_act_as_the_admin(
        core: Core, page: Page, live_server: str, attacker: tuple[Path, str]) -> None:
    log_in(page)
    party = core.parties.create(core.users.get_or_404(1), add_media_file(core), "host")
    folder, evil = attacker
    port = live_server.rsplit(":", 1)[1]
    (folder / "attack.html").write_text(f"""<!doctype html><html><body>
<form id="f" method="post" action="{live_server}/api/auth/sessions/revoke-others"></form>
<script>
window.result = {{ws: "pending", fetch: "pending"}};
fetch("{live_server}/api/parties", {{method: "POST", mode: "no-cors", credentials: "include",
  headers: {{"content-type": "text/plain"}}, body: JSON.stringify({{media_file_id: 1}})}})
  .then(() => {{ window.result.fetch = "sent"; }}, () => {{ window.result.fetch = "failed"; }});
const ws = new WebSocket("ws://127.0.0.1:{port}/api/parties/{party.code}/ws");
ws.onmessage = (e) => {{ window.result.ws = "message: " + e.data.slice(0, 40); }};
ws.onclose = (e) => {{ if (window.result.ws === "pending") window.result.ws = "closed " + e.code; }};
</script></body></html>""")
    evil_page = page.context.new_page()
    evil_page.goto(f"{evil}/attack.html")
    evil_page.wait_for_function("window.result.ws !== 'pending' && window.result.fetch !== 'pending'")
    result = evil_page.evaluate("window.result")
    assert result["ws"].startswith("closed"), result  # never a welcome message
    assert core.parties.list_for(1) == [core.parties.get(party.code)] or \
        len(core.parties.list_for(1)) == 1  # the no-cors POST created nothing
    # the classic form post: the cookie goes along (same site), the Origin gives it away
    with evil_page.expect_navigation():
        evil_page.evaluate("document.getElementById('f').submit()")
    evil_page.wait_for_load_state()
    assert "cross-site request refused" in evil_page.content()
    # the admin is still logged in everywhere: nothing was revoked
    assert page.evaluate("fetch('/api/auth/me').then(r => r.status)") == 200
    assert len(core.auth_sessions.list(1)) == 1


@pytest.fixture
def empty_server(tmp_path: Path) -> Iterator[tuple[Core, str]]:
    c = Core(load_settings(data_dir=tmp_path / "fresh"))
    try:
        with serving(create_app(c), ws_max_size=4096) as url:
            yield c, url
    finally:
        c.close()


@pytest.fixture
def fresh_context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


def test_first_run_setup_page(empty_server: tuple[Core, str], fresh_context: BrowserContext) -> None:
    core, url = empty_server
    page = fresh_context.new_page()
    csp = _csp_watch(page)
    page.goto(url + "/")
    page.wait_for_url("**/setup")
    page.get_by_label("Admin user name").fill("owner")
    page.get_by_label("Password (at least 8 characters)").fill("owner-password")
    page.get_by_label("Password again").fill("not-the-same")
    page.get_by_role("button", name="Create admin and start").click()
    assert "differ" in page.locator("#setup-error").inner_text()
    page.get_by_label("Password (at least 8 characters)").fill("owner-password")
    page.get_by_label("Password again").fill("owner-password")
    page.get_by_role("button", name="Create admin and start").click()
    page.wait_for_url(url + "/")
    assert page.locator(".user-name").inner_text() == "owner"
    assert core.users.count() == 1 and core.users.by_name("owner").is_admin
    page.goto(url + "/setup")  # once set up, the page is gone (→ login → logged in → home)
    page.wait_for_url(url + "/")
    assert not csp, csp


def test_users_and_account_pages(core: Core, live_server: str, browser: Browser) -> None:
    admin_ctx = browser.new_context(base_url=live_server)  # the CSP enforced, as in real life
    admin_ctx.set_default_timeout(30_000)
    page = admin_ctx.new_page()
    csp = _csp_watch(page)
    log_in(page, "/settings/users")
    page.get_by_label("User name").fill("friend")
    page.get_by_label("Password (at least 8 characters)").fill("friend-password")
    page.get_by_role("button", name="Add user").click()
    page.wait_for_selector("tr[data-name=friend]")
    friend_row = page.locator("tr[data-name=friend]")

    def friend_context() -> tuple[BrowserContext, Page]:
        ctx = browser.new_context(base_url=live_server)
        ctx.set_default_timeout(30_000)
        p = ctx.new_page()
        p.goto("/login")
        p.get_by_label("User name").fill("friend")
        p.get_by_label("Password").fill("friend-password")
        p.get_by_role("button", name="Log in").click()
        p.wait_for_url(lambda u: "/login" not in u)
        return ctx, p

    phone_ctx, phone = friend_context()
    laptop_ctx, laptop = friend_context()
    try:
        assert phone.locator("a[href='/settings/users']").count() == 0  # not an admin
        phone.goto("/account")
        phone.wait_for_selector("#session-rows tr:nth-child(2)")
        assert "(this one)" in phone.locator("#session-rows").inner_text()
        phone.get_by_role("button", name="Sign out all other sessions").click()
        expect(phone.locator("#session-rows tr")).to_have_count(1)
        assert laptop.evaluate("fetch('/api/auth/me').then(r => r.status)") == 401
        phone.get_by_label("Current password").fill("friend-password")
        phone.get_by_label("New password (at least 8 characters)").fill("a-better-password")
        phone.get_by_label("New password again").fill("a-better-password")
        phone.get_by_role("button", name="Change password").click()
        expect(phone.locator("#password-status")).to_contain_text("changed")
        core.users.authenticate("friend", "a-better-password")
        # the admin disables the friend: the friend's session ends at once
        friend_row.locator("[data-action=disabled]").check()
        expect(page.locator("#users-status")).to_contain_text("disabled")
        assert phone.evaluate("fetch('/api/auth/me').then(r => r.status)") == 401
        # an API key made on the Users page works as a bearer token until revoked there
        page.goto("/settings/users")
        page.get_by_label("Key name").fill("backup script")
        page.get_by_role("button", name="Make key").click()
        expect(page.locator("#new-key")).to_be_visible()
        key = page.locator("#new-key-value").inner_text()
        me = live_server + "/api/auth/me"
        assert httpx.get(me, headers={"authorization": "Bearer " + key}).status_code == 200
        page.reload()
        assert key not in page.content()  # shown once only
        page.once("dialog", lambda d: d.accept())
        page.locator("#keys-table tr[data-name='backup script'] [data-action=revoke]").click()
        expect(page.locator("#key-status")).to_contain_text("revoked")
        assert httpx.get(me, headers={"authorization": "Bearer " + key}).status_code == 401
        # the audit page shows what happened
        page.goto("/settings/audit")
        audit = page.locator("table.audit").inner_text()
        assert "user.create" in audit and "user.update" in audit and "user.password" in audit
        assert "key.create" in audit and "key.revoke" in audit
        page.goto("/docs")
        page.wait_for_selector(".swagger-ui .info", timeout=15_000)
        assert not csp, csp
    finally:
        phone_ctx.close()
        laptop_ctx.close()
        admin_ctx.close()
