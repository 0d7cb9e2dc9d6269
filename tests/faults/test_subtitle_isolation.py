"""Subtitle conversions starve nobody (issue 14): converting an embedded track to WebVTT
makes ffmpeg read the whole film through its source, which on a slow server takes
minutes. Alice asks for her film's subtitles 48 times at once (more than the 40 threads
of the shared pool that authentication and the database use) while her film's source
hangs (its reads wait on a gate the test holds shut); the health of a source, another
user's stream and another user's subtitles must still answer. Then the gate opens and
every one of her requests gets the WebVTT.

A real uvicorn, real ffmpeg (the film and the conversion), real local folders; alice's
source is a LocalSource whose reads wait for the gate. No timed assertions: the test
waits for states, and the gate is shut until it has checked everything."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from pathlib import Path
from typing import Any

import hls_clips
import httpx
import pytest

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.library import queries
from reelhouse.server import create_app
from reelhouse.sources.ftp import FtpSource
from reelhouse.sources.ftp.pool import pool_user
from reelhouse.sources.local import LocalSource
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, install_source, playback_token, serving, session_token

pytestmark = [pytest.mark.requires_ffmpeg]

ALICE_REQUESTS = 48


class GatedLocal(LocalSource):
    """A local folder whose reads of files wait for ``gate`` once it is shut
    (:meth:`shut`); ``waiting`` counts reads waiting now."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = 0
        self._lock = threading.Lock()

    def shut(self) -> None:
        self.gate.clear()

    def _wait(self) -> None:
        with self._lock:
            self.waiting += 1
        try:
            assert self.gate.wait(120), "the test never opened the gate"
        finally:
            with self._lock:
                self.waiting -= 1

    def read_range(self, path: str, offset: int, length: int) -> Iterator[bytes]:
        self._wait()
        yield from super().read_range(path, offset, length)

    async def aread_range(self, path: str, offset: int, length: int) -> AsyncGenerator[bytes, None]:
        import anyio.to_thread

        await anyio.to_thread.run_sync(self._wait)
        async for chunk in super().aread_range(path, offset, length):
            yield chunk


