"""The drive against real FTP daemons: pure-ftpd (MLSD, a virtual user), vsftpd (LIST
only, anonymous, a server refusing writes; and FTPS with session reuse), and FTPS on
pyftpdlib with a pinned self-signed certificate."""

from __future__ import annotations

import errno
import hashlib
import os
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from drive.support import Mounter, fresh_status, run_cli, status_until

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER, PURE_PASSWORD, PURE_USER, pure_ftpd, vsftpd

pytestmark = pytest.mark.requires_fuse

NAMES = ["Amélie (2001)/Amélie 'Director's Cut'.mkv", "千と千尋.mkv", "with  spaces #1 50%.txt"]


def _tree(root: Path, seed: int) -> None:
    rng = random.Random(seed)
    for name in NAMES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(rng.randbytes(700_000 + seed))


def _self_signed(folder: Path) -> tuple[Path, Path]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    (folder / "key.pem").chmod(0o600)
    return folder / "cert.pem", folder / "key.pem"




def _checks(mp: Path, home: Path) -> None:
    assert sorted(os.listdir(mp)) == sorted({n.split("/")[0] for n in NAMES})
    for name in NAMES:
        assert hashlib.sha256((mp / name).read_bytes()).digest() == hashlib.sha256((home / name).read_bytes()).digest()


