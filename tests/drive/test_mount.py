"""``reelhouse drive`` on a real FUSE mount of a real FTP server (pyftpdlib): the
checklist of a drive — listing, reading (sha256, preads), every kind of write, errno
values provoked for real, git, an editor's atomic save, status, unmount."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import random
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
from drive.support import Mounter, mounted, run_cli, status, status_until, wait_no_connections

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER

pytestmark = pytest.mark.requires_fuse

NAMES = ["Amélie (2001)/Amélie 'Director's Cut' #1 100%.mkv", "千と千尋.mkv", "-leading dash.txt",
         "with  spaces/a b.txt"]


def login(server: EmbeddedFtpServer) -> list[str]:
    return ["--host", "127.0.0.1", "--port", str(server.port), "--user", FTP_USER, "--password", FTP_PASSWORD]


def renameat2(old: Path, new: Path, flags: int) -> None:
    """renameat2(2) (Linux, glibc >= 2.28): os.rename has no flags."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    at_fdcwd = -100
    if libc.renameat2(at_fdcwd, os.fsencode(old), at_fdcwd, os.fsencode(new), flags) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(old))


def expect(code: int, fn: object, *args: object) -> None:
    with pytest.raises(OSError) as info:
        fn(*args)  # type: ignore[operator]
    assert info.value.errno == code, f"{info.value} (wanted {errno.errorcode[code]})"