class Counting:
    """The app, counting the subtitle requests that reached it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.subtitle_requests = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith(".vtt"):
            self.subtitle_requests += 1
        await self.app(scope, receive, send)


def _film_with_subtitles(path: Path) -> Path:
    srt = path.with_suffix(".src.srt")
    srt.parent.mkdir(parents=True, exist_ok=True)
    srt.write_text(hls_clips.SRT)
    hls_clips._run(["-f", "lavfi", "-t", "12", "-i", "testsrc2=size=160x90:rate=10", "-i", str(srt),
                    "-map", "0:v", "-map", "1:s", "-c:v", "libx264", "-preset", "ultrafast", "-c:s", "srt",
                    str(path)])
    srt.unlink()
    return path


def _until(cond: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def test_subtitle_conversions_starve_nobody(tmp_path: Path) -> None:
    slow_root, home_root = tmp_path / "slow", tmp_path / "home"
    _film_with_subtitles(slow_root / "Films" / "Slow.Film.2020.mkv")
    _film_with_subtitles(home_root / "Films" / "Home.Film.2019.mkv")
    core = Core(load_settings(data_dir=tmp_path / "data"))
    slow = GatedLocal(slow_root)
    try:
        alice = core.users.add("alice", "alice-password").id
        bob = core.users.add("bob", "bob-password").id
        slow_id = install_source(core, slow_root, slow, name="slow")
        home_id = core.sources.create(SourceSpec(name="home", kind="local", path=str(home_root))).id
        for sid in (slow_id, home_id):
            assert not core.jobs.run_scan_now(sid).errors
        with core.sessions() as s:
            (slow_file, *_), _ = queries.list_media_files(s, slow_id, False, 0, 10)
            (home_file, *_), _ = queries.list_media_files(s, home_id, False, 0, 10)
        slow.shut()
        app = Counting(create_app(core))
        with serving(app, on_stop=core.sources.close, log_level="critical") as base:
            got: list[int] = []

            def ask(url: str) -> None:
                r = httpx.get(url, timeout=180)
                got.append(r.status_code)

            alice_url = (f"{base}/api/library/media-files/{slow_file.id}/hls/subs/e0.vtt"
                         f"?token={playback_token(core, alice, slow_file.id)}")
            threads = [threading.Thread(target=ask, args=(alice_url,), name=f"alice-{i}")
                       for i in range(ALICE_REQUESTS)]
            for t in threads:
                t.start()
            try:
                _until(lambda: app.subtitle_requests == ALICE_REQUESTS, "alice's requests reached the server")
                _until(lambda: slow.waiting >= 1, "ffmpeg reading alice's film (held at the gate)")
                lane = core.hls.subtitle_lane.stats
                assert lane["running"] <= core.hls.subtitle_lane.per_user, lane  # hers: all but one thread
                with httpx.Client(timeout=30) as bobs:
                    token = playback_token(core, bob, home_file.id)
                    assert bobs.get(f"{base}/api/health").status_code == 200
                    r = bobs.get(f"{base}/api/sources/{home_id}/health",
                                 headers={"authorization": f"Bearer {session_token(core, bob)}"})
                    assert r.status_code == 200, r.text
                    r = bobs.get(f"{base}/api/library/media-files/{home_file.id}/stream?token={token}",
                                 headers={"range": "bytes=0-99"})
                    assert r.status_code == 206 and len(r.content) == 100
                    r = bobs.get(f"{base}/api/library/media-files/{home_file.id}/hls/subs/e0.vtt?token={token}")
                    assert r.status_code == 200 and "Embedded cue one" in r.text  # a thread was his
                assert slow.waiting >= 1 and len(got) == 0  # alice's conversion still held all along
            finally:
                slow.gate.set()
                for t in threads:
                    t.join(180)
            assert got == [200] * ALICE_REQUESTS
    finally:
        slow.gate.set()
        core.close()
        gc.collect()



def test_a_conversion_reads_in_its_users_share_of_the_ftp_pool(
        ftp_server: EmbeddedFtpServer, ftp_root: Path, tmp_path: Path) -> None:
    """The conversion's ffmpeg reads the film through the feed on alice's behalf: with
    her share of the FTP pool taken (pool of 2, her cap 1), it waits for her own
    connection instead of taking the one bob's stream needs (before, the feed read as
    the server's own work and took it)."""
    _film_with_subtitles(ftp_root / "Films" / "Ftp.Film.2020.mkv")
    core = Core(load_settings(data_dir=tmp_path / "data", ftp_pool_size=2))
    try:
        alice = core.users.add("alice", "alice-password").id
        bob = core.users.add("bob", "bob-password").id
        row = core.sources.create(SourceSpec(name="ftp", kind="ftp", host="127.0.0.1", port=ftp_server.port,
                                             username=FTP_USER, password=FTP_PASSWORD))
        assert not core.jobs.run_scan_now(row.id).errors
        with core.sessions() as s:
            (film, *_), _ = queries.list_media_files(s, row.id, False, 0, 10)
        src = core.sources.source(row.id)
        assert isinstance(src, FtpSource)
        token = pool_user.set(f"user:{alice}")
        try:
            held = src.pool.acquire()[0]  # alice's stalled player: her whole share
        finally:
            pool_user.reset(token)
        got: list[httpx.Response] = []
        with serving(create_app(core), on_stop=core.sources.close, log_level="critical") as base:
            url = (f"{base}/api/library/media-files/{film.id}/hls/subs/e0.vtt"
                   f"?token={playback_token(core, alice, film.id)}")
            asking = threading.Thread(target=lambda: got.append(httpx.get(url, timeout=120)), name="alice-subs")
            asking.start()
            try:
                _until(lambda: src.pool.stats["waiting"] >= 1, "the conversion waiting for alice's connection")
                r = httpx.get(f"{base}/api/library/media-files/{film.id}/stream"
                              f"?token={playback_token(core, bob, film.id)}", headers={"range": "bytes=0-99"},
                              timeout=30)
                assert r.status_code == 206 and len(r.content) == 100  # the connection left was bob's
                assert not got  # alice's conversion still waits for her own
            finally:
                src.pool.release(held)
                asking.join(120)
            (answer,) = got
            assert answer.status_code == 200 and "Embedded cue one" in answer.text, answer.text
    finally:
        core.close()
        gc.collect()
