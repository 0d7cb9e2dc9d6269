"""``HEAD …/stream`` answers as ``GET`` would (RFC 9110 §9.3.2) when the file has left
its source since the scan: it said 200 with the file's length (it read nothing), while
GET said 404; a player or a link checker asking with HEAD thought the film was there.
Real HTTP (the production server), a local folder and a real FTP server."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from api.live_server import production_server

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.registry import SourceSpec

from helpers import ADMIN, ADMIN_PASSWORD, admin_core, place, scan_ftp


def _raw(port: int, method: str, path: str, token: str, extra: str = "") -> tuple[int, bytes]:
    """(status, every byte after the head) of one request on a fresh connection that
    the server closes after its answer (``Connection: close``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                     f"{extra}Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), rest


def _check(core: Core, file_id: int, remove: Path, data: bytes) -> None:
    with production_server(core) as port:
        token = httpx.post(f"http://127.0.0.1:{port}/api/auth/login",
                           json={"username": ADMIN, "password": ADMIN_PASSWORD}).json()["token"]
        path = f"/api/library/media-files/{file_id}/stream"
        assert _raw(port, "HEAD", path, token) == (200, b"")
        status, body = _raw(port, "GET", path, token, "Range: bytes=0-9\r\n")
        assert status == 206 and body == data[:10]
        remove.unlink()
        for extra in ("", "Range: bytes=100-199\r\n"):
            get_status, get_body = _raw(port, "GET", path, token, extra)
            head_status, head_body = _raw(port, "HEAD", path, token, extra)
            assert get_status in (404, 410) and b"detail" in get_body, (get_status, get_body)
            assert (head_status, head_body) == (get_status, b""), (extra, head_status, head_body)
        # a file that shrank below the range's start: 416 for both
        remove.write_bytes(data[:50])
        get_status, _ = _raw(port, "GET", path, token, "Range: bytes=100-199\r\n")
        assert get_status == 416
        assert _raw(port, "HEAD", path, token, "Range: bytes=100-199\r\n") == (416, b"")


def test_head_of_a_local_file_gone_from_disk_is_404_like_get(tmp_path: Path, big_file: Path) -> None:
    root = tmp_path / "media"
    film = place(big_file, root, "Films/Gone (2001)/Gone.2001.mkv")
    data = film.read_bytes()
    with admin_core(tmp_path / "data") as core:
        source = core.sources.create(SourceSpec(name="Disk", kind="local", path=str(root)))
        core.jobs.run_scan_now(source.id)
        from reelhouse.library import queries

        with core.sessions() as s:
            (row,), _ = queries.list_media_files(s, source.id, False, 0, 10)
        _check(core, row.id, film, data)


@pytest.mark.usefixtures("fresh_stat_verdicts")
def test_head_of_an_ftp_file_gone_from_the_server_is_404_like_get(
        tmp_path: Path, ftp_server: EmbeddedFtpServer, ftp_root: Path, big_file: Path) -> None:
    film = place(big_file, ftp_root, "Films/Gone (2001)/Gone.2001.mkv")
    data = film.read_bytes()
    with admin_core(tmp_path / "data") as core:
        _, (row,) = scan_ftp(core, ftp_server.port)
        _check(core, row.id, film, data)
