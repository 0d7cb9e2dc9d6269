"""Hostile and unlucky names and copies through a real mount of real daemons: names of
every kind on pure-ftpd (up to NAME_MAX, NFC and NFD, ones that look like LIST lines),
names a server cannot take (refused at create, never left pending), latin-1 names on a
vsftpd that is not UTF-8, and ``cp -a``/``tar x`` keeping file times on the server."""

from __future__ import annotations

import errno
import os
import subprocess
import unicodedata
from pathlib import Path

import pytest
from drive.support import Mounter, fresh_status

from helpers import PURE_PASSWORD, PURE_USER, pure_ftpd, vsftpd

pytestmark = pytest.mark.requires_fuse

NAMES = [
    "a b.txt", "it's.txt", "#1.txt", "100%.txt", "-rf", "--help", " leading space.txt",
    "trailing space .txt", "semi;colon&amp$(x)`y`.txt", "drwxr-xr-x 1 ftp ftp 0 Jan 1 00:00 x",
    "-rw-r--r-- 1 0 0 5 Jan 1 2020 y.txt", "type=file;size=9; z.txt",
    unicodedata.normalize("NFC", "Amélie.txt"), unicodedata.normalize("NFD", "Amélie.txt"),
    "千と千尋.mkv", "x" * 251 + ".mkv",  # 255 bytes: ".part" would make it 260
    "é" * 127 + "a",  # 255 bytes of UTF-8
]


def _expect(code: int, fn: object, *args: object) -> None:
    with pytest.raises(OSError) as info:
        fn(*args)  # type: ignore[operator]
    assert info.value.errno == code, f"{info.value} (wanted {errno.errorcode[code]})"


@pytest.mark.ftpd
def test_hostile_names_and_copies_on_pureftpd(tmp_path: Path, mount: Mounter) -> None:
    with pure_ftpd(tmp_path) as (port, home):
        m = mount("--host", "127.0.0.1", "--port", str(port), "--user", PURE_USER, "--password", PURE_PASSWORD)
        for i, name in enumerate(NAMES):
            (m.path / name).write_bytes(f"{i}:{name}".encode())
        assert sorted(os.listdir(m.path)) == sorted(NAMES)
        assert sorted(os.listdir(home)) == sorted(NAMES)  # no .part left, every name as given
        for i, name in enumerate(NAMES):
            assert (home / name).read_bytes() == (m.path / name).read_bytes() == f"{i}:{name}".encode()
        # names the server cannot take fail when made, not at close (bash does not check
        # close): ENAMETOOLONG past 255 bytes (the kernel leaves the limit to us), EINVAL
        # for CR/LF (they would end the FTP command)
        for bad, code in [("y" * 256, errno.ENAMETOOLONG), ("é" * 128, errno.ENAMETOOLONG),
                          ("new\nline", errno.EINVAL), ("cr\r", errno.EINVAL)]:
            _expect(code, open, m.path / bad, "w")
            _expect(code, os.mkdir, m.path / bad)
            _expect(code, os.rename, m.path / "a b.txt", m.path / bad)
        # cp -a and tar x set the times while the file is still open: the server keeps them (MFMT)
        src = tmp_path / "src"
        (src / "sub dir").mkdir(parents=True)
        for rel in ("old #1.txt", "sub dir/older.bin"):
            (src / rel).write_bytes(os.urandom(3000))
        os.utime(src / "old #1.txt", (1_500_000_000, 1_500_000_000))
        os.utime(src / "sub dir/older.bin", (1_300_000_000, 1_300_000_000))
        subprocess.run(["cp", "-a", str(src), str(m.path / "cpa")], check=True)
        subprocess.run(["tar", "-C", str(tmp_path), "-cf", str(tmp_path / "src.tar"), "src"], check=True)
        (m.path / "tx").mkdir()
        subprocess.run(["tar", "-C", str(m.path / "tx"), "-xf", str(tmp_path / "src.tar")], check=True)
        for copy in (home / "cpa", home / "tx" / "src"):
            for rel, when in (("old #1.txt", 1_500_000_000), ("sub dir/older.bin", 1_300_000_000)):
                assert (copy / rel).read_bytes() == (src / rel).read_bytes()
                assert int((copy / rel).stat().st_mtime) == when, (copy / rel)
        # pure-ftpd stores control characters and a trailing space as "_", and says
        # nothing: before the first such name the mount asks (a hidden folder it makes,
        # looks up and removes), and every such name is EINVAL when made. Before, the first
        # one a mount made went to the server as "end_" / "tail_" (a file's bytes
        # uploaded, EINVAL only at its close)
        on_server = sorted(os.listdir(home))
        _expect(errno.EINVAL, os.mkdir, m.path / "end ")
        _expect(errno.EINVAL, open, m.path / "tab\there", "w")
        m.stop()
        m = mount("--host", "127.0.0.1", "--port", str(port), "--user", PURE_USER, "--password", PURE_PASSWORD)
        _expect(errno.EINVAL, open, m.path / "tail ", "w")  # a new mount asks again
        _expect(errno.EINVAL, os.rename, m.path / "a b.txt", m.path / "tail ")
        assert sorted(os.listdir(home)) == sorted(os.listdir(m.path)) == on_server  # nothing made, no check left
        (m.path / " lead ok").write_text("a leading space is kept")
        assert (home / " lead ok").read_text() == "a leading space is kept"
        [info] = fresh_status(m.env)
        assert info["pending_uploads"] == [] and info["state"] == "up"
        m.stop()


