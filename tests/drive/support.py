"""Helpers of the drive tests: mounts run as their own process (``reelhouse drive
mount``, as a user runs it), mount and connection checks for the leak guard."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

FUSE_READY = (os.path.exists("/dev/fuse") and shutil.which("fusermount3") is not None
              and hasattr(os, "geteuid") and os.geteuid() == 0)
CLI = [sys.executable, "-c", "from reelhouse.cli import main; main()"]


def needs_fuse() -> None:
    if not FUSE_READY:
        pytest.skip("needs /dev/fuse, fusermount3 (apt-get install fuse3) and root")


def mounted(path: Path) -> bool:
    target = str(path)
    for line in Path("/proc/self/mounts").read_text().splitlines():
        if line.split()[1] == target:
            return True
    return False


def server_connections(port: int) -> int:
    """Established TCP connections whose local port is ``port`` (the server side), from
    any process: what a mount process left open to a test server."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[1].endswith(f":{port:04X}") and cols[3] == "01":
                count += 1
    return count


def wait_no_connections(port: int, wait: float = 5.0) -> None:
    deadline = time.monotonic() + wait
    while server_connections(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server_connections(port) == 0, f"connections to port {port} left open"


@dataclass
class Mount:
    proc: subprocess.Popen[bytes]
    path: Path
    log: Path
    env: dict[str, str]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if mounted(self.path):
            subprocess.run(["fusermount3", "-u", "-z", str(self.path)], check=False)
        return int(self.proc.returncode)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class Mounter(Protocol):
    def __call__(self, *args: str, mp: Path | None = None, wait: bool = True) -> Mount: ...


def run_cli(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout)


def status(env: dict[str, str]) -> list[dict[str, Any]]:
    done = run_cli(env, "drive", "status", "--json")
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))




def status_until(env: dict[str, str], check: Callable[[list[dict[str, Any]]], bool],
                 timeout: float = 15.0) -> list[dict[str, Any]]:
    """``drive status`` once ``check`` holds (the mount republishes it every second), or
    the last one seen after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    seen = status(env)
    while not check(seen) and time.monotonic() < deadline:
        time.sleep(0.2)
        seen = status(env)
    return seen


PURE_USER, PURE_PASSWORD = "reel", "pure-secret-1"


@contextmanager
def pure_ftpd(tmp_path: Path, fill: Callable[[Path], None] = lambda home: None) -> Iterator[tuple[int, Path]]:
    """A pure-ftpd (MLSD, MFMT) on a free port with one virtual user (PURE_USER) whose
    home ``fill`` fills first; yields ``(port, home)``. The password's hash is
    SHA-512 crypt (pure-pw's default, argon2 with t=1023, costs ~10 s a login here)."""
    from helpers import daemon, free_port

    pure, pw = shutil.which("pure-ftpd") or "/usr/sbin/pure-ftpd", shutil.which("pure-pw") or "/usr/bin/pure-pw"
    if not (os.path.exists(pure) and os.path.exists(pw)):
        pytest.skip("pure-ftpd is not installed (apt-get install pure-ftpd)")
    home = tmp_path / "home"
    home.mkdir()
    fill(home)
    subprocess.run(["chown", "-R", "nobody:nogroup", str(home)], check=True)
    home.parent.chmod(0o755)
    passwd, pdb = tmp_path / "passwd", tmp_path / "pure.pdb"
    subprocess.run([pw, "useradd", PURE_USER, "-u", "nobody", "-g", "nogroup", "-d", str(home), "-f",
                    str(passwd)], input=f"{PURE_PASSWORD}\n{PURE_PASSWORD}\n", text=True, check=True,
                   capture_output=True)
    openssl = shutil.which("openssl")
    if openssl:
        fast = subprocess.run([openssl, "passwd", "-6", PURE_PASSWORD], capture_output=True, text=True,
                              check=True).stdout.strip()
        user, _, rest = passwd.read_text().partition(":")
        passwd.write_text(f"{user}:{fast}:{rest.partition(':')[2]}")
    subprocess.run([pw, "mkdb", str(pdb), "-f", str(passwd)], check=True, capture_output=True)
    port = free_port()
    low = random.Random(port).randrange(41000, 59000)
    argv = [pure, "-S", f"127.0.0.1,{port}", "-l", f"puredb:{pdb}", "-E", "-H",
            "-u", "1", "-p", f"{low}:{low + 200}", "-c", "20", "-C", "20"]
    with daemon(argv, port):
        yield port, home
