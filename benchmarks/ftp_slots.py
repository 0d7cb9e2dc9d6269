"""The cost of counting FTP connections over the cluster (sources/ftp/slots.py).

    .venv/bin/python benchmarks/ftp_slots.py [--samples 200] [--handovers 20]

A pyftpdlib server (own process) and a redis-server on loopback. Reported, in ms
(median and p95 of ``--samples``):

- ``new``: ``FtpPool.acquire()`` of a brand-new connection (connect + login), then
  dropped: without Redis (the limit: what a connection costs anyway) and with the
  shared count (one more Redis script before, a give-back after, off the caller's
  thread);
- ``reused``: ``acquire()`` of an idle connection, both ways; with the shared count
  it asks Redis for the user's grant (fair shares over the cluster, one script; the
  grant goes back off the caller's thread at ``release``); ``reused_slots_only`` is
  a store that keeps no fair shares (the behaviour before them: no Redis on this path);
- ``take_give_back``: one ``LeasedSlots.take`` + ``give_back`` alone;
- ``handover``: pool A holds every slot, pool B (another "process": its own
  LeasedSlots) waits in ``acquire()``; the time from A's ``release`` to B holding a
  connection, when A keeps the connection idle (A closes it once it sees B waiting)
  and when A drops it (its slot goes back at once); ``handover_*`` with Redis pub/sub
  news (a freed slot wakes B, B's refusal makes A close its idle one at once),
  ``handover_*_polling`` as before them (B polls every 0.2 s, A looks every 0.5 s),
  in the same run;
- ``handover_fair``: users' fair shares over two processes (3 slots, a user's cap 2):
  in pool A alice holds one connection, xavier the two others, alice waits for a
  second one; bob waits in pool B; from xavier's ``release`` of one in A to bob
  holding a connection (A refuses alice, closes the idle connection, bob's process
  takes its slot).
- ``handover_named``: one process, 2 slots held by xavier and yann, alice's request
  waits (with ``redis_url`` counted first among her waiting requests over the cluster,
  ``ftp_user_waiters``); from yann's ``release`` to alice holding the connection (a
  fair grant of the idle one). ``wait_named``: alice's ``acquire()`` from its call to
  the moment it waits in the pool, counted in Redis (one round trip; before any
  handover; before the count: to the moment it waits).
  ``--only named`` runs these two alone (to compare two commits in the same minutes).

No peer: other FTP proxies (rclone) count per process. One JSON object on stdout.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _setup import FTP_PASSWORD, FTP_USER, Ftpd, emit, free_port, kill_groups, log, median, percentile, spawn

from reelhouse.leased_slots import LeasedSlots
from reelhouse.sources.ftp.client import FtpConfig
from reelhouse.sources.ftp.pool import FtpPool, pool_user


def _ms(values: list[float]) -> dict[str, float]:
    return {"median_ms": round(median(values) * 1000, 3), "p95_ms": round(percentile(values, 95) * 1000, 3)}


def _new(pool: FtpPool, samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        t = time.perf_counter()
        client, reused = pool.acquire()
        out.append(time.perf_counter() - t)
        assert not reused
        pool.release(client, reusable=False)
        time.sleep(0.002)  # the give-back thread's turn (it is not measured)
    return out


def _reused(pool: FtpPool, samples: int) -> list[float]:
    client, _ = pool.acquire()
    pool.release(client)
    out = []
    for _ in range(samples):
        t = time.perf_counter()
        client, reused = pool.acquire()
        out.append(time.perf_counter() - t)
        assert reused
        pool.release(client)
    return out


class _Polling(LeasedSlots):
    """LeasedSlots that tells no news to its pools (they poll, as before pub/sub)."""

    listen = None  # type: ignore[assignment]


class _SlotsOnly(LeasedSlots):
    """LeasedSlots that keeps no fair shares (the pools count per process, as before)."""

    take_share = None  # type: ignore[assignment]


def _as(pool: FtpPool, user: str) -> Any:
    token = pool_user.set(user)
    try:
        return pool.acquire()[0]
    finally:
        pool_user.reset(token)


def _handover_fair(config: FtpConfig, url: str, rounds: int) -> list[float]:
    slots_a, slots_b = LeasedSlots(url, 15.0), LeasedSlots(url, 15.0)
    a = FtpPool(config, size=3, shared=slots_a, wait_timeout=30)
    b = FtpPool(config, size=3, shared=slots_b, wait_timeout=30)
    out = []
    try:
        for _ in range(rounds):
            alice, xavier, other = _as(a, "alice"), _as(a, "xavier"), _as(a, "xavier")
            got: list[tuple[str, Any, float]] = []

            def wait(pool: FtpPool, user: str, into: list[tuple[str, Any, float]] = got) -> None:
                client = _as(pool, user)
                into.append((user, client, time.perf_counter()))

            bob = threading.Thread(target=wait, args=(b, "bob"))
            bob.start()
            time.sleep(0.3)  # bob refused (no slot) and registered as waiting
            second = threading.Thread(target=wait, args=(a, "alice"))
            second.start()
            time.sleep(0.1)  # alice waits in A
            t = time.perf_counter()
            a.release(xavier)
            bob.join(30)
            assert got and got[0][0] == "bob", got
            out.append(got[0][2] - t)
            b.release(got[0][1], reusable=False)
            second.join(30)
            a.release(got[1][1], reusable=False)
            a.release(alice, reusable=False)
            a.release(other, reusable=False)
            a.drop_idle()
            b.drop_idle()
            time.sleep(0.05)
    finally:
        for pool, slots in ((a, slots_a), (b, slots_b)):
            pool.close()
            slots.close()
    return out


def _handover_named(config: FtpConfig, url: str, rounds: int) -> tuple[list[float], list[float]]:
    slots = LeasedSlots(url, 15.0)
    pool = FtpPool(config, size=2, shared=slots, wait_timeout=30)
    handover, waited = [], []
    try:
        for _ in range(rounds):
            xavier, yann = _as(pool, "xavier"), _as(pool, "yann")
            got: list[tuple[Any, float]] = []

            def wait(into: list[tuple[Any, float]] = got) -> None:
                into.append((_as(pool, "alice"), time.perf_counter()))

            t0 = time.perf_counter()
            alice = threading.Thread(target=wait)
            alice.start()
            while not (pool._waiters and getattr(pool._waiters[0].ask, "queued", "") is not None):
                time.sleep(0.0002)  # waiting, and counted in Redis (the branch before: no count)
            waited.append(time.perf_counter() - t0)
            time.sleep(0.05)  # her count is in (the round trip ends before she waits)
            t = time.perf_counter()
            pool.release(yann)
            alice.join(30)
            handover.append(got[0][1] - t)
            pool.release(got[0][0])
            pool.release(xavier)
            time.sleep(0.02)
    finally:
        pool.close()
        slots.close()
    return handover, waited


def _handover(config: FtpConfig, url: str, size: int, rounds: int, keep_idle: bool,
              kind: type[LeasedSlots] = LeasedSlots) -> list[float]:
    slots_a, slots_b = kind(url, 15.0), kind(url, 15.0)
    a = FtpPool(config, size=size, shared=slots_a)
    b = FtpPool(config, size=size, shared=slots_b)
    out = []
    try:
        for _ in range(rounds):
            held = [a.acquire()[0] for _ in range(size)]
            got: list[tuple[Any, float]] = []

            def wait(into: list[tuple[Any, float]] = got) -> None:
                into.append((b.acquire()[0], time.perf_counter()))

            waiter = threading.Thread(target=wait)
            waiter.start()
            time.sleep(0.3)  # B waits (refused, trying again)
            t = time.perf_counter()
            a.release(held.pop(), reusable=keep_idle)
            waiter.join(30)
            out.append(got[0][1] - t)
            for c in held:
                a.release(c, reusable=False)
            b.release(got[0][0], reusable=False)
            a.drop_idle()
            time.sleep(0.05)
    finally:
        for pool, slots in ((a, slots_a), (b, slots_b)):
            pool.close()
            slots.close()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--samples", type=int, default=200, help="acquires per figure (default 200)")
    p.add_argument("--handovers", type=int, default=20, help="handovers per way (default 20)")
    p.add_argument("--only", choices=["named"], help="run only these figures")
    args = p.parse_args()
    port = free_port()
    redis = spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no"], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    result: dict[str, Any] = {"benchmark": "ftp_slots", "samples": args.samples}
    try:
        with tempfile.TemporaryDirectory() as tmp, Ftpd(Path(tmp)) as ftpd:
            config = FtpConfig("127.0.0.1", ftpd.port, FTP_USER, FTP_PASSWORD)
            slots = LeasedSlots(url, 15.0)
            for _ in range(50):  # Redis up (spawned just now)
                try:
                    slots.give_back(slots.take("warm-up", 1) or "")
                    break
                except Exception:
                    time.sleep(0.1)
            log("handover to a named waiter")
            handover, waited = _handover_named(config, url, args.samples)
            result["handover_named"], result["wait_named"] = _ms(handover), _ms(waited)
            if args.only == "named":
                slots.close()
                return
            took = []
            for _ in range(args.samples):
                t = time.perf_counter()
                token = slots.take("bench", 5)
                assert token is not None
                slots.give_back(token)
                took.append(time.perf_counter() - t)
            result["take_give_back"] = _ms(took)
            slots_only = _SlotsOnly(url, 15.0)
            for name, shared in (("alone", None), ("shared", slots), ("slots_only", slots_only)):
                log(f"acquire, {name}")
                pool = FtpPool(config, size=5, shared=shared)
                try:
                    result[f"new_{name}"] = _ms(_new(pool, args.samples))
                    result[f"reused_{name}"] = _ms(_reused(pool, args.samples))
                finally:
                    pool.close()
            slots.close()
            slots_only.close()
            result["new_overhead_ms"] = round(result["new_shared"]["median_ms"] - result["new_alone"]["median_ms"], 3)
            for name, keep in (("idle", True), ("dropped", False)):
                for suffix, kind in (("", LeasedSlots), ("_polling", _Polling)):
                    log(f"handover, {name}{suffix}")
                    result[f"handover_{name}{suffix}"] = _ms(_handover(config, url, 2, args.handovers, keep,
                                                                       kind))
            log("handover, fair shares")
            result["handover_fair"] = _ms(_handover_fair(config, url, args.handovers))
    finally:
        kill_groups([redis])
        emit(result)


if __name__ == "__main__":
    main()
