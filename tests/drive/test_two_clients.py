"""Two clients of one server: a mount whose listing cache (30 s) still says a name is
free, and a second FTP client (ftplib, as another machine) that has just made it. An
exclusive create (``O_CREAT|O_EXCL``: lock files, git's ``index.lock``) and ``mkdir``
through the mount must answer EEXIST from the server (a listing at most
EXCLUSIVE_FRESH old; MLST), not from the cache, and leave the other client's file
alone; a create without O_EXCL or O_TRUNC (``touch``, ``>>``) opens that file instead of
emptying it. pyftpdlib and pure-ftpd (MLST), vsftpd (a listing)."""

from __future__ import annotations

import errno
import io
import os
import time
from pathlib import Path

import pytest
from drive.support import Mounter
from drive.writable import Writable, embedded, pure_writable, vsftpd_writable

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.drive.fs import EXCLUSIVE_FRESH

pytestmark = pytest.mark.requires_fuse


def _race(mount: Mounter, server: Writable) -> None:
    """The mount lists its root (cached for 30 s); the other client makes ``lock`` and
    ``taken/``; once that listing is older than EXCLUSIVE_FRESH, the mount's exclusive
    create of ``lock`` and mkdir of ``taken`` are EEXIST, ``lock`` keeps the other
    client's bytes; free names are made as usual."""
    m, server_dir = mount(*server.options()), server.home
    assert os.listdir(m.path) == []
    listed = time.monotonic()
    ftp = server.other_client()
    try:
        ftp.storbinary("STOR lock", io.BytesIO(b"theirs"))
        ftp.storbinary("STOR log", io.BytesIO(b"their line\n"))
        ftp.storbinary("STOR touched", io.BytesIO(b"their bytes"))
        ftp.mkd("taken")
    finally:
        ftp.quit()
    time.sleep(max(0.0, listed + EXCLUSIVE_FRESH + 0.2 - time.monotonic()))
    # creates without O_EXCL or O_TRUNC open the other client's file, never empty it:
    # ``touch`` (O_CREAT only) and a shell's ``>>`` (O_CREAT|O_APPEND)
    os.close(os.open(m.path / "touched", os.O_WRONLY | os.O_CREAT))
    fd = os.open(m.path / "log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.write(fd, b"my line\n")
    os.close(fd)
    assert (server_dir / "touched").read_bytes() == b"their bytes"
    assert (server_dir / "log").read_bytes() == b"their line\nmy line\n"
    assert (m.path / "log").read_bytes() == b"their line\nmy line\n"
    with pytest.raises(OSError) as info:
        os.open(m.path / "lock", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    assert info.value.errno == errno.EEXIST
    with pytest.raises(OSError) as info:
        os.mkdir(m.path / "taken")
    assert info.value.errno == errno.EEXIST
    assert (server_dir / "lock").read_bytes() == b"theirs"
    assert (m.path / "lock").read_bytes() == b"theirs"  # the folder was listed again
    fd = os.open(m.path / "mine", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    os.write(fd, b"mine")
    os.close(fd)
    os.mkdir(m.path / "free")
    assert (server_dir / "mine").read_bytes() == b"mine" and (server_dir / "free").is_dir()
    assert sorted(os.listdir(m.path)) == ["free", "lock", "log", "mine", "taken", "touched"]
    assert m.stop() == 0


def test_pyftpdlib_exclusive_create_and_mkdir_see_another_client(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                                                  mount: Mounter) -> None:
    _race(mount, embedded(ftp_server, ftp_root))


@pytest.mark.ftpd
def test_pureftpd_exclusive_create_and_mkdir_see_another_client(tmp_path: Path, mount: Mounter) -> None:
    with pure_writable(tmp_path) as server:
        _race(mount, server)


@pytest.mark.ftpd
def test_vsftpd_exclusive_create_and_mkdir_see_another_client(tmp_path: Path, mount: Mounter) -> None:
    with vsftpd_writable(tmp_path) as server:
        _race(mount, server)


def _log_and_data(home: Path) -> None:
    (home / "log").write_bytes(b"line 1\n")
    (home / "data").write_bytes(b"0123")


def _grown_elsewhere(mount: Mounter, server: Writable) -> None:
    """The mount lists ``log`` and ``data`` (their sizes cached for 60 s); the other
    client appends to both; once the kernel's 1 s attributes expired, a ``>>`` through
    the mount appends after the other client's lines and an in-place edit (``dd
    conv=notrunc``) keeps the bytes it added (both were cut to the cached size)."""
    m, server_dir = mount(*server.options()), server.home
    assert sorted(os.listdir(m.path)) == ["data", "log"]
    assert (m.path / "log").stat().st_size == len(b"line 1\n")
    ftp = server.other_client()
    try:
        ftp.storbinary("APPE log", io.BytesIO(b"their line 2\n"))
        ftp.storbinary("APPE data", io.BytesIO(b"4567"))
    finally:
        ftp.quit()
    time.sleep(1.5)  # past the kernel's 1 s TTL; the mount's own cache still says 7 and 4 bytes
    with open(m.path / "log", "ab") as f:
        f.write(b"my line 3\n")
    fd = os.open(m.path / "data", os.O_WRONLY)
    os.pwrite(fd, b"AB", 1)
    os.close(fd)
    assert (server_dir / "log").read_bytes() == b"line 1\ntheir line 2\nmy line 3\n"
    assert (server_dir / "data").read_bytes() == b"0AB34567"
    assert (m.path / "log").read_bytes() == b"line 1\ntheir line 2\nmy line 3\n"
    assert m.stop() == 0


def test_pyftpdlib_writes_keep_what_another_client_appended(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                                            mount: Mounter) -> None:
    _log_and_data(ftp_root)
    _grown_elsewhere(mount, embedded(ftp_server, ftp_root))


@pytest.mark.ftpd
def test_pureftpd_writes_keep_what_another_client_appended(tmp_path: Path, mount: Mounter) -> None:
    with pure_writable(tmp_path, _log_and_data) as server:
        _grown_elsewhere(mount, server)
