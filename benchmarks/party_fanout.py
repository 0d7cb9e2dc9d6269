"""Watch-party fan-out: 1,000 WebSocket members in one party on loopback.

``reelhouse serve`` runs in a child process; this process opens ``--clients`` WebSocket
connections (the ``websockets`` library, one user each) to one party, then the host
sends ``--commands`` seeks. For every command and every member the figure is the time
from the host's send to that member's receipt of the state message (ms), measured on
this process's clock. Memory per connection is the growth of the server's RSS
(``/proc/PID/status`` VmRSS) from before the members connect to after, divided by
their number.

Printed as one JSON object with:

- ``reelhouse``: p50 / p99 / max delivery latency (ms), join time, memory per connection;
- ``peer``: the same clients on a bare ``websockets`` broadcast server (no auth, no
  database, ``websockets.broadcast`` of the host's message): the floor of Python fan-out
  on this machine;
- ``limit``: the goal of issue 7 (p99 ≤ 50 ms).

    .venv/bin/python benchmarks/party_fanout.py [--clients 1000] [--commands 20]

The clients share this one process (and the machine's cores) with the server, so the
figures include the clients' own receive cost — the same for reelhouse and the peer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PYTHON = sys.executable

PEER_SERVER = r"""
import asyncio, sys
from websockets.asyncio.server import serve, broadcast
clients = set()
async def handler(ws):
    clients.add(ws)
    try:
        async for msg in ws:
            broadcast(clients, msg)
    finally:
        clients.discard(ws)
async def main():
    async with serve(handler, "127.0.0.1", int(sys.argv[1]), max_size=2**16):
        print("ready", flush=True)
        await asyncio.Future()
