"""Removing a source ends what still plays from it (real uvicorn on loopback): a direct
stream from an FTP server (pyftpdlib) is cut at once — the client sees the connection
close short of the file — and the FTP connections it used are closed; an HLS encoder
transcoding a film (made with ffmpeg) of a local source is killed, and its segments
answer 404."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from reelhouse.core import Core
from reelhouse.db.models import MediaFile
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.server import create_app
from reelhouse.sources.registry import SourceSpec

from helpers import ADMIN, ADMIN_PASSWORD, FTP_PASSWORD, FTP_USER, free_port, ftp_connections, serving

SIZE = 48 * 1024 * 1024


def _file_id(core: Core, source_id: int) -> int:
    with core.sessions() as s:
        return int(s.scalars(select(MediaFile.id).where(MediaFile.source_id == source_id)).one())


def _bearer(base: str) -> dict[str, str]:
    r = httpx.post(base + "/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['token']}"}


def _until(check: Callable[[], bool], timeout: float) -> float:
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, "not within the time allowed"
        time.sleep(0.05)
    return time.monotonic() - start


def test_removing_a_source_cuts_its_direct_streams(core: Core, tmp_path: Path) -> None:
    root = tmp_path / "ftp"
    (root / "Films").mkdir(parents=True)
    (root / "Films" / "Big.2001.mkv").write_bytes(bytes(range(256)) * (SIZE // 256))
    with EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD, port=free_port()) as ftpd:
        sid = core.sources.create(SourceSpec(name="seedbox", kind="ftp", host="127.0.0.1", port=ftpd.port,
                                             username=FTP_USER, password=FTP_PASSWORD)).id
        core.jobs.run_scan_now(sid)
        file_id = _file_id(core, sid)
        with serving(create_app(core)) as base:
            auth = _bearer(base)
            got = 0
            with httpx.Client(timeout=30) as http, \
                    http.stream("GET", f"{base}/api/library/media-files/{file_id}/stream", headers=auth) as r:
                assert r.status_code == 200
                chunks = r.iter_raw(64 * 1024)
                while got < 1024 * 1024:
                    got += len(next(chunks))
                assert ftp_connections(ftpd.port) >= 1
                gone = httpx.delete(f"{base}/api/sources/{sid}", headers=auth, timeout=30)
                assert gone.status_code == 204, gone.text
                start = time.monotonic()
                with pytest.raises(httpx.RemoteProtocolError):  # closed short of Content-Length
                    for chunk in chunks:
                        got += len(chunk)
                assert time.monotonic() - start < 10
            assert got < SIZE // 2, got  # cut, not played to the end
            _until(lambda: ftp_connections(ftpd.port) == 0, 10)  # its pool is closed too


@pytest.mark.requires_ffmpeg
def test_removing_a_source_kills_its_hls_encoders(core: Core, tmp_path: Path) -> None:
    root = tmp_path / "disk" / "Films" / "Long (2005)"
    root.mkdir(parents=True)
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=10:duration=600",
                    "-c:v", "libx264", "-preset", "ultrafast", str(root / "Long.2005.mkv")],
                   check=True, timeout=120)
    sid = core.sources.create(SourceSpec(name="disk", kind="local", path=str(tmp_path / "disk"))).id
    core.jobs.run_scan_now(sid)
    file_id = _file_id(core, sid)
    with serving(create_app(core)) as base:
        auth = _bearer(base)
        seg = f"{base}/api/library/media-files/{file_id}/hls/90p/0.ts"
        first = httpx.get(seg, headers=auth, timeout=60)
        assert first.status_code == 200 and first.content[:1] == b"\x47", first.text[:200]
        # the encoder goes on ahead of the viewer (then pauses): it is alive
        assert core.hls.encoders.running()
        gone = httpx.delete(f"{base}/api/sources/{sid}", headers=auth, timeout=30)
        assert gone.status_code == 204, gone.text
        _until(lambda: not core.hls.encoders.running(), 5)
        assert httpx.get(seg.replace("/0.ts", "/5.ts"), headers=auth, timeout=30).status_code == 404
