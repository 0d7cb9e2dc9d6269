"""What a hostile (or merely busy) user does to a real mount of pyftpdlib: several
processes appending to one new file at once, ``touch``/``rsync -a`` setting the times of
folders, and errors read in a narrow terminal."""

from __future__ import annotations

import errno
import multiprocessing
import os
import subprocess
import time
from pathlib import Path

import pytest
from drive.support import Mounter, run_cli, status, status_until

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER, Restartable

pytestmark = pytest.mark.requires_fuse


def login(server: EmbeddedFtpServer) -> list[str]:
    return ["--host", "127.0.0.1", "--port", str(server.port), "--user", FTP_USER, "--password", FTP_PASSWORD]


def _append_lines(path: str, tag: str, count: int) -> None:
    for i in range(count):
        with open(path, "a") as f:  # a shell's `echo … >> log`
            f.write(f"{tag}{i}\n")


def test_two_processes_appending_to_one_new_file(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                                  mount: Mounter) -> None:
    m = mount(*login(ftp_server))
    log = str(m.path / "shared.log")
    ctx = multiprocessing.get_context("fork")
    writers = [ctx.Process(target=_append_lines, args=(log, tag, 40)) for tag in "AB"]
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
    assert [w.exitcode for w in writers] == [0, 0]  # no EBADF from a spool file dropped meanwhile
    lines = (ftp_root / "shared.log").read_text().split()
    # each open+append+close is uploaded whole, so a line may be lost to the other
    # writer's upload of the same moment (FTP has no locks), but never by a CREATE that
    # emptied the file another process had just made
    assert lines[:1] in (["A0"], ["B0"]) and len(lines) > 40, lines


def test_times_of_folders(ftp_server: EmbeddedFtpServer, ftp_root: Path, mount: Mounter) -> None:
    m = mount(*login(ftp_server))
    (m.path / "dir").mkdir()
    (m.path / "dir" / "f.txt").write_text("x")
    # pyftpdlib answers MFMT on a folder "550 … is not retrievable": rsync -a and
    # touch on a folder must not fail with ENOENT (the time is kept by the mount)
    os.utime(m.path / "dir", (1_000_000_000, 1_000_000_000))
    assert int((m.path / "dir").stat().st_mtime) == 1_000_000_000
    os.utime(m.path, (1_000_000_000, 1_000_000_000))  # the mount's root (rsync's ".")
    os.utime(m.path / "dir" / "f.txt", (1_100_000_000, 1_100_000_000))
    assert int((ftp_root / "dir" / "f.txt").stat().st_mtime) == 1_100_000_000
    with pytest.raises(FileNotFoundError):
        os.utime(m.path / "nope", (1, 1))
    for op in (os.stat, os.listdir):  # a name no file system here can hold: as ext4 says it
        with pytest.raises(OSError) as info:
            op(m.path / ("x" * 256))
        assert info.value.errno == errno.ENAMETOOLONG
    # `drive status` in an 80-column terminal: every mount point and server in full
    done = run_cli(dict(m.env, COLUMNS="80"), "drive", "status")
    assert done.returncode == 0, done.stderr
    assert str(m.path) in done.stdout.splitlines()[0], done.stdout
    assert f"ftp://{FTP_USER}@127.0.0.1:{ftp_server.port}/" in done.stdout and "up" in done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) <= 80


def test_errors_are_one_line_in_a_narrow_terminal(tmp_path: Path, drive_env: dict[str, str]) -> None:
    config = tmp_path / "drive.toml"
    config.write_text('[ftp]\nhost = "127.0.0.1"\nprt = 21\n')
    (tmp_path / "mp").mkdir()
    env = dict(drive_env, COLUMNS="40")
    done = run_cli(env, "drive", "mount", str(tmp_path / "mp"), "--config", str(config))
    assert done.returncode == 7
    assert done.stderr.count("\n") == 1 and "ftp.prt: unknown key" in done.stderr, done.stderr


def test_a_volume_label_with_commas_and_backslashes(ftp_server: EmbeddedFtpServer, tmp_path: Path,
                                                    mount: Mounter) -> None:
    # libfuse splits its -o options at commas and eats backslashes
    config = tmp_path / "drive.toml"
    config.write_text('[mount]\nvolume_label = "Films, Séries \\\\ 4K=yes"\nread_only = true\n')
    m = mount(*login(ftp_server), "--config", str(config), "--read-write")  # the command line wins
    (m.path / "written.txt").write_text("the file said read-only")
    [fsname] = [line.split()[0] for line in Path("/proc/self/mounts").read_text().splitlines()
                if line.split()[1] == str(m.path)]
    assert fsname == "reelhouse:Films,\\040Séries\\040\\134\\0404K=yes"


def test_an_idle_mount_notices_its_server_going_away(tmp_path: Path, ftp_root: Path, mount: Mounter) -> None:
    server = Restartable(ftp_root)
    try:
        conf = tmp_path / "drive.ini"
        conf.write_text("[connection]\nkeepalive_interval_seconds = 1\nretry_delay_seconds = 0.2\n"
                        "timeout_seconds = 2\n")
        m = mount("--host", "127.0.0.1", "--port", str(server.port), "--user", FTP_USER, "--password",
                  FTP_PASSWORD, "--config", str(conf))
        assert os.listdir(m.path) == []
        server.kill()
        # nobody touches the mount: its status must not keep saying "up"
        [st] = status_until(m.env, lambda seen: seen[0]["state"] != "up", timeout=10)
        assert st["state"] in ("reconnecting", "down") and st["last_error"], st
        server.revive()
        [st] = status_until(m.env, lambda seen: seen[0]["state"] == "up", timeout=10)
        assert st["state"] == "up" and status(m.env)[0]["last_error"] is None
        m.stop()
    finally:
        server.kill()


def test_touch_sets_the_time_to_now(ftp_server: EmbeddedFtpServer, ftp_root: Path, mount: Mounter) -> None:
    """``touch`` asks for "now" (utimensat's UTIME_NOW) and ``touch -a`` leaves the
    modification time alone (UTIME_OMIT): the server's file got 1970-01-01 00:00:01 for
    both, the values taken as a time."""
    (ftp_root / "old.txt").write_text("old")
    (ftp_root / "kept.txt").write_text("kept")
    os.utime(ftp_root / "old.txt", (1_000_000_000, 1_000_000_000))
    os.utime(ftp_root / "kept.txt", (1_000_000_000, 1_000_000_000))
    m = mount(*login(ftp_server))
    before = time.time()
    subprocess.run(["touch", str(m.path / "old.txt"), str(m.path / "new.txt")], check=True)
    subprocess.run(["touch", "-a", str(m.path / "kept.txt")], check=True)
    for name in ("old.txt", "new.txt"):
        # MFMT takes whole seconds
        assert before - 2 <= (ftp_root / name).stat().st_mtime <= time.time() + 2, name
        assert before - 2 <= (m.path / name).stat().st_mtime <= time.time() + 2, name
    assert (ftp_root / "kept.txt").stat().st_mtime == 1_000_000_000
    assert (m.path / "kept.txt").stat().st_mtime == 1_000_000_000
    m.stop()
