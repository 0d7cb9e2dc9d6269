"""Writing through the drive: 1,000 small files (4–64 KiB) copied into the mount, and
one 1 GiB file written, through ``reelhouse drive mount`` and ``rclone mount
--vfs-cache-mode writes`` of the same FTP server (pyftpdlib, forking) in the same run;
the limit for the big file is a plain ftplib ``STOR`` of the same file to the same
server, timed right before and right after each write through a mount (the machine's
load moves both by ±50 % from one minute to the next, so each write is reported as a
ratio to its own ``STOR``s: ``write_vs_stor_bracketed`` is the median of the ratios to
the mean time of the ``STOR`` before and the one after, ``write_vs_stor_paired`` of
the ratios to the one before alone, as this script reported until 29 Nov 2026).
``stor_vs_stor`` is the control: each ``STOR`` before against the ``STOR`` after, the
spread two identical transfers show in the same minute — no ratio of one pair can be
steadier than that. Every file written, by ``STOR`` or through a mount, is deleted on
the server at once: a 1 GiB file left behind is written back to disk by the kernel
during the next measurement.

The big file is written twice per mount: by Python (``shutil.copyfileobj``, 1 MiB
writes from unaligned buffers: the kernel splits each into two requests) and by ``cp``
(page-aligned 1 MiB writes, one request each), each timed until the file is on the
server with its full size.

For the copy two times are reported: until ``cp`` returns, and until every file is on
the server with its full size (rclone uploads after close, in the background; reelhouse
uploads in ``close``). Goals (issue 12): copy ≥ 1.5× faster than rclone; the 1 GiB
write ≥ 0.9× a plain STOR. Prints one JSON object::

    python benchmarks/drive_write.py [--files 1000] [--size-mib 1024] [--samples 1] [--no-rclone]
"""

from __future__ import annotations

import argparse
import ftplib
import io
import os
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from _drive import load, log, rclone_mount, reelhouse_mount
from _setup import FTP_PASSWORD, FTP_USER, Ftpd, emit, median, ratio

BLOCK = 1024 * 1024


def small_files(folder: Path, count: int) -> int:
    rng = random.Random(3)
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for i in range(count):
        data = rng.randbytes(rng.randrange(4 * 1024, 64 * 1024 + 1))
        (folder / f"file-{i:04d}.bin").write_bytes(data)
        total += len(data)
    return total


