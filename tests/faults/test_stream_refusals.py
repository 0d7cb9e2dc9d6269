"""Why a stream was refused, told apart (issue 14): "too many of your requests wait"
and "the source's connections are all busy" (503 + Retry-After: waiting helps), "the
source's server is down" (502) and "it did not answer in time" (504), RFC 9110 §15.6.
Each answer carries a message a user understands (never the server's address) and a
``reason`` the web player reads; the Jellyfin API's stream route answers the same
statuses (Jellyfin apps read the status).

A real uvicorn, a real pyftpdlib on port 0 (stopped for "down"; a listening socket that
never greets for "timeout"); a non-admin user streams. No timed assertions: each step
waits for a state."""

from __future__ import annotations

import gc
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from reelhouse.api.errors import SOURCE_BUSY, SOURCE_DOWN, SOURCE_TIMEOUT
from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.jellyfin import ids
from reelhouse.library import queries
from reelhouse.server import create_app
from reelhouse.sources.ftp import FtpSource
from reelhouse.sources.ftp.client import FtpClient
from reelhouse.sources.ftp.pool import pool_user
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, place, playback_token, serving

AUTH = 'MediaBrowser Client="reelhouse tests", Device="pytest", DeviceId="refusals", Version="1.0"'


@dataclass
class Site:
    core: Core
    base: str
    ftp: FtpSource
    file_id: int
    alice: int
    jellyfin_token: str
    held: list[FtpClient] = field(default_factory=list)

    def api_url(self) -> str:
        token = playback_token(self.core, self.alice, self.file_id)
        return f"{self.base}/api/library/media-files/{self.file_id}/stream?token={token}"

    def jellyfin_url(self) -> str:
        item = ids.encode("file", self.file_id)
        return f"{self.base}/jellyfin/videos/{item}/stream?static=true&api_key={self.jellyfin_token}"

    def hold_every_connection(self) -> None:
        """Other users take every connection of the pool (one each: a user's cap is
        the pool's size minus one)."""
        for n in range(self.ftp.pool.size):
            token = pool_user.set(f"user:other{n}")
            try:
                self.held.append(self.ftp.pool.acquire()[0])
            finally:
                pool_user.reset(token)

    def release(self) -> None:
        while self.held:
            self.ftp.pool.release(self.held.pop())


