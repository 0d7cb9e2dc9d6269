"""A file that shrank on its source after the scan (a seedbox re-downloading it, an
upload being replaced): its stream must end in a clear answer, never an ASGI traceback.

The library still says the old size, so a Range past the new end was a 206 with the
old Content-Length and no byte, and a whole-file GET stopped short of its
Content-Length: uvicorn logged "Exception in ASGI application" with a traceback
("Response content shorter than Content-Length") for each. Real uvicorn in a thread
(TestClient does not check Content-Length), a real FTP server and a local folder."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.library import queries
from reelhouse.server import create_app
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, playback_token, random_file, serving

NAME = "Films/Shrunk (2020)/Shrunk (2020).mkv"
SIZE, NEW_SIZE = 300_000, 1000


@pytest.fixture(params=["ftp", "local"])
def shrunk(request: pytest.FixtureRequest, ftp_server: EmbeddedFtpServer, ftp_root: Path,
           tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    """A served app whose one file (scanned at SIZE bytes) now has NEW_SIZE; yields the
    stream URL and the file's bytes now."""
    root = ftp_root if request.param == "ftp" else tmp_path / "disk"
    data = random_file(root, NAME, SIZE)
    core = Core(load_settings(data_dir=tmp_path / "data"))
    try:
        user = core.users.add("viewer", "viewer-password")
        spec = (SourceSpec(name="ftp", kind="ftp", host="127.0.0.1", port=ftp_server.port,
                           username=FTP_USER, password=FTP_PASSWORD) if request.param == "ftp"
                else SourceSpec(name="disk", kind="local", path=str(root)))
        row = core.sources.create(spec)
        core.jobs.run_scan_now(row.id)
        with core.sessions() as s:
            files, _ = queries.list_media_files(s, row.id, False, 0, 10)
        assert [(f.path, f.size) for f in files] == [(NAME, SIZE)]
        with open(root / NAME, "r+b") as fh:
            fh.truncate(NEW_SIZE)
        with serving(create_app(core), on_stop=core.sources.close, log_config=None) as base:
            token = playback_token(core, user.id, files[0].id)
            yield f"{base}/api/library/media-files/{files[0].id}/stream?token={token}", data[:NEW_SIZE]
    finally:
        core.close()


def test_a_file_shorter_than_the_library_says_ends_cleanly(
        shrunk: tuple[str, bytes], caplog: pytest.LogCaptureFixture) -> None:
    url, now = shrunk
    caplog.set_level(logging.INFO)
    with httpx.Client(timeout=30) as http:
        for header in ("bytes=5000-", "bytes=-100", f"bytes={NEW_SIZE}-{NEW_SIZE + 10}"):
            r = http.get(url, headers={"Range": header})
            assert r.status_code == 416, (header, r.status_code, r.text)
            assert r.headers["content-range"] == f"bytes */{NEW_SIZE}"
            assert "shorter than the library says" in r.json()["detail"]
        r = http.get(url, headers={"Range": "bytes=10-99"})  # still there: served
        assert r.status_code == 206 and r.content == now[10:100]
        with pytest.raises(httpx.RemoteProtocolError):  # cut, so the client knows it is short
            http.get(url)
        with http.stream("GET", url, headers={"Range": "bytes=500-"}) as r:
            assert r.status_code == 206
            got = b""
            with pytest.raises(httpx.RemoteProtocolError):
                for chunk in r.iter_raw():
                    got += chunk
            assert got == now[500:]
    logged = caplog.text
    assert "Exception in ASGI application" not in logged and "Traceback" not in logged, logged
    assert "shorter than the library says" in logged
