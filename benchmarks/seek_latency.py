"""Seek latency: time to the first 64 KiB of ``Range: bytes=OFFSET-`` at random offsets,
for reelhouse ``/stream`` and ``rclone serve http``, with direct FTP REST+RETR as the
limit.

    .venv/bin/python benchmarks/seek_latency.py [--size-mib 1024] [--samples 200]

Each HTTP sample is what a browser does when the user seeks: a new TCP connection, one
GET with a Range header, read the headers and 64 KiB of body, close the connection with
the rest unread. Each direct sample is REST+RETR on one persistent, logged-in ftplib
control connection (PASV + data connect + REST + RETR + 64 KiB; the abort reply is read
after the clock stops). Prints one JSON object on stdout; progress goes to stderr.
"""

from __future__ import annotations

import ftplib
import math
import os
import random
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import (
    FILM,
    FTP_PASSWORD,
    FTP_USER,
    Stack,
    base_args,
    emit,
    log,
    percentile,
    ratio,
)

WANT = 64 * 1024
WARMUP = 5
MAX_CONSECUTIVE_FAILURES = 3
GOAL_P50_MS = 5.0
GOAL_P99_MS = 60.0

Sample = tuple[float, float, bytes]  # (first byte s, 64 KiB s, the 64 KiB)


