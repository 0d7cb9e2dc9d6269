"""The web player waits what a 503 says (issue 14): the server refuses a stream with 503
``queue_full`` and ``Retry-After: 5`` (RFC 9110 §10.2.3) while the user's requests
waiting for the film's FTP server are at ``ftp_user_waiters`` (here 1); the page says
so with "retrying…", asks again after those seconds (not at once, not never), and
plays once the server has room. Before, direct play stopped at the first 503."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e.support import Library, log_in
from playwright.sync_api import Page, expect

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.ftp.client import FtpClient
from reelhouse.sources.ftp.pool import FtpPool, pool_user

from helpers import ADMIN, ADMIN_PASSWORD

VIDEO = "document.getElementById('player')"


@pytest.fixture
def core(ftp_server: EmbeddedFtpServer, tmp_path: Path) -> Iterator[Core]:
    """A Core whose users may have 1 request waiting for an FTP server (closed after the
    page and the server, before the FTP server's leak check)."""
    c = Core(load_settings(data_dir=tmp_path / "data", ftp_user_waiters=1))
    c.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
    yield c
    c.close()


def test_direct_play_waits_what_a_503_says(page: Page, live_server: str, core: Core, library: Library) -> None:
    source = core.sources.source(library.ftp_source_id)
    pool: FtpPool = source.pool  # type: ignore[attr-defined]
    mine = f"user:{core.users.by_name(ADMIN).id}"
    token = pool_user.set(mine)
    try:  # she holds her cap (ftp_pool_size - 1): one connection stays for the server's own work
        held: list[FtpClient] = [pool.acquire()[0] for _ in range(pool.user_limit)]
    finally:
        pool_user.reset(token)
    served: list[FtpClient] = []

    def wait_as_admin() -> None:  # her one request allowed to wait: the next is refused
        pool_user.set(mine)
        served.append(pool.acquire()[0])

    waiter = threading.Thread(target=wait_as_admin, daemon=True)
    streams: list[tuple[float, int]] = []
    page.on("response", lambda r: streams.append((time.monotonic(), r.status)) if "/stream" in r.url else None)
    try:
        waiter.start()
        deadline = time.monotonic() + 30
        while pool.stats["waiting"] < 1:
            assert time.monotonic() < deadline, "the admin's request never waited"
            time.sleep(0.05)
        log_in(page, "/")
        page.locator(".tile", has_text="Big Buck Bunny").click()
        page.locator(".file").get_by_role("link", name=re.compile("Play")).click()
        expect(page.locator("#player-note")).to_contain_text("retrying…", timeout=60_000)
        assert page.evaluate(f"{VIDEO}.dataset.retryAfter") == "5"
        refused_at = min(t for t, status in streams if status == 503)
    finally:
        for client in held:
            pool.release(client)
        waiter.join(60)
        for client in served:
            pool.release(client)
    page.wait_for_function(f"{VIDEO}.readyState >= 1", timeout=60_000)
    played_at = min(t for t, status in streams if status in (200, 206))
    # asked again after the 5 s it was told (1 s of slack: Playwright reports events late)
    assert played_at - refused_at >= 4.0, streams
    expect(page.locator("#player-note")).to_be_hidden(timeout=60_000)