asyncio.run(main())
"""


def log(*parts: object) -> None:
    print("[bench]", *parts, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited early")
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        time.sleep(0.1)
    raise SystemExit("server did not start")


def percentile(data: list[float], q: float) -> float:
    data = sorted(data)
    return data[min(len(data) - 1, round(q * (len(data) - 1)))]


async def run_clients(url: str, tokens: list[str | None], commands: int, make_cmd: Any,
                      pid: int) -> dict[str, Any]:
    """Connect every client (the first is the host), then time ``commands`` commands."""
    from websockets.asyncio.client import connect

    n = len(tokens) - 1
    got: dict[int, list[float]] = {}
    sent: dict[int, float] = {}
    done: dict[int, asyncio.Event] = {}
    rss_before = rss_kib(pid)

    async def member(token: str | None, opened: asyncio.Event, stop: asyncio.Event) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with connect(url, additional_headers=headers, max_size=2**22, open_timeout=120,
                           ping_interval=None) as ws:
            opened.set()
            reader = asyncio.ensure_future(_read(ws))
            await stop.wait()
            reader.cancel()

    async def _read(ws: Any) -> None:
        async for raw in ws:
            t = time.perf_counter()
            if '"seek"' not in raw:
                continue
            msg = json.loads(raw)
            party = msg.get("party") or msg
            k = round(float(party.get("position", -1)))
            if k in sent:
                got.setdefault(k, []).append(t - sent[k])
                if len(got[k]) >= n:
                    done[k].set()

    stop = asyncio.Event()
    host_token = tokens[0]
    tasks = []
    t_join = time.perf_counter()
    sem = asyncio.Semaphore(50)

    async def start(token: str | None) -> None:
        async with sem:
            opened = asyncio.Event()
            tasks.append(asyncio.ensure_future(member(token, opened, stop)))
            await opened.wait()

    await asyncio.gather(*(start(tok) for tok in tokens[1:]))
    join_s = time.perf_counter() - t_join
    await asyncio.sleep(2.0)  # the last join broadcasts settle
    rss_after = rss_kib(pid)
    log(f"{n} members joined in {join_s:.1f} s")

    headers = {"Authorization": f"Bearer {host_token}"} if host_token else {}
    latencies: list[float] = []
    async with connect(url, additional_headers=headers, max_size=2**22, ping_interval=None) as host:
        await asyncio.sleep(1.0)
        for k in range(1, commands + 1):
            done[k] = asyncio.Event()
            sent[k] = time.perf_counter()
            await host.send(make_cmd(k))
            try:
                await asyncio.wait_for(done[k].wait(), 10)
            except TimeoutError:
                log(f"command {k}: {len(got.get(k, []))}/{n} delivered in 10 s")
            latencies += got.get(k, [])
            await asyncio.sleep(0.2)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    ms = [x * 1000 for x in latencies]
    return {
        "clients": n, "commands": commands, "deliveries": len(ms),
        "p50_ms": round(statistics.median(ms), 1) if ms else None,
        "p99_ms": round(percentile(ms, 0.99), 1) if ms else None,
        "max_ms": round(max(ms), 1) if ms else None,
        "join_all_s": round(join_s, 1),
        "memory_per_connection_kib": round((rss_after - rss_before) / max(1, n), 1),
    }


def _stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def bench_reelhouse(clients: int, commands: int) -> dict[str, Any]:
    from reelhouse.config import load_settings
    from reelhouse.core import Core
    from reelhouse.db.models import MediaFile, SourceRow, User

    with tempfile.TemporaryDirectory(prefix="party-fanout-") as tmp:
        data = Path(tmp) / "data"
        core = Core(load_settings(data_dir=data))
        with core.sessions() as s:  # users straight into the table: no argon2 x 1000
            users = [User(name=f"viewer{i}", password_hash="!", is_admin=False) for i in range(clients + 1)]
            s.add_all(users)
            src = SourceRow(name="disk", kind="local", path=tmp)
            s.add(src)
            s.flush()
            mf = MediaFile(source_id=src.id, path="film.mp4", size=1, kind="movie", duration=7200.0)
            s.add(mf)
            s.commit()
            ids = [u.id for u in users]
        host = core.users.get(ids[0])
        assert host is not None
        code = core.parties.create(host, mf.id).code
        tokens: list[str | None] = [core.auth_sessions.create(i)[0] for i in ids]
        core.close()
        port = free_port()
        env = {**os.environ, "REELHOUSE_DATA_DIR": str(data), "REELHOUSE_LOG_LEVEL": "WARNING"}
        proc = subprocess.Popen([PYTHON, "-c", "from reelhouse.cli import main; main()", "serve", "--port",
                                 str(port)], env=env, stdout=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_port(port, proc)
            log(f"reelhouse serve pid {proc.pid} on {port}, party {code}")
            url = f"ws://127.0.0.1:{port}/api/parties/{code}/ws"
            return asyncio.run(run_clients(
                url, tokens, commands, lambda k: json.dumps({"v": 1, "type": "seek", "position": k}), proc.pid))
        finally:
            _stop(proc)


def bench_peer(clients: int, commands: int) -> dict[str, Any]:
    port = free_port()
    proc = subprocess.Popen([PYTHON, "-c", PEER_SERVER, str(port)], stdout=subprocess.PIPE,
                            start_new_session=True)
    try:
        wait_port(port, proc)
        log(f"peer server pid {proc.pid} on {port}")
        tokens: list[str | None] = [None] * (clients + 1)
        return asyncio.run(run_clients(
            f"ws://127.0.0.1:{port}/", tokens, commands,
            lambda k: json.dumps({"type": "state", "event": {"kind": "seek"}, "party": {"position": k}}),
            proc.pid))
    finally:
        _stop(proc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--commands", type=int, default=20)
    args = ap.parse_args()
    reelhouse = bench_reelhouse(args.clients, args.commands)
    peer = bench_peer(args.clients, args.commands)
    print(json.dumps({
        "benchmark": "party_fanout",
        "reelhouse": reelhouse,
        "peer": {"what": "bare websockets.broadcast server, no auth, no database", **peer},
        "limit": {"what": "issue 7 goal", "p99_ms": 50},
    }, indent=2))


if __name__ == "__main__":
    main()
