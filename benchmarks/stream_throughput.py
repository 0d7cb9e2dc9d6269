"""Full-file download throughput: direct FTP (the limit) vs reelhouse ``/stream`` vs
``rclone serve http``, all over the same loopback FTP server and measured by the same
client (curl writing to /dev/null).

    .venv/bin/python benchmarks/stream_throughput.py [--size-mib 1024] [--samples 3]

Prints one JSON object on stdout; progress goes to stderr. See benchmarks/README.md.
"""

from __future__ import annotations

import hashlib
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import (
    Stack,
    base_args,
    cpu_seconds,
    emit,
    log,
    median,
    ratio,
)

GOAL_VS_DIRECT = 0.75
GOAL_VS_RCLONE = 1.2
WARMUP_BYTES = 64 * 1024 * 1024


def curl(url: str, byte_range: str | None = None) -> tuple[int, float, int]:
    """``(bytes, seconds, status)`` of one download by curl into /dev/null."""
    argv = ["curl", "-s", "-S", "-o", "/dev/null", "-w", "%{size_download} %{time_total} %{response_code}"]
    if byte_range:
        argv += ["-r", byte_range]
    out = subprocess.run([*argv, url], check=True, capture_output=True, text=True).stdout.split()
    return int(out[0]), float(out[1]), int(out[2])


def children_cpu() -> float:
    """CPU seconds of our finished children so far (the curl processes)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def sha256_of_download(url: str) -> tuple[str, int]:
    """Stream a download by curl into hashlib: ``(hexdigest, bytes)``."""
    h = hashlib.sha256()
    n = 0
    with subprocess.Popen(["curl", "-s", "-S", url], stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        while block := proc.stdout.read(1 << 20):
            h.update(block)
            n += len(block)
        if proc.wait() != 0:
            raise RuntimeError(f"curl failed with status {proc.returncode}")
    return h.hexdigest(), n


def main() -> None:
    args = base_args(__doc__.split("\n\n")[0], 3, "downloads per target (default 3)").parse_args()
    with Stack(args.size_mib, args.cache_dir) as st:
        targets = {
            "direct": (st.direct_url, st.ftpd_pid),
            "reelhouse": (st.reelhouse_url, st.reelhouse_pid),
            "rclone": (st.rclone_url, st.rclone_pid),
        }
        ok_status = {"direct": 226, "reelhouse": 200, "rclone": 200}
        for url, _ in targets.values():  # fill pools and caches, untimed
            curl(url, f"0-{min(WARMUP_BYTES, st.size) - 1}")
        runs: dict[str, list[float]] = {k: [] for k in targets}
        # CPU seconds per GiB moved, per process: the proxy, the FTP server, the client
        cost: dict[str, dict[str, list[float]]] = {k: {"server": [], "ftpd": [], "client": []} for k in targets}
        load_start = os.getloadavg()[0]
        for i in range(args.samples):
            for name, (url, pid) in targets.items():  # interleaved: drift hits all alike
                c0, f0, k0 = cpu_seconds(pid), cpu_seconds(st.ftpd_pid), children_cpu()
                got, secs, status = curl(url)
                c1, f1, k1 = cpu_seconds(pid), cpu_seconds(st.ftpd_pid), children_cpu()
                if got != st.size or status != ok_status[name]:
                    raise RuntimeError(f"{name}: got {got} of {st.size} bytes, status {status}")
                mbps = got / secs / 1e6
                runs[name].append(mbps)
                gib = got / 2**30
                cost[name]["server"].append(0.0 if name == "direct" else (c1 - c0) / gib)
                cost[name]["ftpd"].append((f1 - f0) / gib)
                cost[name]["client"].append((k1 - k0) / gib)
                log(f"run {i + 1}/{args.samples} {name:9s} {mbps:8.1f} MB/s ({secs:.2f} s)")
        load_end = os.getloadavg()[0]

        log("verifying the bytes of one full reelhouse download (sha256)")
        digest, n = sha256_of_download(st.reelhouse_url)
        verified = digest == st.sha256 and n == st.size
        if not verified:
            log(f"MISMATCH: {digest} ({n} bytes) != {st.sha256} ({st.size} bytes)")

        med = {k: round(median(v), 1) for k, v in runs.items()}
        vs_direct = ratio(med["reelhouse"], med["direct"])
        vs_rclone = ratio(med["reelhouse"], med["rclone"])
        result = {
            "benchmark": "stream_throughput",
            "size_mib": args.size_mib,
            "samples": args.samples,
            "client": "curl -o /dev/null (same for all targets)",
            "unit": "MB/s (10^6 bytes per second), median of samples",
            "direct_ftp_mbps": med["direct"],
            "reelhouse_mbps": med["reelhouse"],
            "rclone_mbps": med["rclone"],
            "ratio_reelhouse_direct": vs_direct,
            "ratio_reelhouse_rclone": vs_rclone,
            "goals": {
                "reelhouse_direct_min": GOAL_VS_DIRECT,
                "reelhouse_rclone_min": GOAL_VS_RCLONE,
                "met_direct": vs_direct is not None and vs_direct >= GOAL_VS_DIRECT,
                "met_rclone": vs_rclone is not None and vs_rclone >= GOAL_VS_RCLONE,
            },
            "runs_mbps": {k: [round(x, 1) for x in v] for k, v in runs.items()},
            "cpu_seconds_per_gib": {
                k: {who: round(median(v), 2) for who, v in parts.items()} for k, parts in cost.items()
            },
            "bytes_verified": {"target": "reelhouse", "bytes": n, "sha256_match": verified},
            "env": {**st.versions(), "loadavg_1m_start": round(load_start, 2), "loadavg_1m_end": round(load_end, 2)},
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
    emit(result)
    if not verified:
        sys.exit(1)


if __name__ == "__main__":
    main()
