"""Reading through the drive: a 1 GiB file read sequentially, and 64 KiB preads at 200
random offsets (cold, then warm: the same offsets again), through ``reelhouse drive
mount`` and through ``rclone mount`` (``--vfs-cache-mode off`` and ``full``) of the same
FTP server in the same run; the limit is a plain ftplib ``RETR`` of the file.

rclone ``full`` reads with ``--vfs-read-chunk-size 0`` (one ``RETR`` per file, as
reelhouse reads): with its default 128 MiB chunks it ends each chunk's ``RETR`` with
``ABOR``, the server answers ``426 Transfer aborted`` (RFC 959 §4.1.3, as vsftpd and
pure-ftpd do), and rclone 1.60's cache downloader counts that as a failed download,
retries on the closed connection and returns EIO after 10 errors (1 GiB: EIO in most
runs). ``off`` keeps rclone's defaults (its chunked reader ignores the 426).

Goals (issue 12): sequential ≥ 1.0× rclone (both modes); warm preads p50 ≤ 5 ms,
p99 ≤ 60 ms. Every sample is a fresh mount (cold caches). Prints one JSON object::

    python benchmarks/drive_read.py [--size-mib 1024] [--samples 3] [--preads 200]
"""

from __future__ import annotations

import argparse
import ftplib
import hashlib
import os
import random
import tempfile
import time
from pathlib import Path

from _drive import load, log, rclone_mount, reelhouse_mount
from _setup import FILM, FTP_PASSWORD, FTP_USER, Ftpd, emit, ensure_film, median, percentile, ratio

BLOCK = 1024 * 1024


def read_all(path: Path) -> tuple[float, str]:
    h = hashlib.sha256()
    buf = bytearray(BLOCK)
    t0 = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(memoryview(buf)[:n])
    return time.perf_counter() - t0, h.hexdigest()


def last_error(log_file: Path) -> str:
    """The last ERROR line of rclone's log (why a read failed), if any."""
    try:
        lines = [x for x in log_file.read_text(errors="replace").splitlines() if "ERROR" in x]
    except OSError:
        return ""
    return f" (rclone: {lines[-1][:300]})" if lines else ""


def direct(port: int) -> float:
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", port)
    ftp.login(FTP_USER, FTP_PASSWORD)
    t0 = time.perf_counter()
    ftp.retrbinary(f"RETR {FILM}", lambda b: None, blocksize=BLOCK)
    took = time.perf_counter() - t0
    ftp.quit()
    return took


def preads(path: Path, offsets: list[int]) -> tuple[list[float], list[float]]:
    fd = os.open(path, os.O_RDONLY)
    try:
        runs = []
        for _ in range(2):  # cold, then warm
            ms = []
            for off in offsets:
                t0 = time.perf_counter()
                os.pread(fd, 64 * 1024, off)
                ms.append((time.perf_counter() - t0) * 1000)
            runs.append(ms)
        return runs[0], runs[1]
    finally:
        os.close(fd)


def summary(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(ms, 50), 2), "p99_ms": round(percentile(ms, 99), 2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--size-mib", type=int, default=1024)
    p.add_argument("--samples", type=int, default=3)
    p.add_argument("--preads", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    root, path, digest = ensure_film(args.size_mib)
    read_all(path)  # page cache: the disk is not measured
    size = path.stat().st_size
    rng = random.Random(args.seed)
    offsets = [rng.randrange(0, size - 64 * 1024) for _ in range(args.preads)]
    result: dict[str, object] = {"benchmark": "drive_read", "size_mib": args.size_mib, "load_before": load(),
                                 "goal": "sequential >= 1.0x rclone (off and full); warm pread p50 <= 5 ms, "
                                         "p99 <= 60 ms"}
    with tempfile.TemporaryDirectory(prefix="drive-bench-") as t, Ftpd(root, forking=True) as ftpd:
        tmp = Path(t)
        seq: dict[str, list[float]] = {"direct": [], "reelhouse": [], "rclone_off": [], "rclone_full": []}
        rnd: dict[str, tuple[list[float], list[float]]] = {}
        errors: list[str] = []
        for sample in range(args.samples):
            seq["direct"].append(direct(ftpd.port))
            contenders = [("reelhouse", lambda mp: reelhouse_mount(ftpd, mp, tmp)),
                          ("rclone_off", lambda mp: rclone_mount(ftpd, mp, tmp, "off")),
                          ("rclone_full", lambda mp: rclone_mount(ftpd, mp, tmp, "full",
                                                                  "--vfs-read-chunk-size", "0"))]
            for name, make in contenders:
                with make(tmp / f"mnt-{name}-{sample}") as mp:
                    try:
                        took, got = read_all(mp / FILM)
                    except OSError as exc:  # recorded, not fatal: a peer may fail a run
                        errors.append(f"{name} sample {sample}: {exc}{last_error(tmp / 'rclone.log')}")
                        log(errors[-1])
                        continue
                    if got != digest:
                        raise SystemExit(f"{name}: the bytes differ")
                    seq[name].append(took)
                    log(f"{name} sequential {args.size_mib / took:.0f} MiB/s")
                if sample == 0:
                    with make(tmp / f"mnt-{name}-pread") as mp:
                        rnd[name] = preads(mp / FILM, offsets)
                    log(f"{name} preads warm {summary(rnd[name][1])}")
    mib = {k: round(args.size_mib / median(v), 1) for k, v in seq.items()}
    result["sequential_mib_s"] = mib
    result["sequential_vs_rclone"] = {"off": ratio(mib["reelhouse"], mib["rclone_off"]),
                                      "full": ratio(mib["reelhouse"], mib["rclone_full"])}
    result["sequential_vs_direct"] = ratio(mib["reelhouse"], mib["direct"])
    result["preads_64k"] = {k: {"cold": summary(c), "warm": summary(w)} for k, (c, w) in rnd.items()}
    result["errors"] = errors
    result["load_after"] = load()
    emit(result)


if __name__ == "__main__":
    main()
