"""Transfers against the system FTP daemons (vsftpd, pure-ftpd) when the server is
unhelpful: resume commands refused, the disk full, the session killed mid-transfer."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reelhouse.errors import Cancelled, InvalidInput, SourceUnavailable, StorageFull
from reelhouse.sources.ftp import FtpConfig, FtpSource
from reelhouse.transfers.copy import _version, download, upload
from reelhouse.transfers.part_files import local_part, part_signature_path

from helpers import PURE_PASSWORD, PURE_USER, daemon_of, pure_ftpd, vsftpd

pytestmark = pytest.mark.ftpd

#: vsftpd's cmds_allowed without APPE and REST: both answered "550 Permission denied."
NO_RESUME = ("USER,PASS,SYST,FEAT,OPTS,PWD,CWD,TYPE,PASV,EPSV,STOR,RETR,LIST,SIZE,MDTM,MKD,RNFR,RNTO,"
             "DELE,QUIT,NOOP,STAT,NLST")

DATA = random.Random(1).randbytes(3 * 1024 * 1024 + 7)


@pytest.fixture
def no_resume(tmp_path: Path) -> Iterator[tuple[FtpSource, Path]]:
    """A vsftpd that refuses APPE and REST; yields (source on incoming/, its folder)."""
    anon = tmp_path / "anon"
    (anon / "incoming").mkdir(parents=True)
    (anon / "incoming").chmod(0o777)
    with vsftpd(tmp_path, anon, writable=True, options={"cmds_allowed": NO_RESUME}) as port:
        src = FtpSource(FtpConfig("127.0.0.1", port, root="incoming", pool_size=2))
        try:
            yield src, anon / "incoming"
        finally:
            src.close()


def test_upload_restarts_whole_where_appe_and_rest_are_refused(no_resume: tuple[FtpSource, Path],
                                                              tmp_path: Path) -> None:
    src, incoming = no_resume
    local = tmp_path / "film.mkv"
    local.write_bytes(DATA)
    (incoming / "film.mkv.reelhouse.part").write_bytes(DATA[:1_000_000])  # an interrupted attempt's
    assert upload(src, local, "film.mkv") == len(DATA)
    assert (incoming / "film.mkv").read_bytes() == DATA
    assert sorted(p.name for p in incoming.iterdir()) == ["film.mkv"]


def test_download_restarts_whole_where_rest_is_refused(no_resume: tuple[FtpSource, Path],
                                                       tmp_path: Path) -> None:
    src, incoming = no_resume
    (incoming / "film.mkv").write_bytes(DATA)
    out = tmp_path / "back.mkv"
    local_part(out).write_bytes(DATA[:5])
    part_signature_path(out).write_text(_version(src, "film.mkv")[1])
    assert download(src, "film.mkv", out) == len(DATA)
    assert out.read_bytes() == DATA
    assert not local_part(out).exists()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (root only), grown by :func:`grow`; unmounted after the test."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def grow(mnt: Path) -> None:
    subprocess.run(["mount", "-o", "remount,size=16m", str(mnt)], check=True)


@contextmanager
def daemon_on(kind: str, disk: Path, tmp_path: Path) -> Iterator[tuple[FtpSource, Path]]:
    """(source, the folder it writes) of a pure-ftpd or vsftpd whose files live on ``disk``."""
    if kind == "pure-ftpd":
        with pure_ftpd(disk) as (port, home):
            src = FtpSource(FtpConfig("127.0.0.1", port, user=PURE_USER, password=PURE_PASSWORD, pool_size=2))
            try:
                yield src, home
            finally:
                src.close()
        return
    anon = disk / "anon"
    (anon / "incoming").mkdir(parents=True)
    (anon / "incoming").chmod(0o777)
    with vsftpd(tmp_path, anon, writable=True) as port:
        src = FtpSource(FtpConfig("127.0.0.1", port, root="incoming", pool_size=2))
        try:
            yield src, anon / "incoming"
        finally:
            src.close()


@pytest.mark.parametrize("kind", ["pure-ftpd", "vsftpd"])
def test_a_full_server_disk_is_storage_full_and_the_upload_resumes_later(
        kind: str, small_disk: Path, tmp_path: Path) -> None:
    """Both daemons answer a full disk with 451 ("Error during write to file", "Failure
    writing to local file."), not 452/552: still StorageFull, the .part kept, and the
    upload resumes from it once there is room."""
    local = tmp_path / "film.mkv"
    local.write_bytes(DATA)
    with daemon_on(kind, small_disk, tmp_path) as (src, home):
        with pytest.raises(StorageFull):
            upload(src, local, "Films/film.mkv")
        kept = (home / "Films/film.mkv.reelhouse.part").read_bytes()
        assert 0 < len(kept) < len(DATA) and DATA.startswith(kept)
        assert src.pool.stats["in_use"] == 0
        grow(small_disk)
        assert upload(src, local, "Films/film.mkv") == len(DATA)
        assert hashlib.sha256((home / "Films/film.mkv").read_bytes()).digest() == hashlib.sha256(DATA).digest()
        assert sorted(p.name for p in (home / "Films").iterdir()) == ["film.mkv"]


def kill_sessions(port: int) -> int:
    """SIGKILL the session processes (children) of the daemon on ``port``; how many."""
    parent = daemon_of(port)
    killed = 0
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and int((proc / "stat").read_text().rpartition(")")[2].split()[1]) == parent:
                os.kill(int(proc.name), signal.SIGKILL)
                killed += 1
        except (OSError, ValueError, IndexError):
            pass
    return killed


BIG = random.Random(2).randbytes(24 * 1024 * 1024 + 3)


@pytest.mark.parametrize("kind", ["pure-ftpd", "vsftpd"])
def test_sessions_killed_mid_transfer_resume_to_identical_bytes(kind: str, tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    local = tmp_path / "big.mkv"
    local.write_bytes(BIG)
    want = hashlib.sha256(BIG).hexdigest()
    with daemon_on(kind, disk, tmp_path) as (src, home):
        port = src.config.port
        killed: list[int] = []

        def kill_once(done: int, total: int | None) -> None:
            if done >= 8 * 1024 * 1024 and not killed:  # past what socket buffers hold
                killed.append(kill_sessions(port))

        with pytest.raises(SourceUnavailable):
            upload(src, local, "up/big.mkv", progress=kill_once)
        assert killed and killed[0] >= 1
        kept = (home / "up/big.mkv.reelhouse.part").read_bytes()
        assert 0 < len(kept) < len(BIG) and BIG.startswith(kept)
        assert upload(src, local, "up/big.mkv") == len(BIG)
        assert hashlib.sha256((home / "up/big.mkv").read_bytes()).hexdigest() == want

        killed.clear()
        out = tmp_path / "back.mkv"
        assert download(src, "up/big.mkv", out, progress=kill_once) == len(BIG)
        assert killed and killed[0] >= 1
        assert hashlib.sha256(out.read_bytes()).hexdigest() == want
        assert src.pool.stats["in_use"] == 0


def test_a_download_is_not_resumed_onto_a_same_size_file_replaced_within_the_minute(tmp_path: Path) -> None:
    """vsftpd lists times to the minute (to the day for old files): the .part's
    signature must use the server's MDTM (seconds), or a file replaced by another of
    the same size in the same minute ends as a splice of the two."""
    disk = tmp_path / "disk"
    disk.mkdir()
    old, new = BIG, random.Random(9).randbytes(len(BIG))
    minute = (int(time.time()) // 60 - 5) * 60
    with daemon_on("vsftpd", disk, tmp_path) as (src, home):
        film = home / "film.mkv"
        film.write_bytes(old)
        os.utime(film, (minute + 10, minute + 10))
        out = tmp_path / "film.mkv"
        with pytest.raises(Cancelled):
            download(src, "film.mkv", out, should_stop=lambda: local_part(out).exists()
                     and local_part(out).stat().st_size > 2 * 1024 * 1024)
        assert local_part(out).exists()
        film.write_bytes(new)
        os.utime(film, (minute + 40, minute + 40))
        assert download(src, "film.mkv", out) == len(new)
        assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(new).digest()


@pytest.mark.parametrize("kind", ["pure-ftpd", "vsftpd"])
def test_names_users_give_upload_and_download_intact(kind: str, tmp_path: Path) -> None:
    """``#``, ``%``, ``?``, leading dashes, spaces at the ends, and 254/255-byte names
    (NAME_MAX: the ``.part`` of such a name would be too long, so it gets a hashed one);
    glob characters, emoji and right-to-left text, trailing dots, Windows device names,
    names differing in case only, a lone dash."""
    names = ["a #1.mkv", "100% b.mkv", "what?.mkv", "-rf.mkv", "--help", " spaced .mkv", ".hidden.mkv",
             "é" * 125 + ".mkv", "x" * 251 + ".mkv", "[x]{y}+*.mkv", "🎬 שלום.mkv", "dots...", "CON.mkv",
             "Case.mkv", "case.mkv", "-"]
    disk = tmp_path / "disk"
    disk.mkdir()
    data = random.Random(4).randbytes(100_003)
    local = tmp_path / "l.mkv"
    local.write_bytes(data)
    with daemon_on(kind, disk, tmp_path) as (src, home):
        for name in names:
            assert upload(src, local, f"in/{name}") == len(data)
            assert (home / "in" / name).read_bytes() == data
            if kind == "vsftpd" and name.startswith("."):
                continue  # vsftpd lists no dot-files: not downloadable from it
            out = tmp_path / "back" / name
            assert download(src, f"in/{name}", out) == len(data)
            assert out.read_bytes() == data
        assert sorted(p.name for p in (home / "in").iterdir()) == sorted(names)


def test_implicit_ftps_with_session_reuse_round_trip(tmp_path: Path) -> None:
    """vsftpd with implicit TLS and ``require_ssl_reuse=YES`` on the data connections."""
    from compat.support import transfer_round_trip
    from compat.test_vsftpd import _self_signed

    anon = tmp_path / "anon"
    (anon / "incoming").mkdir(parents=True)
    (anon / "incoming").chmod(0o777)
    cert, key, pem = _self_signed(tmp_path)
    with vsftpd(tmp_path, anon, writable=True, tls=(cert, key), options={"implicit_ssl": "YES"}) as port:
        src = FtpSource(FtpConfig("127.0.0.1", port, root="incoming", pool_size=2, tls="implicit",
                                  trusted_cert=pem))
        try:
            transfer_round_trip(src, tmp_path, anon / "incoming", seed=3)
        finally:
            src.close()


@pytest.mark.parametrize("kind", ["pure-ftpd", "vsftpd"])
def test_a_name_the_server_stores_otherwise_is_an_error_not_a_success(kind: str, tmp_path: Path) -> None:
    """pure-ftpd stores ``Heat (1995).mkv `` (a space at the end) as ``Heat (1995).mkv_``
    and answers the rename with success: the upload said it was done, and the file was
    not at its name (the drive and the library then never find it). Now it is a clear
    InvalidInput; vsftpd keeps the name and the upload works."""
    disk = tmp_path / "disk"
    disk.mkdir()
    local = tmp_path / "l.mkv"
    local.write_bytes(b"h" * 5000)
    with daemon_on(kind, disk, tmp_path) as (src, home):
        if kind == "vsftpd":
            assert upload(src, local, "in/Heat (1995).mkv ") == 5000
            assert (home / "in" / "Heat (1995).mkv ").read_bytes() == b"h" * 5000
            return
        with pytest.raises(InvalidInput, match="under another name"):
            upload(src, local, "in/Heat (1995).mkv ")
        assert sorted(p.name for p in (home / "in").iterdir()) == ["Heat (1995).mkv_"]
