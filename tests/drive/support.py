"""Helpers of the drive tests: mounts run as their own process (``reelhouse drive
mount``, as a user runs it), mount and connection checks for the leak guard."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
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
    from helpers import established_tcp

    return sum(1 for cols in established_tcp() if cols[1].endswith(f":{port:04X}"))


def wait_no_connections(port: int, wait: float = 15.0) -> None:
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


def until(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Whether ``check()`` became true within ``timeout`` seconds (polled every 0.1 s)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def run_cli(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout)


def status(env: dict[str, str]) -> list[dict[str, Any]]:
    done = run_cli(env, "drive", "status", "--json")
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))




def fresh_status(env: dict[str, str], timeout: float = 15.0) -> list[dict[str, Any]]:
    """``drive status`` as every mount republished it after this call (each does every
    second): what they say of what the test just did, not a copy from before it."""
    folder, since = Path(env["REELHOUSE_DRIVE_RUN_DIR"]), time.time()
    deadline = time.monotonic() + timeout

    def published() -> bool:
        try:
            files = list(folder.glob("*.json"))
            return bool(files) and all(f.stat().st_mtime > since for f in files)
        except FileNotFoundError:  # a dead mount's file removed meanwhile
            return False

    while not published():
        assert time.monotonic() < deadline, "no mount republished its status"
        time.sleep(0.05)
    return status(env)


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




#: the commands that change a file on the server
CHANGES = ("STOR", "APPE", "RNFR", "RNTO", "DELE")


class Commands:
    """A pyftpdlib handler override (``handler_overrides=commands.overrides``) that
    keeps every command line the server receives, in order (:attr:`lines`)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    @property
    def overrides(self) -> dict[str, Any]:
        from pyftpdlib.handlers import FTPHandler

        lines = self.lines

        def pre_process_command(handler: Any, line: str, cmd: str, arg: str) -> Any:
            lines.append(line)
            return FTPHandler.pre_process_command(handler, line, cmd, arg)

        return {"pre_process_command": pre_process_command}

    def changes(self) -> list[str]:
        """The lines that change a file (:data:`CHANGES`), the probe of a read-only
        server (an RNFR of a name that is not there) left out."""
        return [line for line in self.lines if line.split(" ", 1)[0].upper() in CHANGES
                and ".reelhouse-write-probe-" not in line]

    def clear(self) -> None:
        self.lines.clear()
