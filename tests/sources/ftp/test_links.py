"""Symbolic links on real FTP daemons: pure-ftpd and vsftpd list a link as a link (LIST
``l… name -> target``, MLSD ``type=OS.unix=slink``) with the size of the link itself
(the length of its target's path), while ``SIZE``, ``MDTM`` and ``RETR`` follow it.
A link to a file lists as that file (its size and time), so a scan indexes it with the
size a download and a stream get; a link to a folder lists as a folder (a walk goes
into it or notes why not: tests/compat/test_vsftpd_links.py); a link the server will
not follow (dangling, or out of its chroot) is no file and is left out."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reelhouse.sources.ftp import FtpConfig, FtpSource
from reelhouse.sources.walk import LinkedFolderSkipped
from reelhouse.transfers.copy import download

from helpers import PURE_PASSWORD, PURE_USER, pure_ftpd, vsftpd

pytestmark = pytest.mark.ftpd

FILM = b"f" * 150_001


def _fill(home: Path, outside: Path) -> None:
    (home / "Films").mkdir(parents=True)
    (home / "Films/Heat (1995).mkv").write_bytes(FILM)
    os.utime(home / "Films/Heat (1995).mkv", (1_700_000_000, 1_700_000_000))
    (home / "Films/Heat link.mkv").symlink_to("Heat (1995).mkv")
    (home / "Films/dangling.mkv").symlink_to("nowhere.mkv")
    (home / "Films/Shows").symlink_to("../Shows")
    (home / "Shows").mkdir()
    outside.mkdir(exist_ok=True)
    (outside / "x.mkv").write_bytes(b"x" * 10)
    (home / "Films/out.mkv").symlink_to(outside / "x.mkv")
    (home / "Many").mkdir()
    for i in range(120):  # more than one batch of SIZE/MDTM (client._LINK_BATCH)
        (home / "Many" / f"{i:03d}.mkv").write_bytes(b"m" * (i + 1))
        (home / "Many" / f"link {i:03d}.mkv").symlink_to(f"{i:03d}.mkv")
    (home / "Many/link gone.mkv").symlink_to("gone.mkv")


@contextmanager
def _server(kind: str, tmp_path: Path) -> Iterator[FtpSource]:
    outside = tmp_path / "outside"
    if kind == "pure-ftpd":  # chrooted: a link out of the home leads nowhere
        with pure_ftpd(tmp_path, lambda home: _fill(home, outside)) as (port, _home):
            src = FtpSource(FtpConfig("127.0.0.1", port, PURE_USER, PURE_PASSWORD, pool_size=2))
            try:
                yield src
            finally:
                src.close()
        return
    anon = tmp_path / "anon"
    anon.mkdir()
    _fill(anon, outside)
    (outside / "x.mkv").unlink()  # vsftpd here is not chrooted: make that link lead nowhere too
    subprocess.run(["chown", "-R", "nobody:nogroup", str(anon)], check=True)
    with vsftpd(tmp_path, anon) as port:
        src = FtpSource(FtpConfig("127.0.0.1", port, pool_size=2))
        try:
            yield src
        finally:
            src.close()


@pytest.mark.parametrize("kind", ["pure-ftpd", "vsftpd"])
def test_a_link_to_a_file_lists_as_the_file(kind: str, tmp_path: Path) -> None:
    with _server(kind, tmp_path) as src:
        walked = dict(src.walk(""))
        for listing in (src.list("Films"), walked["Films"]):
            assert not isinstance(listing, Exception)
            got = {e.name: (e.is_dir, e.size) for e in listing}
            assert got == {"Heat (1995).mkv": (False, len(FILM)), "Heat link.mkv": (False, len(FILM)),
                           "Shows": (True, None)}, got
        assert isinstance(walked["Films/Shows"], LinkedFolderSkipped)  # ../Shows: walked as Shows
        link = src.stat("Films/Heat link.mkv")
        assert (link.is_dir, link.size, link.mtime) == (False, len(FILM), 1_700_000_000)
        out = tmp_path / "got.mkv"
        assert download(src, "Films/Heat link.mkv", out) == len(FILM)
        assert out.read_bytes() == FILM


@pytest.mark.parametrize("kind", ["pure-ftpd", "vsftpd"])
def test_many_links_in_a_folder(kind: str, tmp_path: Path) -> None:
    with _server(kind, tmp_path) as src:
        got = {e.name: e.size for e in src.list("Many")}
        want = {f"{i:03d}.mkv": i + 1 for i in range(120)}
        assert got == {**want, **{f"link {name}": size for name, size in want.items()}}
        assert src.list("Films")  # the connection is in step after the batches


@pytest.mark.parametrize("kind", ["pure-ftpd", "vsftpd"])
def test_same_folder_tells_a_link_back_up_from_another_folder(kind: str, tmp_path: Path) -> None:
    """What the walk asks of a folder listed exactly like another (its loop guard):
    pure-ftpd answers by MLST's ``unique`` fact; vsftpd has no MLST and answered
    nothing (None: a same-named chain made within a minute was skipped as a loop), now
    its ``PWD`` after a ``CWD`` (getcwd(3): links resolved) does. The connection goes on
    listing in step after."""
    with _server(kind, tmp_path) as src:
        assert src.same_folder("Films/Shows", "Shows") is True  # Films/Shows -> ../Shows
        assert src.same_folder("Many", "Shows") is False
        assert src.same_folder("Films/nowhere", "Shows") is None  # refused: nothing known
        assert {e.name for e in src.list("Films")} == {"Heat (1995).mkv", "Heat link.mkv", "Shows"}


def test_same_folder_on_a_server_whose_pwd_echoes_the_path(tmp_path: Path) -> None:
    """A greeting not known to resolve links in PWD (vsftpd with its own banner, like
    pyftpdlib or ProFTPD) tells nothing: the walk keeps treating a folder listed like
    an ancestor as a loop (a loop walked forever is worse than a chain skipped)."""
    anon = tmp_path / "anon"
    anon.mkdir()
    _fill(anon, tmp_path / "outside")
    subprocess.run(["chown", "-R", "nobody:nogroup", str(anon)], check=True)
    with vsftpd(tmp_path, anon, options={"ftpd_banner": "Welcome"}) as port:
        src = FtpSource(FtpConfig("127.0.0.1", port, pool_size=1))
        try:
            assert src.same_folder("Many", "Shows") is None
        finally:
            src.close()