def on_server(folder: Path, expect: dict[str, int], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if all((folder / n).stat().st_size == size for n, size in expect.items()):
                return
        except OSError:
            pass
        time.sleep(0.005)
    raise SystemExit(f"files did not reach {folder} in {timeout} s")


def copy(mp: Path, src: Path, server_root: Path, name: str) -> tuple[float, float]:
    expect = {p.name: p.stat().st_size for p in src.iterdir()}
    t0 = time.perf_counter()
    subprocess.run(["cp", "-r", str(src), str(mp / name)], check=True)
    returned = time.perf_counter() - t0
    on_server(server_root / name, expect)
    return returned, time.perf_counter() - t0


def write_big(mp: Path, local: Path, server_root: Path, name: str, tool: str = "python") -> float:
    size = local.stat().st_size
    t0 = time.perf_counter()
    if tool == "cp":
        subprocess.run(["cp", str(local), str(mp / name)], check=True)
    else:
        with open(local, "rb") as f, open(mp / name, "wb") as out:
            shutil.copyfileobj(f, out, BLOCK)
    on_server(server_root, {name: size})  # rclone uploads after close: wait for it
    return time.perf_counter() - t0


def stor(port: int, local: Path) -> float:
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", port)
    ftp.login(FTP_USER, FTP_PASSWORD)
    t0 = time.perf_counter()
    with open(local, "rb") as f:
        ftp.storbinary("STOR direct.bin", f, blocksize=BLOCK)
    took = time.perf_counter() - t0
    ftp.delete("direct.bin")
    ftp.quit()
    return took


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--files", type=int, default=1000)
    p.add_argument("--size-mib", type=int, default=1024)
    p.add_argument("--samples", type=int, default=1)
    p.add_argument("--no-rclone", action="store_true", help="reelhouse and STOR only (no copy speed-up)")
    args = p.parse_args()
    result: dict[str, object] = {"benchmark": "drive_write", "files": args.files, "size_mib": args.size_mib,
                                 "load_before": load(),
                                 "goal": "copy >= 1.5x rclone (writes); 1 GiB write >= 0.9x ftplib STOR"}
    with tempfile.TemporaryDirectory(prefix="drive-bench-") as t:
        tmp = Path(t)
        server_root = tmp / "server"
        server_root.mkdir()
        src = tmp / "small"
        result["small_bytes"] = small_files(src, args.files)
        big = tmp / "big.bin"
        with open(big, "wb") as f:
            for _ in range(args.size_mib):
                f.write(os.urandom(BLOCK))
        names = ["reelhouse"] if args.no_rclone else ["reelhouse", "rclone_writes"]
        copies: dict[str, list[tuple[float, float]]] = {k: [] for k in names}
        bigs: dict[str, list[float]] = {"direct_stor": []}
        for k in names:
            bigs[k], bigs[f"{k}_cp"] = [], []
        paired: dict[str, list[float]] = {k: [] for k in bigs if k != "direct_stor"}
        bracketed: dict[str, list[float]] = {k: [] for k in paired}
        loads: dict[str, list[float]] = {k: [] for k in paired}
        null: list[float] = []
        with Ftpd(server_root, forking=True) as ftpd:
            for sample in range(args.samples):
                for name in copies:
                    mp = tmp / f"mnt-{name}-{sample}"
                    ctx = (reelhouse_mount(ftpd, mp, tmp) if name == "reelhouse"
                           else rclone_mount(ftpd, mp, tmp, "writes", "--vfs-write-back", "0s"))
                    with ctx:
                        copies[name].append(copy(mp, src, server_root, f"{name}-{sample}"))
                        log(f"{name} copy {copies[name][-1]}")
                        before = stor(ftpd.port, big)
                        for key, tool in ((name, "python"), (f"{name}_cp", "cp")):
                            loads[key].append(load()[0])
                            file = f"{key}-{sample}.bin"
                            took = write_big(mp, big, server_root, file, tool)
                            (server_root / file).unlink()
                            after = stor(ftpd.port, big)
                            bigs["direct_stor"].append(before)
                            bigs[key].append(took)
                            paired[key].append(before / took)
                            bracketed[key].append((before + after) / 2 / took)
                            null.append(before / after)
                            log(f"{key} 1 GiB write {args.size_mib / took:.0f} MiB/s, STOR before "
                                f"{args.size_mib / before:.0f} and after {args.size_mib / after:.0f} MiB/s, "
                                f"load {loads[key][-1]}")
                            before = after
                    for leftover in server_root.glob(f"{name}-{sample}*"):
                        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    result["copy_seconds"] = {k: {"cp_returned": round(median([x[0] for x in v]), 2),
                                  "all_on_server": round(median([x[1] for x in v]), 2)} for k, v in copies.items()}
    if "rclone_writes" in copies:
        result["copy_speedup_vs_rclone"] = ratio(median([x[1] for x in copies["rclone_writes"]]),
                                                 median([x[1] for x in copies["reelhouse"]]))
    mib = {k: round(args.size_mib / median(v), 1) for k, v in bigs.items()}
    result["write_1gib_mib_s"] = mib
    result["write_vs_stor"] = ratio(mib["reelhouse"], mib["direct_stor"])
    result["write_cp_vs_stor"] = ratio(mib["reelhouse_cp"], mib["direct_stor"])
    result["write_vs_stor_bracketed"] = {k: round(median(v), 3) for k, v in bracketed.items()}
    result["write_vs_stor_bracketed_each"] = {k: [round(x, 2) for x in v] for k, v in bracketed.items()}
    result["write_vs_stor_paired"] = {k: round(median(v), 3) for k, v in paired.items()}
    result["write_vs_stor_pairs"] = {k: [round(x, 2) for x in v] for k, v in paired.items()}
    result["stor_vs_stor"] = {"median": round(median(null), 3), "each": [round(x, 2) for x in null]}
    result["load_1min_each"] = loads
    result["stor_runs_mib_s"] = [round(args.size_mib / t, 1) for t in bigs["direct_stor"]]
    result["load_after"] = load()
    emit(result)


if __name__ == "__main__":
    io.DEFAULT_BUFFER_SIZE = BLOCK
    main()
