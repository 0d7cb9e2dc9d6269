"""Mounts for the drive benchmarks: ``reelhouse drive mount`` and ``rclone mount`` of
the same FTP server (``_setup.Ftpd``), each in its own process, always unmounted
(``fusermount3 -u``) and stopped when the block ends, whatever happens."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _setup import FTP_PASSWORD, FTP_USER, HERE, Ftpd, kill_groups, log, spawn


def mounted(path: Path) -> bool:
    target = str(path)
    return any(line.split()[1] == target for line in Path("/proc/self/mounts").read_text().splitlines())


def _wait_mounted(proc: subprocess.Popen[bytes], mp: Path, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not mounted(mp):
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before mounting")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not mount in {timeout:.0f} s")
        time.sleep(0.02)


def _unmount(proc: subprocess.Popen[bytes], mp: Path, sigterm: bool) -> None:
    if sigterm and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
    if mounted(mp):
        subprocess.run(["fusermount3", "-u", "-z", str(mp)], check=False, capture_output=True)
    kill_groups([proc])


@contextmanager
def reelhouse_mount(ftpd: Ftpd, mp: Path, tmp: Path, *extra: str) -> Iterator[Path]:
    """``reelhouse drive mount`` of ``ftpd`` at ``mp`` (a fresh process: cold caches)."""
    mp.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, REELHOUSE_DATA_DIR=str(tmp / "rh-data"), REELHOUSE_DRIVE_RUN_DIR=str(tmp / "rh-run"))
    argv = [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(HERE.parent)!r}); "
            "from reelhouse.cli import main; main()", "drive", "mount", str(mp), "--host", "127.0.0.1",
            "--port", str(ftpd.port), "--user", FTP_USER, "--password", FTP_PASSWORD,
            "--log-file", str(tmp / "reelhouse-drive.log"), *extra]
    proc = spawn(argv, env=env, stdout=subprocess.DEVNULL)
    try:
        _wait_mounted(proc, mp, "reelhouse drive mount")
        yield mp
    finally:
        _unmount(proc, mp, sigterm=True)


@contextmanager
def rclone_mount(ftpd: Ftpd, mp: Path, tmp: Path, cache_mode: str, *extra: str) -> Iterator[Path]:
    """``rclone mount`` of ``ftpd`` at ``mp`` with ``--vfs-cache-mode cache_mode``."""
    mp.mkdir(parents=True, exist_ok=True)
    env = ftpd.rclone_env(tmp)
    argv = ["rclone", "mount", "benchftp:", str(mp), "--vfs-cache-mode", cache_mode,
            "--cache-dir", str(tmp / f"rclone-cache-{time.monotonic_ns()}"), "--log-file", str(tmp / "rclone.log"),
            *extra]
    proc = spawn(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_mounted(proc, mp, "rclone mount")
        yield mp
    finally:
        if mounted(mp):
            subprocess.run(["fusermount3", "-u", str(mp)], check=False, capture_output=True)
        _unmount(proc, mp, sigterm=True)


def load() -> list[float]:
    """The 1, 5 and 15 minute load averages (the machine is shared)."""
    return [round(x, 2) for x in os.getloadavg()]


__all__ = ["load", "log", "mounted", "rclone_mount", "reelhouse_mount"]