def http_seek(url: str, timeout: float) -> Callable[[int], Sample]:
    u = urlsplit(url)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    target = u.path + (f"?{u.query}" if u.query else "")

    def one(offset: int) -> Sample:
        req = (
            f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: */*\r\nRange: bytes={offset}-\r\n\r\n"
        ).encode()
        t0 = time.perf_counter()
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(req)
            buf = bytearray()
            first = 0.0
            end = -1
            while end < 0:
                more = sock.recv(262144)
                if not more:
                    raise RuntimeError(f"connection closed in the headers ({bytes(buf[:200])!r})")
                if not first:
                    first = time.perf_counter()
                buf += more
                end = buf.find(b"\r\n\r\n")
            head, body = bytes(buf[:end]), buf[end + 4 :]
            while len(body) < WANT:
                more = sock.recv(262144)
                if not more:
                    break
                body += more
            t64 = time.perf_counter()
        finally:
            sock.close()  # like a browser seeking away: the rest is never read
        status = head.split(b" ", 2)[1]
        if status != b"206":
            raise RuntimeError(f"expected 206, got {head[:200]!r}")
        return first - t0, t64 - t0, bytes(body[:WANT])

    return one


class DirectFtp:
    """REST+RETR on one persistent, logged-in control connection (the limit)."""

    def __init__(self, port: int, timeout: float) -> None:
        self.ftp = ftplib.FTP()
        self.ftp.connect("127.0.0.1", port, timeout=timeout)
        self.ftp.login(FTP_USER, FTP_PASSWORD)
        self.ftp.voidcmd("TYPE I")
        assert self.ftp.sock is not None
        self.ftp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def __call__(self, offset: int) -> Sample:
        t0 = time.perf_counter()
        data = self.ftp.transfercmd(f"RETR /{FILM}", rest=offset or None)
        try:
            buf = bytearray()
            first = 0.0
            while len(buf) < WANT:
                more = data.recv(262144)
                if not more:
                    break
                if not first:
                    first = time.perf_counter()
                buf += more
            t64 = time.perf_counter()
        finally:
            data.close()
        try:  # 426 (aborted) or 226 (it had sent everything already)
            self.ftp.getresp()
        except (ftplib.error_temp, ftplib.error_perm):
            pass
        return first - t0, t64 - t0, bytes(buf[:WANT])

    def close(self) -> None:
        try:
            self.ftp.quit()
        except (OSError, ftplib.Error):
            self.ftp.close()


def _ms(value: float) -> float | None:
    return None if math.isinf(value) else round(value, 2)


def summarise(
    name: str, samples: list[Sample | None], offsets: list[int], fd: int, errors: list[str], aborted: bool
) -> dict[str, object]:
    """Percentiles over all samples, a failed one counting as infinitely slow (so a
    percentile that reaches into the failures is ``null``)."""
    ms = [s[1] * 1000 if s else math.inf for s in samples]
    first = [s[0] * 1000 if s else math.inf for s in samples]
    ok = [(s, off) for s, off in zip(samples, offsets, strict=False) if s]
    good = sum(1 for s, off in ok if s[2] == os.pread(fd, WANT, off))
    out: dict[str, object] = {
        "p50_ms": _ms(percentile(ms, 50)),
        "p90_ms": _ms(percentile(ms, 90)),
        "p99_ms": _ms(percentile(ms, 99)),
        "max_ms": _ms(max(ms)) if ms else None,
        "first_byte_p50_ms": _ms(percentile(first, 50)),
        "samples_run": len(samples),
        "failed": len(samples) - len(ok),
        "bytes_verified_samples": good,
    }
    if errors:
        out["errors"] = len(errors)
        out["first_error"] = errors[0]
        first_bad = next(i for i, s in enumerate(samples) if s is None) if len(ok) < len(samples) else None
        out["ok_before_first_failure"] = first_bad
    if aborted:
        out["aborted"] = f"stopped after {MAX_CONSECUTIVE_FAILURES} failures in a row"
    log(
        f"{name:9s} p50 {out['p50_ms']} ms  p90 {out['p90_ms']} ms  p99 {out['p99_ms']} ms  "
        f"max {out['max_ms']} ms  failed {out['failed']}  (verified {good}/{len(ok)})"
    )
    return out


def measure(
    name: str, fn: Callable[[int], Sample], warm: list[int], offsets: list[int], gap_ms: float
) -> tuple[list[Sample | None], list[str], bool]:
    """Warm-up seeks (untimed), then the samples. A failed seek (timeout, error reply)
    is recorded as ``None``; after MAX_CONSECUTIVE_FAILURES in a row the target is given
    up (the rest would only wait for the same timeout)."""
    errors: list[str] = []
    samples: list[Sample | None] = []
    streak = 0
    for i, off in enumerate(warm + offsets):
        try:
            got: Sample | None = fn(off)
            streak = 0
        except (OSError, RuntimeError, ftplib.Error) as exc:
            got = None
            streak += 1
            where = "warm-up" if i < len(warm) else f"sample {i - len(warm)}"
            errors.append(f"{where} at byte {off}: {type(exc).__name__}: {exc}"[:300])
            log(f"{name}: {errors[-1]}")
        if i >= len(warm):
            samples.append(got)
        if streak >= MAX_CONSECUTIVE_FAILURES:
            return samples, errors, True
        if gap_ms:
            time.sleep(gap_ms / 1000)
    return samples, errors, False


def main() -> None:
    p = base_args(__doc__.split("\n\n")[0], 200, "seeks per target (default 200)")
    p.add_argument("--seed", type=int, default=1, help="random seed of the offsets (default 1)")
    p.add_argument("--gap-ms", type=float, default=0.0, help="pause between two seeks (default 0: back to back)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds before a seek counts as failed (default 5)")
    args = p.parse_args()
    direct: DirectFtp | None = None
    with Stack(args.size_mib, args.cache_dir) as st:
        load_start = round(os.getloadavg()[0], 2)
        rng = random.Random(args.seed)
        offsets = [rng.randrange(0, st.size - WANT) for _ in range(args.samples)]
        warm = [rng.randrange(0, st.size - WANT) for _ in range(WARMUP)]
        fd = os.open(st.path, os.O_RDONLY)
        try:
            direct = DirectFtp(st.ftp_port, args.timeout)
            targets: dict[str, Callable[[int], Sample]] = {
                "direct": direct,
                "reelhouse": http_seek(st.reelhouse_url, args.timeout),
                "rclone": http_seek(st.rclone_url, args.timeout),
            }
            results: dict[str, dict[str, object]] = {}
            for name, fn in targets.items():  # one target at a time: back-to-back seeks
                samples, errors, aborted = measure(name, fn, warm, offsets, args.gap_ms)
                results[name] = summarise(name, samples, offsets, fd, errors, aborted)
        finally:
            os.close(fd)
            if direct is not None:
                direct.close()
        versions = {**st.versions(), "loadavg_1m_end": round(os.getloadavg()[0], 2)}

    rh, rc, dr = results["reelhouse"], results["rclone"], results["direct"]
    verified = all(
        r["bytes_verified_samples"] == r["samples_run"] - r["failed"]  # type: ignore[operator]
        for r in results.values()
    )

    def rat(a: object, b: object) -> float | None:
        return ratio(a, b) if isinstance(a, float) and isinstance(b, float) else None

    result = {
        "benchmark": "seek_latency",
        "size_mib": args.size_mib,
        "samples": args.samples,
        "seed": args.seed,
        "gap_ms": args.gap_ms,
        "timeout_s": args.timeout,
        "measure": "ms from connect (HTTP) / PASV (FTP) to the first 64 KiB of body; "
        "a failed seek counts as infinitely slow (null percentile)",
        "direct_ftp": dr,
        "reelhouse": rh,
        "rclone": rc,
        "ratios": {
            "p50_reelhouse_direct": rat(rh["p50_ms"], dr["p50_ms"]),
            "p99_reelhouse_direct": rat(rh["p99_ms"], dr["p99_ms"]),
            "p50_reelhouse_rclone": rat(rh["p50_ms"], rc["p50_ms"]),
            "p99_reelhouse_rclone": rat(rh["p99_ms"], rc["p99_ms"]),
        },
        "goals": {
            "reelhouse_p50_max_ms": GOAL_P50_MS,
            "reelhouse_p99_max_ms": GOAL_P99_MS,
            "met_p50": isinstance(rh["p50_ms"], float) and rh["p50_ms"] <= GOAL_P50_MS,
            "met_p99": isinstance(rh["p99_ms"], float) and rh["p99_ms"] <= GOAL_P99_MS,
        },
        "bytes_verified": verified,
        "env": {**versions, "loadavg_1m_start": load_start},
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    emit(result)
    if not verified:
        sys.exit(1)


if __name__ == "__main__":
    main()