@pytest.fixture
def pureftpd(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    with pure_ftpd(tmp_path, lambda home: _tree(home, 1)) as got:
        yield got


@pytest.mark.ftpd
def test_pureftpd_read_write(pureftpd: tuple[int, Path], mount: Mounter) -> None:
    port, home = pureftpd
    m = mount("--host", "127.0.0.1", "--port", str(port), "--user", PURE_USER, "--password", PURE_PASSWORD)
    _checks(m.path, home)
    os.mkdir(m.path / "Season 01")
    (m.path / "Season 01" / "e01.txt").write_text("one")
    os.rename(m.path / "Season 01" / "e01.txt", m.path / "Season 01" / "e02.txt")
    assert (home / "Season 01" / "e02.txt").read_text() == "one"
    with pytest.raises(OSError) as info:
        os.rmdir(m.path / "Season 01")
    assert info.value.errno == errno.ENOTEMPTY
    os.unlink(m.path / "Season 01" / "e02.txt")
    os.rmdir(m.path / "Season 01")
    assert not (home / "Season 01").exists()


@pytest.mark.ftpd
def test_a_rename_pureftpd_refuses_is_eacces(pureftpd: tuple[int, Path], mount: Mounter) -> None:
    """pure-ftpd answers every failed RNTO "451 Rename/move failure: <strerror>": a
    folder its user may not write gives EACCES both ways and the server stays "up"
    (a 4xx counted as the server going away: ENOTCONN)."""
    port, home = pureftpd
    (home / "locked").mkdir()
    (home / "locked" / "in.txt").write_text("in")
    (home / "locked").chmod(0o555)  # owned by root: pure-ftpd's user (nobody) may not write it
    m = mount("--host", "127.0.0.1", "--port", str(port), "--user", PURE_USER, "--password", PURE_PASSWORD)
    for old, new in ((m.path / "locked" / "in.txt", m.path / "out.txt"),
                     (m.path / NAMES[1], m.path / "locked" / "moved.mkv")):
        with pytest.raises(OSError) as info:
            os.rename(old, new)
        assert info.value.errno == errno.EACCES, (old, info.value)
    assert (m.path / "locked" / "in.txt").read_text() == "in" and (m.path / NAMES[1]).exists()
    [seen] = fresh_status(m.env)
    assert seen["state"] == "up", seen


@pytest.mark.ftpd
def test_a_rename_into_a_folder_gone_from_pureftpd_is_enoent(pureftpd: tuple[int, Path], mount: Mounter) -> None:
    """A rename into a folder another client deleted within the listing TTL: pure-ftpd
    says "451 Rename/move failure: No such file or directory", which is ENOENT (it was
    ENOTCONN, as if the server had gone away), and the server stays "up"."""
    port, home = pureftpd
    m = mount("--host", "127.0.0.1", "--port", str(port), "--user", PURE_USER, "--password", PURE_PASSWORD)
    os.mkdir(m.path / "target")
    (home / "target").rmdir()
    with pytest.raises(OSError) as info:
        os.rename(m.path / NAMES[1], m.path / "target" / "moved.mkv")
    assert info.value.errno == errno.ENOENT, info.value
    assert (home / NAMES[1]).exists()
    [seen] = fresh_status(m.env)
    assert seen["state"] == "up", seen


@pytest.mark.ftpd
def test_vsftpd_anonymous_list_only_and_refusing_writes(tmp_path: Path, mount: Mounter) -> None:
    anon = tmp_path / "anon"
    _tree(anon, 2)
    for p in anon.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    with vsftpd(tmp_path, anon) as port:
        m = mount("--host", "127.0.0.1", "--port", str(port))  # no --user: anonymous
        _checks(m.path, anon)
        # vsftpd write_enable=NO answers "550 Permission denied." to every write: the first
        # refusal finds the server refusing writes (issue 12: EROFS), every later change is EROFS
        with pytest.raises(OSError) as info:
            (m.path / "new.txt").write_text("x")
        assert info.value.errno == errno.EROFS
        for fn, args in [(os.mkdir, (m.path / "d",)), (os.unlink, (m.path / NAMES[1],)),
                         (os.rename, (m.path / NAMES[1], m.path / "b.mkv")),
                         (open, (m.path / "other.txt", "w"))]:
            with pytest.raises(OSError) as info:
                fn(*args)  # type: ignore[operator]
            assert info.value.errno == errno.EROFS, (fn, info.value)
        seen = status_until(m.env, lambda st: [s["server_read_only"] for s in st] == [True])
        assert [s["server_read_only"] for s in seen] == [True]
        # reads still work; the refused new.txt stays in the spool, pending (never lost silently)
        assert (m.path / NAMES[1]).read_bytes() == (anon / NAMES[1]).read_bytes()
        assert [[p["path"] for p in s["pending_uploads"]] for s in seen] == [["new.txt"]]
        m.stop()
        # --tls explicit against a vsftpd without TLS: it answers AUTH TLS with "530 Please
        # login with USER and PASS.", which is not a refused login
        (tmp_path / "tls-mp").mkdir()
        done = run_cli(m.env, "drive", "mount", str(tmp_path / "tls-mp"), "--host", "127.0.0.1", "--port",
                       str(port), "--tls", "explicit", timeout=30)
        assert done.returncode != 0 and "does not offer explicit TLS" in done.stderr, done.stderr


def test_a_folder_refused_on_a_writable_server_stays_eacces(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                                           mount: Mounter) -> None:
    (ftp_root / "locked").mkdir()
    (ftp_root / "locked" / "a.txt").write_text("a")
    ftp_server.server.handler.authorizer.override_perm(  # type: ignore[attr-defined]
        FTP_USER, str(ftp_root / "locked"), perm="elr", recursive=True)
    m = mount("--host", "127.0.0.1", "--port", str(ftp_server.port), "--user", FTP_USER,
              "--password", FTP_PASSWORD)
    for fn, args in [(os.mkdir, (m.path / "locked" / "d",)), (os.unlink, (m.path / "locked" / "a.txt",))]:
        with pytest.raises(OSError) as info:
            fn(*args)  # type: ignore[operator]
        assert info.value.errno == errno.EACCES, (fn, info.value)
    (m.path / "open.txt").write_text("still writable")  # the server itself takes writes
    assert (ftp_root / "open.txt").read_text() == "still writable"
    assert [s["server_read_only"] for s in fresh_status(m.env)] == [False]
    m.stop()


@pytest.mark.ftpd
def test_vsftpd_ftps_with_session_reuse(tmp_path: Path, mount: Mounter) -> None:
    anon = tmp_path / "anon"
    (anon / "incoming").mkdir(parents=True)
    (anon / "incoming").chmod(0o777)
    cert, key = _self_signed(tmp_path)
    with vsftpd(tmp_path, anon, writable=True, tls=(cert, key)) as port:
        m = mount("--host", "127.0.0.1", "--port", str(port), "--tls", "explicit", "--tls-cert", str(cert),
                  "--root", "incoming")
        payload = os.urandom(2 * 1024 * 1024 + 3)
        (m.path / "Amélie.bin").write_bytes(payload)
        assert (anon / "incoming" / "Amélie.bin").read_bytes() == payload
        assert (m.path / "Amélie.bin").read_bytes() == payload
        # git in a folder of a LIST-only server: vsftpd lists dot files (.git) only for
        # "LIST -a"; without it .git vanished from the next listing and `git init` failed
        repo = m.path / "repo"
        repo.mkdir()
        git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", "-C", str(repo)]
        subprocess.run([*git, "init", "-q"], check=True)
        (repo / "a.txt").write_text("one\n")
        subprocess.run([*git, "add", "a.txt"], check=True)
        subprocess.run([*git, "commit", "-qm", "one"], check=True)
        assert subprocess.run([*git, "status", "--porcelain"], check=True, capture_output=True,
                              text=True).stdout == ""
        assert (anon / "incoming" / "repo" / ".git" / "HEAD").is_file()
        m.stop()


@pytest.mark.parametrize("mode", ["explicit", "implicit"])
def test_pyftpdlib_ftps(tmp_path: Path, mode: str, mount: Mounter) -> None:
    cert, key = _self_signed(tmp_path)
    (tmp_path / "server.pem").write_bytes(key.read_bytes() + cert.read_bytes())
    root = tmp_path / "root"
    root.mkdir()
    _tree(root, 3)
    with EmbeddedFtpServer(root, "tls", "tls-secret", certfile=tmp_path / "server.pem",
                           implicit_tls=mode == "implicit") as server:
        m = mount("--host", "127.0.0.1", "--port", str(server.port), "--user", "tls", "--password", "tls-secret",
                  "--tls", mode, "--no-verify-tls")
        _checks(m.path, root)
        (m.path / "up.txt").write_text("over TLS")
        assert (root / "up.txt").read_text() == "over TLS"
        m.stop()


@pytest.mark.ftpd
def test_vsftpd_ftps_folder_without_write_permission(open_dir: Path, mount: Mounter) -> None:
    """vsftpd over FTPS, running as nobody, a folder nobody cannot write: every change
    there is EACCES (it was EINVAL for a new file, from vsftpd's "553 Could not create
    file.", and ENOENT for mkdir, rm and mv of a listed file, from its "550 … failed."),
    also rm of a file whose edit was not sent (the edit stays),
    the refused file is listed as pending with the server's reason, and moving it to a
    folder that takes writes uploads it there (nothing pending after)."""
    anon = open_dir / "anon"
    (anon / "incoming" / "ro").mkdir(parents=True)
    (anon / "incoming").chmod(0o777)
    (anon / "incoming" / "ro" / "old.txt").write_text("old")
    cert, key = _self_signed(open_dir)
    key.chmod(0o644)  # vsftpd reads it as nobody
    with vsftpd(open_dir, anon, writable=True, tls=(cert, key), as_nobody=True) as port:
        m = mount("--host", "127.0.0.1", "--port", str(port), "--tls", "explicit", "--tls-cert", str(cert),
                  "--root", "incoming")
        ro = m.path / "ro"
        for what, fn in [("write", lambda: (ro / "new.txt").write_text("a draft")),
                         ("mkdir", lambda: os.mkdir(ro / "d")),
                         ("rm", lambda: os.unlink(ro / "old.txt")),
                         ("mv", lambda: os.rename(ro / "old.txt", m.path / "old.txt")),
                         ("overwrite", lambda: (ro / "old.txt").write_text("new"))]:
            with pytest.raises(OSError) as info:
                fn()
            assert info.value.errno == errno.EACCES, (what, info.value)
        # rm of the file whose overwrite is unsent: refused too ("550 Delete operation
        # failed.", as for a name it does not have), and the edit stays (it was dropped)
        with pytest.raises(OSError) as info:
            os.unlink(ro / "old.txt")
        assert info.value.errno == errno.EACCES, info.value
        assert (ro / "old.txt").read_text() == "new"
        assert sorted(os.listdir(anon / "incoming" / "ro")) == ["old.txt"]
        assert (anon / "incoming" / "ro" / "old.txt").read_text() == "old"
        seen = status_until(m.env, lambda st: len(st[0]["pending_uploads"]) == 2)
        assert sorted(u["path"] for u in seen[0]["pending_uploads"]) == ["ro/new.txt", "ro/old.txt"]
        assert all("denied access" in u["error"] for u in seen[0]["pending_uploads"]), seen
        assert not seen[0]["server_read_only"]
        os.rename(ro / "new.txt", m.path / "new.txt")  # the draft, to a folder that takes it
        assert (anon / "incoming" / "new.txt").read_text() == "a draft"
        seen = status_until(m.env, lambda st: [u["path"] for u in st[0]["pending_uploads"]] == ["ro/old.txt"])
        assert [u["path"] for u in seen[0]["pending_uploads"]] == ["ro/old.txt"]
        assert m.stop() != 0  # the refused overwrite stays in the spool, said at exit


@pytest.mark.ftpd
def test_vsftpd_keeps_the_times_cp_a_sets(tmp_path: Path, mount: Mounter) -> None:
    """vsftpd has no MFMT: times set through the mount (``cp -a``, ``touch -d``) reach it
    with its two-argument MDTM (they stayed in the mount's cache only, and were gone
    from the server and, after the TTL, from the mount); ``touch`` of a folder works."""
    anon = tmp_path / "anon"
    (anon / "incoming").mkdir(parents=True)
    (anon / "incoming").chmod(0o777)
    local = tmp_path / "local"
    (local / "album").mkdir(parents=True)
    for i, name in enumerate(["a.jpg", "b.jpg"]):
        (local / "album" / name).write_bytes(os.urandom(1000 + i))
        os.utime(local / "album" / name, (1_500_000_000 + i * 86_400,) * 2)
    with vsftpd(tmp_path, anon, writable=True) as port:
        m = mount("--host", "127.0.0.1", "--port", str(port), "--root", "incoming")
        subprocess.run(["cp", "-a", str(local / "album"), str(m.path)], check=True)
        for i, name in enumerate(["a.jpg", "b.jpg"]):
            assert (anon / "incoming" / "album" / name).stat().st_mtime == 1_500_000_000 + i * 86_400, name
        (m.path / "later.txt").write_text("x")
        subprocess.run(["touch", "-d", "2020-01-02 03:04:05 UTC", str(m.path / "later.txt")], check=True)
        assert (anon / "incoming" / "later.txt").stat().st_mtime == 1577934245
        subprocess.run(["touch", str(m.path / "album")], check=True)
        m.stop()