def _until(cond: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


@pytest.fixture
def site(ftp_server: EmbeddedFtpServer, ftp_root: Path, tmp_path: Path) -> Iterator[Site]:
    (ftp_root / "Films").mkdir()
    (ftp_root / "Films" / "Sintel.2010.mkv").write_bytes(b"M" * 300_000)
    core = Core(load_settings(data_dir=tmp_path / "data", ftp_pool_size=2, ftp_user_waiters=1,
                              ftp_connect_timeout=2, ftp_read_timeout=2))
    try:
        alice = core.users.add("alice", "alice-password")
        row = core.sources.create(SourceSpec(name="ftp", kind="ftp", host="127.0.0.1", port=ftp_server.port,
                                             username=FTP_USER, password=FTP_PASSWORD))
        core.jobs.run_scan_now(row.id)
        with core.sessions() as s:
            (media, *_), _ = queries.list_media_files(s, row.id, False, 0, 10)
        src = core.sources.source(row.id)
        assert isinstance(src, FtpSource)
        site: Site | None = None
        with serving(create_app(core), on_stop=core.sources.close, log_level="critical",
                     timeout_graceful_shutdown=2) as base:
            r = httpx.post(f"{base}/jellyfin/Users/AuthenticateByName", json={"Username": "alice",
                           "Pw": "alice-password"}, headers={"authorization": AUTH + ', Token=""'}, timeout=30)
            assert r.status_code == 200, r.text
            site = Site(core, base, src, media.id, alice.id, r.json()["AccessToken"])
            try:
                yield site
            finally:
                site.release()
    finally:
        core.close()
        gc.collect()


def _queue_full(site: Site, server: EmbeddedFtpServer) -> Callable[[], None]:
    """Every connection is taken; one request of alice's waits (her ftp_user_waiters)."""
    site.hold_every_connection()
    waiting: list[int] = []

    def wait() -> None:
        with httpx.stream("GET", site.api_url(), headers={"range": "bytes=0-9"}, timeout=120) as r:
            r.read()
            waiting.append(r.status_code)

    thread = threading.Thread(target=wait, name="alice-waits")
    thread.start()
    _until(lambda: site.ftp.pool.stats["waiting"] == 1, "alice's first request waiting")

    def after() -> None:
        site.release()
        thread.join(60)
        assert waiting == [206]  # served once a connection was free
    return after


def _source_busy(site: Site, server: EmbeddedFtpServer) -> Callable[[], None]:
    """Every connection stays taken for the pool's whole wait (1 s here)."""
    site.hold_every_connection()
    site.ftp.pool.wait_timeout = 1.0
    return site.release


def _source_down(site: Site, server: EmbeddedFtpServer) -> Callable[[], None]:
    """The FTP server is stopped: nothing listens on its port."""
    server.stop()
    return lambda: None


def _source_timeout(site: Site, server: EmbeddedFtpServer) -> Callable[[], None]:
    """The server's port takes connections (the kernel's backlog) but nobody greets."""
    server.stop()
    silent = socket.socket()
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    silent.bind(("127.0.0.1", server.port))
    silent.listen(16)
    return silent.close


#: case → (status, reason, Retry-After, what a user reads)
CASES: dict[str, tuple[Callable[[Site, EmbeddedFtpServer], Callable[[], None]], int, str, str | None, str]] = {
    "queue_full": (_queue_full, 503, "queue_full", "5", "1 requests of yours wait for this FTP server already"),
    "source_busy": (_source_busy, 503, "source_busy", "10", SOURCE_BUSY),
    "source_down": (_source_down, 502, "source_down", None, SOURCE_DOWN),
    "source_timeout": (_source_timeout, 504, "source_timeout", None, SOURCE_TIMEOUT),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_refused_stream_says_why(site: Site, ftp_server: EmbeddedFtpServer, case: str) -> None:
    make, status, reason, retry_after, message = CASES[case]
    after = make(site, ftp_server)
    try:
        for route, url in (("api", site.api_url()), ("jellyfin", site.jellyfin_url())):
            r = httpx.get(url, headers={"range": "bytes=0-9"}, timeout=120)
            assert r.status_code == status, (route, r.status_code, r.text)
            assert r.headers.get("retry-after") == retry_after, (route, r.headers)
            body = r.json()
            assert body["reason"] == reason, (route, body)
            assert body["detail"].startswith(message), (route, body)
            assert "127.0.0.1" not in r.text and str(ftp_server.port) not in r.text  # a user's answer
    finally:
        after()


@pytest.mark.requires_ffmpeg
def test_an_hls_segment_of_a_source_that_is_down_says_so(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                                         tmp_path: Path, sample_mp4: Path) -> None:
    """ffmpeg reads the film through the feed; the source is down, so ffmpeg fails: the
    answer is the source's failure (502 ``source_down``), not "ffmpeg failed making
    segment 0" (a 502 that reads like a broken file), for the copied and a transcoded
    rendition alike."""
    place(sample_mp4, ftp_root, "Films/Clip.2020.mp4")
    core = Core(load_settings(data_dir=tmp_path / "data", ftp_connect_timeout=2, ftp_read_timeout=2))
    try:
        alice = core.users.add("alice", "alice-password").id
        row = core.sources.create(SourceSpec(name="ftp", kind="ftp", host="127.0.0.1", port=ftp_server.port,
                                             username=FTP_USER, password=FTP_PASSWORD))
        assert not core.jobs.run_scan_now(row.id).errors
        with core.sessions() as s:
            (media, *_), _ = queries.list_media_files(s, row.id, False, 0, 10)
        token = playback_token(core, alice, media.id)
        base = f"/api/library/media-files/{media.id}/hls"
        with TestClient(create_app(core), raise_server_exceptions=False) as c:
            master = c.get(f"{base}/master.m3u8?token={token}")
            assert master.status_code == 200, master.text
            tracks = [line.split(".m3u8", 1)[0] for line in master.text.splitlines()
                      if line and not line.startswith("#")]
            assert "copy" in tracks and len(tracks) >= 2, tracks
            ftp_server.stop()
            for track in ("copy", tracks[0]):
                r = c.get(f"{base}/{track}/0.ts?token={token}")
                assert r.status_code == 502, (track, r.status_code, r.text)
                assert r.json() == {"detail": SOURCE_DOWN, "reason": "source_down"}, track
    finally:
        core.close()
        gc.collect()
