"""Full-file download throughput: direct FTP (the limit) vs reelhouse ``/stream`` vs
``rclone serve http``, all over the same loopback FTP server and measured by the same
client (curl writing to /dev/null).

    .venv/bin/python benchmarks/stream_throughput.py [--size-mib 1024] [--samples 3]

Prints one JSON object on stdout; progress goes to stderr. See benchmarks/README.md.
"""

from __future__ import annotations

import hashlib
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
        cpu: dict[str, list[float]] = {k: [] for k in targets}
        ftpd_cpu: dict[str, list[float]] = {k: [] for k in targets}
        for i in range(args.samples):
            for name, (url, pid) in targets.items():  # interleaved: drift hits all alike
                c0, f0 = cpu_seconds(pid), cpu_seconds(st.ftpd_pid)
                got, secs, status = curl(url)
                c1, f1 = cpu_seconds(pid), cpu_seconds(st.ftpd_pid)
                if got != st.size or status != ok_status[name]:
                    raise RuntimeError(f"{name}: got {got} of {st.size} bytes, status {status}")
                mbps = got / secs / 1e6
                runs[name].append(mbps)
                if name != "direct":
                    cpu[name].append((c1 - c0) / secs)
                ftpd_cpu[name].append((f1 - f0) / secs)
                log(f"run {i + 1}/{args.samples} {name:9s} {mbps:8.1f} MB/s ({secs:.2f} s)")

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
            "server_cpu_share": {  # CPU seconds per wall second of the serving process
                "reelhouse": round(median(cpu["reelhouse"]), 2),
                "rclone": round(median(cpu["rclone"]), 2),
                "ftpd_during_direct": round(median(ftpd_cpu["direct"]), 2),
                "ftpd_during_reelhouse": round(median(ftpd_cpu["reelhouse"]), 2),
                "ftpd_during_rclone": round(median(ftpd_cpu["rclone"]), 2),
            },
            "bytes_verified": {"target": "reelhouse", "bytes": n, "sha256_match": verified},
            "env": st.versions(),
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
    emit(result)
    if not verified:
        sys.exit(1)


if __name__ == "__main__":
    main()
