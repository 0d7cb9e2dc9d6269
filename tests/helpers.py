"""Helpers for tests (import as ``from helpers import place, wait_job``)."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer

FTP_USER, FTP_PASSWORD = "reel", "h0use pass"
ADMIN, ADMIN_PASSWORD = "admin", "admin-password"


def place(src: Path, root: Path, rel: str) -> Path:
    """Copy ``src`` to ``root/rel`` (creating folders); returns the new path."""
    dest = root / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


def wait_job(client: TestClient, job_id: int, timeout: float = 60) -> dict[str, object]:
    """Poll a job until done/failed; returns its JSON."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, object] = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def ftp_connections(port: int) -> int:
    """Established TCP connections from this process to ``port`` (Linux /proc): the
    leak guard's count of FTP connections left open to a test server."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[2].endswith(f":{port:04X}") and cols[3] == "01" and cols[9] in inodes:
                count += 1
    return count


def free_port() -> int:
    """A TCP port free on loopback right now, below the kernel's ephemeral range: a
    server stopped and started again on it (or started after its clients) never finds
    it taken by an outgoing connection or by a passive-mode data port, which the kernel
    hands out from the ephemeral range ("Address already in use" flakes)."""
    low = 32768
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    for _ in range(200):
        port = random.randrange(10000, max(low, 10001))
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def vsftpd_binary() -> str:
    """vsftpd's path: ``$REELHOUSE_TEST_VSFTPD``, on PATH, or unpacked by .ci/run into
    .ci/vsftpd; skips the test when there is none (a failure under CI=true)."""
    import pytest

    for candidate in (os.environ.get("REELHOUSE_TEST_VSFTPD"), shutil.which("vsftpd"), "/usr/sbin/vsftpd",
                      str(Path(__file__).parents[1] / ".ci/vsftpd/usr/sbin/vsftpd")):
        if candidate and os.path.exists(candidate):
            return candidate
    pytest.skip("vsftpd not found (.ci/run unpacks Debian's vsftpd into .ci/vsftpd)")


@contextmanager
def daemon(argv: list[str], port: int, timeout: float = 10.0) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server process (a system FTP daemon) until the block ends; waits until it
    accepts connections on ``port``."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def stop_without_leaks(server: EmbeddedFtpServer, wait: float = 5.0) -> None:
    """Stop a test FTP server, failing if this process still holds a connection to it
    after ``wait`` seconds (the leak guard)."""
    deadline = time.monotonic() + wait
    while ftp_connections(server.port) and time.monotonic() < deadline:
        time.sleep(0.05)
    leaked = ftp_connections(server.port)
    server.stop()
    assert leaked == 0, f"{leaked} FTP connection(s) to the test server left open"


class Restartable:
    """An FTP server on a fixed port that can be killed and brought back."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.server = EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD, port=free_port()).start()
        self.port = self.server.port

    def kill(self) -> None:
        self.server.stop()  # closes every control and data connection at once

    def revive(self) -> None:
        deadline = time.monotonic() + 5
        while True:
            try:
                self.server = EmbeddedFtpServer(self.root, FTP_USER, FTP_PASSWORD, port=self.port).start()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def restart_after(self, delay: float) -> threading.Thread:
        def run() -> None:
            self.kill()
            time.sleep(delay)
            self.revive()

        t = threading.Thread(target=run, name="ftpd-restart", daemon=True)
        t.start()
        return t


@contextmanager
def serving(app: object, timeout: float = 10.0) -> Iterator[str]:
    """Serve an ASGI ``app`` with uvicorn in a thread on a free loopback port until the
    block ends; yields the base URL (``http://127.0.0.1:PORT``)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",  # type: ignore[arg-type]
                            timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn:{port}")
    thread.start()
    deadline = time.monotonic() + timeout
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise AssertionError("uvicorn did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def session_token(core: Core, user_id: int) -> str:
    """A fresh server-side session token for ``user_id`` (as a login makes)."""
    token, _ = core.auth_sessions.create(user_id, device="test")
    return token


def playback_token(core: Core, user_id: int, file_id: int) -> str:
    """A playback token for ``file_id`` bound to a fresh session of ``user_id``."""
    _, info = core.auth_sessions.create(user_id, device="test")
    return core.signer.playback(user_id, file_id, f"s:{info.id}")


@contextmanager
def postgres_schema(url: str, prefix: str = "rh_test") -> Iterator[str]:
    """``url`` (a PostgreSQL URL) with a fresh schema first on the search_path, so tests
    sharing one database never see each other's tables; the schema is dropped after."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway ``redis-server`` on a free loopback port, persisting nothing; yields
    its URL (``redis://127.0.0.1:PORT/0``) and stops it after."""
    port = free_port()
    with daemon(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no"], port):
        yield f"redis://127.0.0.1:{port}/0"


@contextmanager
def serve_process(env: dict[str, str]) -> Iterator[str]:
    """``reelhouse serve`` in a child process with ``env`` over this process's
    environment, on a free port; yields its base URL once ``/api/health`` answers
    (within 45 s, else AssertionError with the end of its stderr), stops it after."""
    import httpx

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from reelhouse.cli import main; main()", "serve", "--port", str(port)],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 45
        while True:
            try:
                if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
                raise AssertionError(f"reelhouse serve did not start: {err}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
