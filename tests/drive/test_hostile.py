"""What a hostile (or merely busy) user does to a real mount of pyftpdlib: several
processes appending to one new file at once, ``touch``/``rsync -a`` setting the times of
folders, and errors read in a narrow terminal."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest
from drive.support import Mounter, run_cli

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER

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
    config.write_text('[mount]\nvolume_label = "Films, Séries \\\\ 4K=yes"\n')
    m = mount(*login(ftp_server), "--config", str(config))
    [fsname] = [line.split()[0] for line in Path("/proc/self/mounts").read_text().splitlines()
                if line.split()[1] == str(m.path)]
    assert fsname == "reelhouse:Films,\\040Séries\\040\\134\\0404K=yes"
