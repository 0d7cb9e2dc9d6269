"""Tests for reelhouse.sources.ftp.client: FtpConfig validation, reply-code translation,
and one FtpClient against a real pyftpdlib server (MLSD and the LIST fallback)."""

from __future__ import annotations

import ftplib
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    ReelhouseError,
    SourceBusy,
    SourceLoginRefused,
    SourceTimeout,
    SourceUnavailable,
    SourceUnreachable,
    StorageFull,
)
from reelhouse.sources.base import LinkNotFollowed
from reelhouse.sources.ftp.client import FtpClient, FtpConfig, translate_error

from helpers import FTP_PASSWORD, FTP_USER

NAMES = {"Amélie (2001)/Amélie [1080p] \"Director's Cut\".mkv": b"a" * 50,
         "千と千尋の神隠し.mkv": b"b" * 20, "Films/two  spaces.mp4": b"c" * 7}


@pytest.mark.parametrize("kw", [{"host": ""}, {"port": 0}, {"port": 70000}, {"port": -1},
                                {"tls": "sometimes"}])
def test_config_validation(kw: dict[str, object]) -> None:
    args: dict[str, object] = {"host": "example.org"}
    args.update(kw)
    with pytest.raises(InvalidInput):
        FtpConfig(**args)  # type: ignore[arg-type]


def test_config_repr_hides_the_password() -> None:
    c = FtpConfig("example.org", 2121, "bob", "s3cret-pässword", tls="explicit")
    assert "s3cret" not in repr(c) and "s3cret" not in str(c)
    assert "example.org" in repr(c) and "bob" in repr(c)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ftplib.error_temp("421 Too many connections"), SourceBusy),
        (ssl.SSLError(1, "bad record mac"), SourceUnavailable),  # not a down server
        (ftplib.error_perm("530 Login incorrect."), SourceLoginRefused),
        (ftplib.error_perm("550 No such file or directory."), NotFound),
        (ftplib.error_perm("550 Permission denied."), PermissionDenied),
        # pyftpdlib, of a link it lists but will not follow: the one 550 that is no failure
        (ftplib.error_perm("550 '/' points to a path which is outside the user's root directory."),
         LinkNotFollowed),
        (ftplib.error_perm("550 Failed to change directory."), NotFound),  # vsftpd: any reason
        (ftplib.error_temp("450 Access denied"), PermissionDenied),
        (ftplib.error_perm("550 Not enough privileges."), PermissionDenied),  # pyftpdlib
        (ftplib.error_perm("553 Could not create file."), PermissionDenied),  # vsftpd: a STOR it cannot open
        (ftplib.error_perm("553 File name not allowed."), InvalidInput),
        (ftplib.error_perm("553 Can't open that file: Permission denied"), PermissionDenied),
        (ftplib.error_perm("553 Prohibited file name: .env"), InvalidInput),  # pure-ftpd -x
        # pure-ftpd: a STOR into a folder that is gone
        (ftplib.error_perm("553 Can't open that file: No such file or directory"), NotFound),
        (ftplib.error_perm("532 Need account for storing files."), PermissionDenied),  # RFC 959 §4.2
        (ftplib.error_temp("452 Insufficient storage space"), StorageFull),
        (ftplib.error_perm("552 Exceeded storage allocation"), StorageFull),
        (ftplib.error_temp("451 Local error"), SourceUnavailable),
        (ftplib.error_reply("999 weird"), SourceUnavailable),
        (ftplib.error_proto("garbage"), SourceUnavailable),
        (TimeoutError("timed out"), SourceTimeout),
        (ConnectionRefusedError(111, "refused"), SourceUnreachable),
        (ConnectionResetError(104, "reset"), SourceUnreachable),
        (socket.gaierror(-2, "Name or service not known"), SourceUnreachable),
        (EOFError(), SourceUnreachable),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"), SourceUnavailable),
        (RuntimeError("odd"), SourceUnavailable),
    ],
)
def test_translate_error(exc: BaseException, expected: type[ReelhouseError]) -> None:
    out = translate_error(exc, "doing something")
    assert type(out) is expected
    assert out.message


def test_translate_error_passes_our_errors_through() -> None:
    err = NotFound("x")
    assert translate_error(err, "y") is err


@pytest.fixture
def client(ftp_server: EmbeddedFtpServer, ftp_root: Path) -> Iterator[FtpClient]:
    for rel, data in NAMES.items():
        (ftp_root / rel).parent.mkdir(parents=True, exist_ok=True)
        (ftp_root / rel).write_bytes(data)
    c = FtpClient(FtpConfig("127.0.0.1", ftp_server.port, FTP_USER, FTP_PASSWORD,
                            connect_timeout=5, read_timeout=5))
    c.connect()
    yield c
    c.quit()


def _read_all(client: FtpClient, path: str, offset: int) -> bytes:
    data = client.start_retr(path, offset)
    chunks = []
    while chunk := data.recv(65536):
        chunks.append(chunk)
    assert client.end_transfer(data, complete=True) == (True, True)
    return b"".join(chunks)


def test_connect_features_and_reads(client: FtpClient) -> None:
    assert client.alive
    assert {"MLST", "REST", "UTF8"} <= client.features
    for rel, data in NAMES.items():
        assert _read_all(client, rel, 0) == data
        assert _read_all(client, rel, 3) == data[3:]
    client.noop()


def test_cut_transfer_keeps_the_connection_in_sync(client: FtpClient, ftp_root: Path) -> None:
    (ftp_root / "big.bin").write_bytes(b"z" * (8 * 1024 * 1024))
    for _ in range(3):
        data = client.start_retr("big.bin", 100)
        assert data.recv(10)
        assert client.end_transfer(data, complete=False).in_sync
        assert not client.in_transfer
        client.noop()
    assert _read_all(client, "千と千尋の神隠し.mkv", 0) == b"b" * 20


@pytest.mark.parametrize("mlsd", [True, False], ids=["MLSD", "LIST"])
def test_list_and_stat(client: FtpClient, mlsd: bool) -> None:
    if not mlsd:
        client.features.discard("MLST")  # the LIST/parent-listing fallback
    root = {e.name: e for e in client.list("")}
    assert set(root) == {"Amélie (2001)", "千と千尋の神隠し.mkv", "Films"}
    assert root["千と千尋の神隠し.mkv"].size == 20 and root["Films"].is_dir
    inner = client.list("Amélie (2001)")
    assert [(e.path, e.size) for e in inner] == [
        ("Amélie (2001)/Amélie [1080p] \"Director's Cut\".mkv", 50)]
    entry = client.stat("Films/two  spaces.mp4")
    assert (entry.name, entry.path, entry.size, entry.is_dir) == (
        "two  spaces.mp4", "Films/two  spaces.mp4", 7, False)
    assert client.stat("Films").is_dir
    with pytest.raises(NotFound):
        client.stat("Films/nope.mp4")
    # after a listing (TYPE A) a read must switch back to binary
    assert _read_all(client, "Films/two  spaces.mp4", 0) == b"c" * 7


def test_closed_client_raises_source_unavailable(client: FtpClient) -> None:
    client.close()
    assert not client.alive
    with pytest.raises(SourceUnavailable):
        client.noop()
    with pytest.raises(SourceUnavailable):
        client.list("")
    client.close()  # twice is fine


def test_negative_offset_is_invalid(client: FtpClient) -> None:
    with pytest.raises(InvalidInput):
        client.start_retr("Films/two  spaces.mp4", -5)
