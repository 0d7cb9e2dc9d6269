"""A hostile FTP server cannot grow our memory without bound: an endless MLSD or LIST
and an endless multi-line reply end in SourceUnavailable at a fixed size; CR/LF in a
path is InvalidInput before anything is sent."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import InvalidInput, SourceUnavailable
from reelhouse.sources.ftp.client import FtpClient, FtpConfig
from reelhouse.sources.ftp.limits import MAX_REPLY_BYTES

from helpers import FTP_PASSWORD, FTP_USER, stop_without_leaks, wait_job

LIMIT = 1024 * 1024


class _Endless:
    """An asynchat producer that never ends."""

    def __init__(self, chunk: bytes) -> None:
        self.chunk = chunk

    def more(self) -> bytes:
        return self.chunk


def _mlsd(self: Any, path: str) -> None:
    self.push_dtp_data(_Endless(b"type=file;size=1;modify=20200101000000; f.mkv\r\n" * 2000),
                       isproducer=True, cmd="MLSD")


def _list(self: Any, path: str) -> None:
    line = b"-rw-r--r--   1 u g        1 Jan 01  2020 f.mkv\r\n"
    self.push_dtp_data(_Endless(line * 2000), isproducer=True, cmd="LIST")


def _noop(self: Any, line: str) -> None:
    self.push("200-hello\r\n")
    self.push_with_producer(_Endless(b"200-and again\r\n" * 1000))


@pytest.fixture
def hostile(ftp_root: Path) -> Iterator[EmbeddedFtpServer]:
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, handler_overrides={
        "ftp_MLSD": _mlsd, "ftp_LIST": _list, "ftp_NOOP": _noop}).start()
    yield server
    stop_without_leaks(server)


def _client(server: EmbeddedFtpServer) -> FtpClient:
    c = FtpClient(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD,
                            max_listing_bytes=LIMIT, read_timeout=10))
    c.connect()
    return c


@pytest.mark.parametrize("mlsd", [True, False])
def test_endless_listing_is_cut_at_the_limit(hostile: EmbeddedFtpServer, mlsd: bool) -> None:
    c = _client(hostile)
    if not mlsd:
        c.features.discard("MLST")
    tracemalloc.start()
    try:
        with pytest.raises(SourceUnavailable, match="listing refused"):
            c.list("")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        c.close()
    assert peak < 8 * LIMIT, peak  # bounded by the limit (plus parsing slack), not the stream


def test_endless_reply_is_cut(hostile: EmbeddedFtpServer) -> None:
    c = _client(hostile)
    try:
        with pytest.raises(SourceUnavailable, match=str(MAX_REPLY_BYTES)):
            c.noop()
    finally:
        c.close()


@pytest.mark.parametrize("path", ["a\r\nDELE x", "films/a\nb.mkv", "x\r"])
def test_cr_lf_in_paths_is_invalid_input(ftp_server: EmbeddedFtpServer, path: str) -> None:
    c = FtpClient(FtpConfig("127.0.0.1", ftp_server.port, FTP_USER, FTP_PASSWORD))
    c.connect()
    try:
        for op in (c.list, c.stat, c.delete, lambda p: c.start_retr(p, 0), c.mkdirs):
            with pytest.raises(InvalidInput, match="CR or LF"):
                op(path)
        assert c.alive
        c.noop()  # the connection is still usable: nothing was sent
    finally:
        c.close()


def test_cr_lf_through_the_api_is_400(ftp_server: EmbeddedFtpServer, client: object) -> None:
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    sid = client.post("/api/sources", json={"name": "ftp", "kind": "ftp", "host": "127.0.0.1",
                                             "port": ftp_server.port, "username": FTP_USER,
                                             "password": FTP_PASSWORD}).json()["id"]
    r = client.put(f"/api/sources/{sid}/files", params={"path": "a\r\nDELE b.mkv"}, content=b"x")
    assert r.status_code == 400 and "CR, LF" in r.json()["detail"]
    r = client.post("/api/transfers", json={"kind": "mkdir", "source_id": sid, "remote_path": "x\ny"})
    assert r.status_code == 400 and "CR, LF" in r.json()["detail"]  # a new name: refused at once
    r = client.post("/api/transfers", json={"kind": "delete", "source_id": sid, "remote_path": "x\ny"})
    assert r.status_code == 201  # an existing name may be anything: the FTP layer refuses it, no retry
    deadline = time.monotonic() + 30  # generous: a loaded 2-core machine
    while (t := client.get(f"/api/transfers/{r.json()['id']}").json())["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert t["state"] == "failed" and "CR or LF" in t["error"] and t["attempts"] == 1, t


def _mlsd_of_junk_size(self: Any, path: str) -> None:
    self.push_dtp_data(b"type=file;size=18446744073709551616;modify=20200101000000; Big.2020.mkv\r\n"
                       b"type=file;size=1000;modify=20200101000000; Heat.1995.mkv\r\n", cmd="MLSD")


@pytest.fixture
def junk_sizes(ftp_root: Path) -> Iterator[EmbeddedFtpServer]:
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD,
                               handler_overrides={"ftp_MLSD": _mlsd_of_junk_size}).start()
    yield server
    stop_without_leaks(server)


def test_a_listed_size_past_any_file_does_not_stop_the_scan(junk_sizes: EmbeddedFtpServer, client: object) -> None:
    """A server listing a size past 2**63 - 1 bytes (junk) failed the whole scan
    ("internal error: Python int too large to convert to SQLite INTEGER", a traceback in
    the log) and none of the source's files were indexed; now that file's size is
    unknown and the rest of the source scans."""
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    sid = client.post("/api/sources", json={"name": "ftp", "kind": "ftp", "host": "127.0.0.1",
                                             "port": junk_sizes.port, "username": FTP_USER,
                                             "password": FTP_PASSWORD}).json()["id"]
    job = client.post(f"/api/sources/{sid}/scan").json()
    deadline = time.monotonic() + 60  # generous: a loaded 2-core machine
    while (j := client.get(f"/api/jobs/{job['id']}").json())["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, j
        time.sleep(0.1)
    assert "internal error" not in (j["error"] or ""), j
    files = client.get("/api/library/media-files", params={"source_id": sid, "include_missing": True}).json()
    assert "Heat.1995.mkv" in [f["name"] for f in files["items"]], files
    again = wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"], timeout=60)
    # nothing changed: the unknown size (kept as 0) is no change at every rescan
    assert again["progress"]["updated"] == 0, again
