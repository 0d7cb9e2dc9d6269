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

import hls_clips
import httpx
import pytest
from e2e.support import Library, log_in
from playwright.sync_api import Page, expect

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.library import queries
from reelhouse.server import create_app
from reelhouse.sources.ftp.client import FtpClient
from reelhouse.sources.ftp.pool import FtpPool, pool_user
from reelhouse.sources.registry import SourceSpec

from helpers import ADMIN, ADMIN_PASSWORD, FTP_PASSWORD, FTP_USER, place, playback_token, serving

VIDEO = "document.getElementById('player')"
HEVC_A = "Hevc Film (2020)/Hevc.Film.2020.mkv"
HEVC_B = "Other Film (2021)/Other.Film.2021.mkv"


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
    pool.wait_timeout = 600.0  # her waiting request waits for the test, however slow the page

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


@pytest.fixture(scope="module")
def hevc_film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("retry-after-e2e") / "film.mkv"
    return hls_clips.hevc_mkv(path)


@pytest.mark.requires_ffmpeg
def test_hls_waits_what_a_503_says(page: Page, live_server: str, ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                   hevc_film: Path, tmp_path: Path) -> None:
    """The server runs 1 encoder (``hls_max_encoders``); another user's transcode of
    another film holds it, so the viewer's first segment is refused with 503
    ``encoder_limit`` and ``Retry-After: 5``. hls.js asks again after those 5 s (its own
    policy asked after 1 s, then 2, 4…: here its retries, all refused, would use up
    the time the other encoder needs to go idle); meanwhile the page says
    "retrying…". Then the other viewer leaves (their encoder is stopped, as its idle
    timeout would: forced here, not timed) and the film plays."""
    core = Core(load_settings(data_dir=tmp_path / "hls-data", hls_preset="ultrafast", hls_idle_timeout=600.0,
                              hls_max_encoders=1, hls_ahead_segments=1))
    try:
        core.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
        other = core.users.add("other", "other-password").id
        for rel in (HEVC_A, HEVC_B):
            place(hevc_film, ftp_root, rel)
        source = core.sources.create(SourceSpec(name="Seedbox", kind="ftp", host=ftp_server.host,
                                                port=ftp_server.port, username=FTP_USER, password=FTP_PASSWORD))
        assert not core.jobs.run_scan_now(source.id).errors
        with core.sessions() as s:
            ids = {f.path: f.id for f in queries.list_media_files(s, source.id, False, 0, 10)[0]}
        with serving(create_app(core)) as base:
            page.set_default_timeout(60_000)
            segments: list[tuple[float, str, int]] = []
            page.on("response", lambda r: segments.append((time.monotonic(), r.url.split("?")[0], r.status))
                    if r.url.split("?")[0].endswith(".ts") else None)
            busy = httpx.get(f"{base}/api/library/media-files/{ids[HEVC_B]}/hls/360p/0.ts",
                             params={"token": playback_token(core, other, ids[HEVC_B])}, timeout=120)
            assert busy.status_code == 200  # the other viewer's encoder runs, one segment ahead
            running = core.hls.encoders.running()
            assert len(running) == 1
            log_in(page, f"{base}/play/{ids[HEVC_A]}")
            expect(page.locator("#player-note")).to_contain_text("retrying…", timeout=60_000)
            core.hls.encoders.stop_file(running[0].key[0])  # the other viewer leaves
            page.wait_for_function(f"{VIDEO}.currentTime > 0.5", timeout=120_000)
            refused = [(t, url) for t, url, status in segments if status == 503]
            assert refused, segments
            t0, url = refused[0]
            after = [t for t, u, status in segments if u == url and t > t0]
            assert after and after[0] - t0 >= 4.0, segments  # asked again after 5 s (1 s slack)
            assert page.evaluate(f"{VIDEO}.dataset.retryAfter") == "5"
    finally:
        core.close()