@pytest.mark.ftpd
def test_latin1_names_on_a_vsftpd_without_utf8(tmp_path: Path, mount: Mounter) -> None:
    anon = tmp_path / "anon"
    (anon / "pub").mkdir(parents=True)
    for raw in (b"caf\xe9.txt", b"na\xefve \xe0 la.txt"):
        (anon / "pub" / os.fsdecode(raw)).write_bytes(raw)
    for p in anon.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    (anon / "pub").chmod(0o777)
    with vsftpd(tmp_path, anon, writable=True, options={"utf8_filesystem": "NO"}) as port:
        m = mount("--host", "127.0.0.1", "--port", str(port), "--root", "pub")
        assert sorted(os.listdir(m.path)) == ["café.txt", "naïve à la.txt"]
        assert (m.path / "café.txt").read_bytes() == b"caf\xe9.txt"
        (m.path / "créé.txt").write_text("new")
        assert os.listdir(os.fsencode(anon / "pub")).count(b"cr\xe9\xe9.txt") == 1  # latin-1 on the server
        # a name latin-1 cannot carry: EINVAL at once, the server stays "up", nothing pending
        _expect(errno.EINVAL, open, m.path / "€uro.txt", "w")
        _expect(errno.EINVAL, os.mkdir, m.path / "日本")
        # a folder of odd names latin-1 can carry, copied in with cp -r
        odd = tmp_path / "odd folder #1 %20 é"
        odd.mkdir()
        for name in ("a b.txt", "#hash.txt", "100%.txt", "-dash.txt", "it's.txt", "x\\y.txt", "çà.txt",
                     "[br] {c}.txt", "*star?.txt", ".hidden"):
            (odd / name).write_text(f"content of {name}")
        subprocess.run(["cp", "-r", str(odd), str(m.path)], check=True)
        subprocess.run(["diff", "-r", str(odd), str(m.path / odd.name)], check=True)
        assert os.fsencode(odd.name).replace("é".encode(), b"\xe9") in os.listdir(os.fsencode(anon / "pub"))
        [info] = fresh_status(m.env)
        assert info["state"] == "up" and info["pending_uploads"] == [], info
        m.stop()