def test_read_write_checklist(ftp_server: EmbeddedFtpServer, ftp_root: Path, big_file: Path,
                              mount: Mounter) -> None:
    rng = random.Random(5)
    for name in NAMES:
        (ftp_root / name).parent.mkdir(parents=True, exist_ok=True)
        (ftp_root / name).write_bytes(rng.randbytes(1000 + len(name)))
    shutil.copy(big_file, ftp_root / "big.bin")
    m = mount(*login(ftp_server))
    mp = m.path
    assert sorted(os.listdir(mp)) == sorted(["Amélie (2001)", "千と千尋.mkv", "-leading dash.txt",
                                              "with  spaces", "big.bin"])
    for name in NAMES:
        assert (mp / name).read_bytes() == (ftp_root / name).read_bytes()
    data = big_file.read_bytes()
    assert hashlib.sha256((mp / "big.bin").read_bytes()).digest() == hashlib.sha256(data).digest()
    fd = os.open(mp / "big.bin", os.O_RDONLY)
    try:
        for _ in range(40):
            off, n = rng.randrange(len(data)), rng.randrange(1, 200_000)
            assert os.pread(fd, n, off) == data[off:off + n]
    finally:
        os.close(fd)
    # create, edit, append, copy, rename, move, delete
    (mp / "new.txt").write_text("one\n")
    assert (ftp_root / "new.txt").read_text() == "one\n"
    with (mp / "new.txt").open("a") as f:
        f.write("two\n")
    assert (ftp_root / "new.txt").read_text() == "one\ntwo\n"
    with (mp / "new.txt").open("r+") as f:
        f.seek(1)
        f.write("N")
    assert (ftp_root / "new.txt").read_text() == "oNe\ntwo\n"
    shutil.copy(mp / "big.bin", mp / "copy.bin")
    assert (ftp_root / "copy.bin").read_bytes() == data
    os.truncate(mp / "copy.bin", 1000)
    assert (ftp_root / "copy.bin").read_bytes() == data[:1000]
    os.mkdir(mp / "Season 01")
    os.rename(mp / "new.txt", mp / "Season 01" / "renamed.txt")
    assert (ftp_root / "Season 01" / "renamed.txt").read_text() == "oNe\ntwo\n"
    assert not (mp / "new.txt").exists()
    # renameat2 flags: NOREPLACE refuses an existing target, EXCHANGE (no atomic swap in FTP)
    # is EINVAL; links are EPERM
    (mp / "other.txt").write_text("other")
    expect(errno.EEXIST, renameat2, mp / "other.txt", mp / "Season 01" / "renamed.txt", 1)
    expect(errno.EINVAL, renameat2, mp / "other.txt", mp / "Season 01" / "renamed.txt", 2)
    assert (ftp_root / "Season 01" / "renamed.txt").read_text() == "oNe\ntwo\n"
    renameat2(mp / "other.txt", mp / "Season 01" / "other.txt", 1)
    assert (ftp_root / "Season 01" / "other.txt").read_text() == "other"
    os.unlink(mp / "Season 01" / "other.txt")
    expect(errno.EPERM, os.symlink, "renamed.txt", mp / "Season 01" / "link")
    expect(errno.EPERM, os.link, mp / "Season 01" / "renamed.txt", mp / "Season 01" / "hard")
    expect(errno.ENOENT, os.symlink, "renamed.txt", mp / "Nowhere" / "link")
    expect(errno.EPERM, os.mkfifo, mp / "Season 01" / "fifo")  # mknod(2): not ENOSYS
    expect(errno.ENOENT, os.mkfifo, mp / "Nowhere" / "fifo")
    os.mknod(mp / "Season 01" / "made by mknod")  # a regular file: made (libfuse's create)
    assert (ftp_root / "Season 01" / "made by mknod").read_bytes() == b""
    os.unlink(mp / "Season 01" / "made by mknod")
    expect(errno.ENOTEMPTY, os.rmdir, mp / "Season 01")
    expect(errno.EEXIST, os.mkdir, mp / "Season 01")
    expect(errno.EEXIST, os.open, mp / "copy.bin", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    expect(errno.ENOENT, os.open, mp / "missing.mkv", os.O_RDONLY)
    expect(errno.ENOENT, os.stat, mp / "Season 01" / "missing")
    expect(errno.ENOTDIR, os.listdir, mp / "copy.bin")
    expect(errno.EISDIR, os.open, mp / "Season 01", os.O_WRONLY)
    os.unlink(mp / "Season 01" / "renamed.txt")
    os.rmdir(mp / "Season 01")
    os.unlink(mp / "copy.bin")
    assert not (ftp_root / "Season 01").exists() and not (ftp_root / "copy.bin").exists()
    assert not [p for p in ftp_root.rglob("*.part")]
    # the mount republishes its status every second: wait for the one that counts the writes
    # above (under load the publishing thread can lag several seconds behind)
    [info] = status_until(m.env, lambda st: len(st) == 1 and st[0]["bytes_written"] >= len(data)
                          and st[0]["bytes_read"] >= len(data), timeout=30)
    assert info["mount_point"] == str(mp) and info["state"] == "up" and info["view"] == "files"
    assert info["bytes_read"] >= len(data) and info["bytes_written"] >= len(data) and info["pending_uploads"] == []
    done = run_cli(m.env, "drive", "unmount", str(mp))
    assert done.returncode == 0, done.stderr
    assert m.proc.wait(timeout=60) == 0 and not mounted(mp)
    assert status(m.env) == []
    wait_no_connections(ftp_server.port, wait=30)


def test_a_file_over_100_mb(ftp_server: EmbeddedFtpServer, ftp_root: Path, tmp_path: Path, mount: Mounter) -> None:
    """The one big file of the suite: 101 MiB read (sha256 equal) and written back."""
    big = ftp_root / "Big.Film.2008.mkv"
    with big.open("wb") as f:
        for _ in range(101):
            f.write(os.urandom(1024 * 1024))
    want = hashlib.sha256(big.read_bytes()).hexdigest()
    m = mount(*login(ftp_server))
    assert os.stat(m.path / big.name).st_blksize == 1024 * 1024  # cp, stdio, Python: 1 MiB requests
    got = hashlib.sha256()
    with (m.path / big.name).open("rb") as f:
        while chunk := f.read(1024 * 1024):
            got.update(chunk)
    assert got.hexdigest() == want
    shutil.copy(m.path / big.name, m.path / "copy.mkv")
    assert hashlib.sha256((ftp_root / "copy.mkv").read_bytes()).hexdigest() == want


def test_git_and_an_editors_atomic_save(ftp_server: EmbeddedFtpServer, ftp_root: Path, mount: Mounter) -> None:
    m = mount(*login(ftp_server))
    repo = m.path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    (repo / "README").write_text("hello\n")
    subprocess.run([*git, "add", "README"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "first"], cwd=repo, check=True)
    clean = subprocess.run([*git, "status", "--porcelain"], cwd=repo, check=True, capture_output=True, text=True)
    assert clean.stdout == ""
    (repo / "README").write_text("hello again\n")
    dirty = subprocess.run([*git, "status", "--porcelain"], cwd=repo, check=True, capture_output=True, text=True)
    assert dirty.stdout.strip() == "M README"
    log = subprocess.run([*git, "log", "--oneline"], cwd=ftp_root / "repo", check=True, capture_output=True, text=True)
    assert "first" in log.stdout  # the repository on the server is a real one
    # an editor's save: write a temp file, fsync, rename over the original
    target = m.path / "doc.txt"
    target.write_text("v1")
    tmp = m.path / ".doc.txt.swp"
    with tmp.open("w") as f:
        f.write("v2, saved atomically")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    assert target.read_text() == "v2, saved atomically" == (ftp_root / "doc.txt").read_text()
    assert not (ftp_root / ".doc.txt.swp").exists()


#: a folder as users copy them: spaces, ``#``, ``%``, leading dashes, quotes, shell
#: characters, unicode, dot files
ODD_NAMES = ("a b.txt", "#hash.txt", "100%.txt", "-dash.txt", "--double", "it's.txt", "x\\y.txt",
             "ünïcødé ✓.txt", "日本語", "[br] {c}.txt", "a;b&c|d.txt", "$HOME.txt", "*star?.txt", ".hidden")


def test_rsync_cp_and_editors_save_patterns(ftp_server: EmbeddedFtpServer, ftp_root: Path, mount: Mounter,
                                            tmp_path: Path) -> None:
    """What users do with a folder: ``cp -r`` and ``rsync -a`` (temp names, then renames;
    times kept; a second run finds nothing to do) of a folder of odd names; vim's
    save with a backup by rename (its ``4913`` probe, ``file~``); LibreOffice's lock
    file (``.~lock.NAME#``, exclusive create, removed at close)."""
    src = tmp_path / "src" / "odd folder #1 %20"
    (src / "sub dir").mkdir(parents=True)
    for name in ODD_NAMES:
        (src / name).write_text(f"content of {name}")
    (src / "sub dir" / "deep.txt").write_text("deep")
    os.utime(src / "a b.txt", (1_000_000_000, 1_000_000_000))
    m = mount(*login(ftp_server))
    subprocess.run(["cp", "-r", str(src), str(m.path / "cp")], check=True)
    subprocess.run(["diff", "-r", str(src), str(ftp_root / "cp")], check=True)
    if shutil.which("rsync"):
        subprocess.run(["rsync", "-a", f"{src}/", str(m.path / "rs")], check=True)
        subprocess.run(["diff", "-r", str(src), str(ftp_root / "rs")], check=True)
        assert (ftp_root / "rs" / "a b.txt").stat().st_mtime == 1_000_000_000
        again = subprocess.run(["rsync", "-a", "--itemize-changes", f"{src}/", str(m.path / "rs")], check=True,
                               capture_output=True, text=True)
        assert again.stdout == ""  # sizes and times as rsync left them
    # vim (backupcopy=no): probe, rename the file to its backup, write anew, drop the backup
    (m.path / "v.txt").write_text("one\n")
    os.close(os.open(m.path / "4913", os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o644))
    os.unlink(m.path / "4913")
    os.rename(m.path / "v.txt", m.path / "v.txt~")
    fd = os.open(m.path / "v.txt", os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o644)
    os.write(fd, b"one\ntwo\n")
    os.fsync(fd)
    os.close(fd)
    os.unlink(m.path / "v.txt~")
    assert (ftp_root / "v.txt").read_bytes() == b"one\ntwo\n"
    # LibreOffice's lock file while a document is open
    lock = m.path / ".~lock.doc.odt#"
    fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, b",user,host,29.11.2026 12:00,file:///home/u/.config/libreoffice/4;")
    os.close(fd)
    assert (ftp_root / ".~lock.doc.odt#").read_bytes().startswith(b",user,host")
    expect(errno.EEXIST, os.open, lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    os.unlink(lock)
    assert sorted(p.name for p in ftp_root.iterdir()) == ["cp", "rs", "v.txt"] if shutil.which("rsync") \
        else ["cp", "v.txt"]
    assert m.stop() == 0


@pytest.mark.requires_ffmpeg
def test_ffprobe_and_a_seek_on_the_mount(ftp_server: EmbeddedFtpServer, ftp_root: Path, sample_mp4: Path,
                                         mount: Mounter) -> None:
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe not installed")
    shutil.copy(sample_mp4, ftp_root / "Sintel (2010).mp4")
    m = mount(*login(ftp_server), "--read-only")
    film = str(m.path / "Sintel (2010).mp4")
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", film],
                           capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0 and 11 < float(probe.stdout) < 13, probe.stderr
    seek = subprocess.run(["ffmpeg", "-v", "error", "-ss", "8", "-i", film, "-frames:v", "1", "-f", "null", "-"],
                          capture_output=True, text=True, timeout=60)
    assert seek.returncode == 0, seek.stderr


def test_read_only_sigint_and_remount(ftp_server: EmbeddedFtpServer, ftp_root: Path, mount: Mounter) -> None:
    (ftp_root / "a.txt").write_text("a")
    m = mount(*login(ftp_server), "--read-only")
    expect(errno.EROFS, (m.path / "b.txt").write_text, "b")
    expect(errno.EROFS, os.mkdir, m.path / "d")
    expect(errno.EROFS, os.unlink, m.path / "a.txt")
    assert m.stop(signal.SIGINT) == 0 and not mounted(m.path)
    again = mount(*login(ftp_server), mp=m.path)  # the same mount point again
    (again.path / "b.txt").write_text("b")
    assert (ftp_root / "b.txt").read_text() == "b"
    # libfuse 3.14.0 warned at each mount unless max_idle_threads is given (fuse.py)
    assert "max threads" not in m.output() + again.output(), m.output()


def test_a_crashed_mount_is_detached_by_the_unmount_command(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                                            mount: Mounter) -> None:
    # a mount process killed (kill -9, OOM) leaves a dead FUSE mount: every stat of it is
    # ENOTCONN; `drive mount` says to unmount it first, and `drive unmount` must then work
    (ftp_root / "a.txt").write_text("a")
    m = mount(*login(ftp_server))
    cache = Path(tempfile.gettempdir()) / f"reelhouse-drive-cache-{m.proc.pid}"
    assert (m.path / "a.txt").read_text() == "a" and cache.is_dir()
    m.proc.kill()
    m.proc.wait()
    assert mounted(m.path) and cache.is_dir()  # nobody emptied the killed mount's block cache
    expect(errno.ENOTCONN, os.listdir, m.path)
    done = run_cli(m.env, "drive", "mount", str(m.path), *login(ftp_server), timeout=30)
    assert done.returncode != 0 and "drive unmount" in done.stderr, done.stderr
    done = run_cli(m.env, "drive", "unmount", str(m.path), timeout=30)
    assert done.returncode == 0 and not mounted(m.path), done.stderr
    again = mount(*login(ftp_server), mp=m.path)
    assert (again.path / "a.txt").read_text() == "a"
    assert not cache.exists()  # the next mount removed it


def test_unmount_with_open_handles(ftp_server: EmbeddedFtpServer, ftp_root: Path, big_file: Path,
                                   mount: Mounter) -> None:
    shutil.copy(big_file, ftp_root / "big.bin")
    m = mount(*login(ftp_server))
    reading = (m.path / "big.bin").open("rb", buffering=0)  # each read asks the mount
    writing = (m.path / "draft.txt").open("w")
    try:
        reading.read(100_000)
        writing.write("unsaved")
        writing.flush()
        done = run_cli(m.env, "drive", "unmount", str(m.path), timeout=30)
        assert done.returncode == 0, done.stderr
        assert m.proc.wait(timeout=15) == 0 and not mounted(m.path)
        with pytest.raises(OSError) as info:  # past the kernel's read-ahead: bytes it may hold still
            os.pread(reading.fileno(), 100_000, 7 * 1024 * 1024)
        assert info.value.errno in (errno.ENOTCONN, errno.EIO, errno.ENODEV)
    finally:
        for handle in (reading, writing):
            with contextlib.suppress(OSError):  # the mount is gone: close() says ENOTCONN
                handle.close()
    assert (ftp_root / "draft.txt").read_text() == "unsaved"  # flushed at unmount
    wait_no_connections(ftp_server.port)


def test_bad_input_is_one_line_and_non_zero(ftp_server: EmbeddedFtpServer, tmp_path: Path,
                                            drive_env: dict[str, str], mount: Mounter) -> None:
    base = ["drive", "mount"]
    cases: list[tuple[list[str], str]] = [
        ([str(tmp_path / "nope"), *login(ftp_server)], "does not exist"),
        ([str(tmp_path), *login(ftp_server)], "not empty"),
        ([str(tmp_path / "empty"), "--host", "127.0.0.1", "--port", str(ftp_server.port), "--user", FTP_USER,
          "--password", "wrong"], "login refused"),
        ([str(tmp_path / "empty"), "--config", str(tmp_path / "bad.ini")], "cache.data_cach_mb: unknown key"),
        ([str(tmp_path / "empty"), "--host", "127.0.0.1", "--port", str(ftp_server.port), "--tls", "sometimes"],
         "--tls"),
        ([str(tmp_path / "empty"), *login(ftp_server), "--log-file", str(tmp_path / "no" / "drive.log")],
         "cannot write the log file"),
        ([str(tmp_path / "empty"), *login(ftp_server), "--root", "not here"], "the folder to mount (not here) is not"),
    ]
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.ini").write_text("[ftp]\nhost = 127.0.0.1\n[cache]\ndata_cach_mb = 5\n")
    for args, message in cases:
        done = run_cli(drive_env, *base, *args, timeout=30)
        assert done.returncode != 0 and message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    m = mount(*login(ftp_server))
    done = run_cli(drive_env, *base, str(m.path), *login(ftp_server), timeout=30)
    assert done.returncode != 0 and "already a mount" in done.stderr
    done = run_cli(drive_env, "drive", "unmount", str(tmp_path / "empty"))
    assert done.returncode != 0 and "nothing is mounted" in done.stderr


def test_a_mount_point_reached_through_a_symlink(ftp_server: EmbeddedFtpServer, tmp_path: Path,
                                                 drive_env: dict[str, str], mount: Mounter) -> None:
    """A mount point given through a symlink is the folder the kernel mounts (what
    /proc/mounts, df and file managers show): status names it, ``drive unmount`` takes
    either path, and mounting the symlink again says "already a mount" (status kept the
    symlink, so unmounting the real folder said "nothing is mounted", and a second mount
    was told "not empty")."""
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    m = mount(*login(ftp_server), mp=tmp_path / "link", wait=False)
    status_until(drive_env, lambda st: bool(st))
    assert mounted(real)
    assert [s["mount_point"] for s in status(drive_env)] == [str(real)]
    done = run_cli(drive_env, "drive", "mount", str(tmp_path / "link"), *login(ftp_server), timeout=30)
    assert done.returncode != 0 and "already a mount" in done.stderr, done.stderr
    done = run_cli(drive_env, "drive", "unmount", str(real))
    assert done.returncode == 0, done.stderr
    assert m.proc.wait(timeout=30) == 0 and not mounted(real)
    m = mount(*login(ftp_server), mp=real)
    done = run_cli(drive_env, "drive", "unmount", str(tmp_path / "link"))
    assert done.returncode == 0, done.stderr
    assert m.proc.wait(timeout=30) == 0 and not mounted(real)


def test_mkdir_of_a_folder_another_client_made_is_eexist(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                                          mount: Mounter) -> None:
    """mkdir(2) is the lock of shell scripts (``mkdir lock || exit``): a folder another
    client made since the listing was cached is EEXIST (the server's MKD "exists" was
    taken as done: mkdir said yes twice)."""
    m = mount(*login(ftp_server))
    assert os.listdir(m.path) == []
    (ftp_root / "lock").mkdir()
    expect(errno.EEXIST, os.mkdir, m.path / "lock")
    os.mkdir(m.path / "free")
    assert (ftp_root / "free").is_dir()
    expect(errno.EEXIST, os.mkdir, m.path / "free")


def test_rename_noreplace_over_a_file_another_client_made_is_eexist(ftp_server: EmbeddedFtpServer,
                                                                     ftp_root: Path, mount: Mounter) -> None:
    """``mv -n`` (renameat2 RENAME_NOREPLACE) over a file another client made since the
    listing was cached is EEXIST, both files kept (it was moved over it)."""
    (ftp_root / "mine.txt").write_text("mine")
    m = mount(*login(ftp_server))
    assert os.listdir(m.path) == ["mine.txt"]
    (ftp_root / "theirs.txt").write_text("theirs")
    expect(errno.EEXIST, renameat2, m.path / "mine.txt", m.path / "theirs.txt", 1)
    assert (ftp_root / "theirs.txt").read_text() == "theirs" and (ftp_root / "mine.txt").read_text() == "mine"
