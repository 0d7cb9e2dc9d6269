"""Isolation: one user's stalled players must not slow anybody else (issue 14).

    .venv/bin/python benchmarks/isolation.py [--samples 40] [--stalled 6] [--queued 8]

A pyftpdlib server (own process) serves a sparse 1 GiB film; a local folder holds a
64 MiB film; ``reelhouse serve`` runs in its own process (FTP pool of 5). Then user
*alice* opens ``--stalled`` streams of the FTP film that stop reading, and
``--queued`` more that wait for a connection. User *bob* measures, one request at a
time: time to first byte of a local stream and of an FTP stream (a new connection and a
Range GET each, as a seeking browser does), ``GET /api/health`` and
``GET /api/sources/{id}/health``. The same samples without alice's load are the
baseline; a direct FTP ``REST``+``RETR`` on the same server under the same load is the
limit. Goals: stream first byte p99 ≤ 250 ms, health p99 ≤ 100 ms. ``alice_answers``
counts what her requests got (streaming, waiting, or refused with a status and reason).
One JSON object on stdout.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import FTP_PASSWORD, FTP_USER, Ftpd, base_args, emit, free_port, kill_groups, log, percentile, spawn

MiB = 1024 * 1024
GOAL_STREAM_P99_MS = 250.0
GOAL_HEALTH_P99_MS = 100.0


def _prepare(data: Path, ftp_port: int, local: Path) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from reelhouse.config import load_settings
    from reelhouse.core import Core
    from reelhouse.library import queries
    from reelhouse.sources.registry import SourceSpec

    core = Core(load_settings(data_dir=data, log_level="WARNING"))
    try:
        alice = core.users.add("alice", "alice-password")
        bob = core.users.add("bob", "bob-password", is_admin=True)
        ftp = core.sources.create(SourceSpec(name="ftp", kind="ftp", host="127.0.0.1", port=ftp_port,
                                             username=FTP_USER, password=FTP_PASSWORD))
        disk = core.sources.create(SourceSpec(name="disk", kind="local", path=str(local)))
        core.jobs.run_scan_now(ftp.id)
        core.jobs.run_scan_now(disk.id)
        with core.sessions() as s:
            ftp_file = queries.list_media_files(s, ftp.id, False, 0, 1)[0][0].id
            local_file = queries.list_media_files(s, disk.id, False, 0, 1)[0][0].id
        def stream(user: int, file_id: int) -> str:
            _, info = core.auth_sessions.create(user, device="bench")
            token = core.signer.playback(user, file_id, f"s:{info.id}")
            return f"/api/library/media-files/{file_id}/stream?token={token}"

        return {
            "ftp_id": ftp.id,
            "alice_ftp": stream(alice.id, ftp_file),
            "bob_ftp": stream(bob.id, ftp_file),
            "bob_local": stream(bob.id, local_file),
            "bob_token": core.auth_sessions.create(bob.id, device="bench")[0],
        }
    finally:
        core.close()


def first_byte(port: int, path: str, offset: int) -> float:
    """Seconds from connect to the first body byte of a Range GET; the rest is left unread."""
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nRange: bytes={offset}-\r\n\r\n".encode())
        buf = b""
        while b"\r\n\r\n" not in buf or len(buf.partition(b"\r\n\r\n")[2]) == 0:
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError(f"closed early: {buf[:200]!r}")
            buf += chunk
        if b" 206 " not in buf.split(b"\r\n", 1)[0]:
            raise RuntimeError(buf.split(b"\r\n", 1)[0].decode())
        return time.perf_counter() - t0


def get(port: int, path: str, token: str | None = None) -> float:
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"authorization": f"Bearer {token}"} if token else {})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    if resp.status != 200:
        raise RuntimeError(f"{path}: {resp.status}")
    return time.perf_counter() - t0


def direct_first_byte(ftp_port: int, offset: int) -> float:
    """The limit: a logged-in ftplib connection, PASV + REST + RETR + first byte."""
    import ftplib

    ftp = ftplib.FTP()
    try:
        ftp.connect("127.0.0.1", ftp_port, timeout=30)
        ftp.login(FTP_USER, FTP_PASSWORD)
        ftp.voidcmd("TYPE I")
        t0 = time.perf_counter()
        conn = ftp.transfercmd("RETR Films/Huge.Movie.2020.mkv", rest=offset)
        conn.recv(65536)
        took = time.perf_counter() - t0
        conn.close()
    finally:
        ftp.close()
    return took


def summary(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {"p50_ms": round(percentile(ms, 50), 1), "p99_ms": round(percentile(ms, 99), 1),
            "max_ms": round(max(ms), 1)}


def measure(samples: int, port: int, ftp_port: int, s: dict[str, Any]) -> dict[str, dict[str, float]]:
    kinds: dict[str, Callable[[int], float]] = {
        "local_stream_first_byte": lambda i: first_byte(port, s["bob_local"], (i * 997 * 1024) % (60 * MiB)),
        "ftp_stream_first_byte": lambda i: first_byte(port, s["bob_ftp"], (i * 7919 * 1024) % (900 * MiB)),
        "api_health": lambda i: get(port, "/api/health"),
        "source_health": lambda i: get(port, f"/api/sources/{s['ftp_id']}/health", s["bob_token"]),
        "direct_ftp_first_byte": lambda i: direct_first_byte(ftp_port, (i * 7919 * 1024) % (900 * MiB)),
    }
    out: dict[str, list[float]] = {k: [] for k in kinds}
    for i in range(samples):
        for name, fn in kinds.items():
            out[name].append(fn(i))
    return {k: summary(v) for k, v in out.items()}


def stall(port: int, path: str) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return sock


def answers(hogs: list[socket.socket]) -> dict[str, int]:
    """What alice's requests got so far: ``"200"`` (streaming, stalled), ``"waiting"`` (no
    answer yet: queued for a connection), or a refusal's status and reason
    (``"503 queue_full"``: past ``ftp_user_waiters``, reelhouse/api/errors.py)."""
    import json
    from collections import Counter

    seen: Counter[str] = Counter()
    for sock in hogs:
        sock.settimeout(0.5)
        try:
            head = sock.recv(4096)
        except TimeoutError:
            seen["waiting"] += 1
            continue
        status = head.split(b" ", 2)[1].decode() if head.startswith(b"HTTP/") else "?"
        reason = ""
        if status != "200" and b"\r\n\r\n" in head:
            try:
                reason = " " + str(json.loads(head.split(b"\r\n\r\n", 1)[1]).get("reason", ""))
            except ValueError:
                reason = ""
        seen[status + reason] += 1
    return dict(seen)


def main() -> None:
    p = base_args("isolation under stalled readers", 40, "samples of each request (default 40)")
    p.add_argument("--stalled", type=int, default=6)
    p.add_argument("--queued", type=int, default=8)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="reelhouse-isolation-") as tmp_s:
        tmp = Path(tmp_s)
        root, local = tmp / "ftp", tmp / "local"
        (root / "Films").mkdir(parents=True)
        (local / "Films").mkdir(parents=True)
        with open(root / "Films/Huge.Movie.2020.mkv", "wb") as fh:
            fh.truncate(1024 * MiB)
        (local / "Films/Local.Movie.2019.mkv").write_bytes(os.urandom(64 * MiB))
        with Ftpd(root) as ftpd:
            s = _prepare(tmp / "data", ftpd.port, local)
            port = free_port()
            env = dict(os.environ, REELHOUSE_DATA_DIR=str(tmp / "data"), REELHOUSE_LOG_LEVEL="WARNING")
            exe = Path(sys.executable).parent / "reelhouse"
            server = spawn([str(exe), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            hogs: list[socket.socket] = []
            try:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        get(port, "/api/health")
                        break
                    except OSError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.1)
                log("baseline")
                baseline = measure(args.samples, port, ftpd.port, s)
                log(f"{args.stalled} stalled readers + {args.queued} queued")
                hogs = [stall(port, s["alice_ftp"]) for _ in range(args.stalled + args.queued)]
                time.sleep(2.0)
                loaded = measure(args.samples, port, ftpd.port, s)
                alice = answers(hogs)
            finally:
                for h in hogs:
                    h.close()
                kill_groups([server])
    streams = max(loaded["local_stream_first_byte"]["p99_ms"], loaded["ftp_stream_first_byte"]["p99_ms"])
    health = max(loaded["api_health"]["p99_ms"], loaded["source_health"]["p99_ms"])
    emit({
        "benchmark": "isolation",
        "samples": args.samples,
        "stalled_readers": args.stalled,
        "queued_requests": args.queued,
        "ftp_pool_size": 5,
        "baseline": baseline,
        "under_load": loaded,
        "alice_answers": alice,
        "goal_stream_first_byte_p99_ms": GOAL_STREAM_P99_MS,
        "goal_health_p99_ms": GOAL_HEALTH_P99_MS,
        "goals_met": streams <= GOAL_STREAM_P99_MS and health <= GOAL_HEALTH_P99_MS,
        "loadavg": os.getloadavg(),
        "cpus": os.cpu_count(),
        "peer": "none: rclone serve http has no per-user isolation to compare",
    })


if __name__ == "__main__":
    main()