@pytest.mark.ftpd
def test_latin1_bytes_on_a_utf8_pureftpd_round_trip(tmp_path: Path, mount: Mounter) -> None:
    # pure-ftpd speaks UTF-8 but stores whatever bytes it is sent: names copied there by
    # an old client are latin-1. They show as their bytes (as ls shows them on a local
    # disk) and open, rename, list and delete like any other name.
    def fill(home: Path) -> None:
        folder = home / os.fsdecode(b"d\xe9j\xe0")
        folder.mkdir()
        (folder / "x.txt").write_bytes(b"inside")
        (home / os.fsdecode(b"caf\xe9.txt")).write_bytes(b"latin")
    with pure_ftpd(tmp_path, fill) as (port, home):
        m = mount("--host", "127.0.0.1", "--port", str(port), "--user", PURE_USER, "--password", PURE_PASSWORD)
        mp = os.fsencode(m.path)
        assert sorted(os.listdir(mp)) == [b"caf\xe9.txt", b"d\xe9j\xe0"]
        with open(mp + b"/caf\xe9.txt", "rb") as f:
            assert f.read() == b"latin"
        assert os.listdir(mp + b"/d\xe9j\xe0") == [b"x.txt"]
        with open(mp + b"/d\xe9j\xe0/x.txt", "rb") as f:
            assert f.read() == b"inside"
        with open(mp + b"/d\xe9j\xe0/n\xe9w.txt", "wb") as f:
            f.write(b"new")
        os.rename(mp + b"/caf\xe9.txt", mp + b"/d\xe9j\xe0/caf\xe9 2.txt")
        assert sorted(os.listdir(os.fsencode(home) + b"/d\xe9j\xe0")) == [b"caf\xe9 2.txt", b"n\xe9w.txt", b"x.txt"]
        os.utime(mp + b"/d\xe9j\xe0/n\xe9w.txt", (1_200_000_000, 1_200_000_000))
        assert int(os.stat(os.fsencode(home) + b"/d\xe9j\xe0/n\xe9w.txt").st_mtime) == 1_200_000_000
        os.unlink(mp + b"/d\xe9j\xe0/caf\xe9 2.txt")
        os.mkdir(mp + b"/\xe9t\xe9")  # pure-ftpd echoes the name in its 257 reply
        os.rmdir(mp + b"/\xe9t\xe9")
        assert sorted(os.listdir(mp + b"/d\xe9j\xe0")) == [b"n\xe9w.txt", b"x.txt"]
        [info] = fresh_status(m.env)
        assert info["state"] == "up" and info["pending_uploads"] == [], info
        m.stop()


@pytest.mark.ftpd
def test_hash_percent_and_dash_names_on_vsftpd(tmp_path: Path, mount: Mounter) -> None:
    """vsftpd (LIST only, names passed through as given): files and folders named with
    ``#``, ``%`` and leading dashes (which LIST would take as options) are made, listed,
    read, renamed, moved and deleted through the mount, and the server has them as named."""
    anon = tmp_path / "anon"
    (anon / "pub").mkdir(parents=True)
    (anon / "pub").chmod(0o777)
    with vsftpd(tmp_path, anon, writable=True) as port:
        m = mount("--host", "127.0.0.1", "--port", str(port), "--root", "pub")
        names = ["#1.txt", "100%.txt", "%41%20.txt", "-rf", "--help", "-l"]
        for folder in ("-la", "#x %d"):
            os.mkdir(m.path / folder)
            for name in names:
                (m.path / folder / name).write_text(f"{folder}/{name}")
        for folder in ("-la", "#x %d"):
            assert sorted(os.listdir(m.path / folder)) == sorted(names)
            assert sorted(os.listdir(anon / "pub" / folder)) == sorted(names)
            for name in names:
                assert (m.path / folder / name).read_text() == f"{folder}/{name}"
        os.rename(m.path / "-la" / "-rf", m.path / "#x %d" / "-R")
        os.rename(m.path / "-la", m.path / "--moved")
        assert (anon / "pub" / "#x %d" / "-R").read_text() == "-la/-rf"
        assert sorted(os.listdir(anon / "pub")) == ["#x %d", "--moved"]
        for name in os.listdir(m.path / "--moved"):
            os.unlink(m.path / "--moved" / name)
        os.rmdir(m.path / "--moved")
        assert sorted(os.listdir(m.path)) == ["#x %d"] == sorted(os.listdir(anon / "pub"))
        [info] = fresh_status(m.env)
        assert info["state"] == "up" and info["pending_uploads"] == [], info
        m.stop()
