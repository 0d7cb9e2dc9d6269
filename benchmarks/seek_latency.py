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
import os
import random
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import (  # noqa: E402
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
WARMUP = 10
GOAL_P50_MS = 5.0
GOAL_P99_MS = 60.0

Sample = tuple[float, float, bytes]  # (first byte s, 64 KiB s, the 64 KiB)


def http_seek(url: str) -> Callable[[int], Sample]:
    u = urlsplit(url)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    target = u.path + (f"?{u.query}" if u.query else "")

    def one(offset: int) -> Sample:
        req = (f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: */*\r\n"
               f"Range: bytes={offset}-\r\n\r\n").encode()
        t0 = time.perf_counter()
        sock = socket.create_connection((host, port), timeout=8)
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
            head, body = bytes(buf[:end]), buf[end + 4:]
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

    def __init__(self, port: int) -> None:
        self.ftp = ftplib.FTP()
        self.ftp.connect("127.0.0.1", port, timeout=8)
        self.ftp.login(FTP_USER, FTP_PASSWORD)
        self.ftp.voidcmd("TYPE I")
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


def summarise(name: str, samples: list[Sample], offsets: list[int], fd: int) -> dict[str, object]:
    ms = [s[1] * 1000 for s in samples]
    first = [s[0] * 1000 for s in samples]
    bad = sum(1 for s, off in zip(samples, offsets, strict=True)
              if s[2] != os.pread(fd, WANT, off))
    out: dict[str, object] = {
        "p50_ms": round(percentile(ms, 50), 2),
        "p90_ms": round(percentile(ms, 90), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2),
        "first_byte_p50_ms": round(percentile(first, 50), 2),
        "samples": len(samples),
        "bytes_verified_samples": len(samples) - bad,
    }
    log(f"{name:9s} p50 {out['p50_ms']} ms  p90 {out['p90_ms']} ms  p99 {out['p99_ms']} ms  "
        f"max {out['max_ms']} ms  (verified {len(samples) - bad}/{len(samples)})")
    return out


def main() -> None:
    p = base_args(__doc__.split("\n\n")[0], 200, "seeks per target (default 200)")
    p.add_argument("--seed", type=int, default=1, help="random seed of the offsets (default 1)")
    p.add_argument("--gap-ms", type=float, default=0.0,
                   help="pause between two seeks (default 0: back to back)")
    args = p.parse_args()
    direct: DirectFtp | None = None
    with Stack(args.size_mib, args.cache_dir) as st:
        rng = random.Random(args.seed)
        offsets = [rng.randrange(0, st.size - WANT) for _ in range(args.samples)]
        warm = [rng.randrange(0, st.size - WANT) for _ in range(WARMUP)]
        try:
            direct = DirectFtp(st.ftp_port)
            targets: dict[str, Callable[[int], Sample]] = {
                "direct": direct,
                "reelhouse": http_seek(st.reelhouse_url),
                "rclone": http_seek(st.rclone_url),
            }
            fd = os.open(st.path, os.O_RDONLY)
            results: dict[str, dict[str, object]] = {}
            for name, fn in targets.items():  # one target at a time: back-to-back seeks
                for off in warm:
                    fn(off)
                samples = []
                for off in offsets:
                    samples.append(fn(off))
                    if args.gap_ms:
                        time.sleep(args.gap_ms / 1000)
                results[name] = summarise(name, samples, offsets, fd)
            os.close(fd)
        finally:
            if direct is not None:
                direct.close()
        versions = st.versions()

    rh, rc, dr = results["reelhouse"], results["rclone"], results["direct"]
    verified = all(r["bytes_verified_samples"] == r["samples"] for r in results.values())
    result = {
        "benchmark": "seek_latency",
        "size_mib": args.size_mib,
        "samples": args.samples,
        "seed": args.seed,
        "gap_ms": args.gap_ms,
        "measure": "ms from connect (HTTP) / PASV (FTP) to the first 64 KiB of body",
        "direct_ftp": dr,
        "reelhouse": rh,
        "rclone": rc,
        "ratios": {
            "p50_reelhouse_direct": ratio(rh["p50_ms"], dr["p50_ms"]),  # type: ignore[arg-type]
            "p99_reelhouse_direct": ratio(rh["p99_ms"], dr["p99_ms"]),  # type: ignore[arg-type]
            "p50_reelhouse_rclone": ratio(rh["p50_ms"], rc["p50_ms"]),  # type: ignore[arg-type]
            "p99_reelhouse_rclone": ratio(rh["p99_ms"], rc["p99_ms"]),  # type: ignore[arg-type]
        },
        "goals": {
            "reelhouse_p50_max_ms": GOAL_P50_MS,
            "reelhouse_p99_max_ms": GOAL_P99_MS,
            "met_p50": rh["p50_ms"] <= GOAL_P50_MS,  # type: ignore[operator]
            "met_p99": rh["p99_ms"] <= GOAL_P99_MS,  # type: ignore[operator]
        },
        "bytes_verified": verified,
        "env": versions,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    emit(result)
    if not verified:
        sys.exit(1)


if __name__ == "__main__":
    main()
