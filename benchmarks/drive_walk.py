"""A cold walk of a 20,000-file tree (840 folders) through the drive: ``os.walk`` plus
``os.stat`` of every file, through ``reelhouse drive mount`` and ``rclone mount``
(``--vfs-cache-mode off``) of the same FTP server (pyftpdlib, forking: one process per
connection, as vsftpd and pure-ftpd work) in the same run. Every sample is a fresh
mount. Beside them, the limit: every folder of the tree listed straight over FTP (MLSD,
reelhouse's FTP client, as many connections as the drive's background listing uses)
without FUSE, and the same walk of the tree on the local disk. Goal (issue 12): ≥ 1.5×
faster than rclone. Prints one JSON object::

    python benchmarks/drive_walk.py [--samples 3] [--shows 40 --seasons 20 --episodes 25]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _drive import load, log, rclone_mount, reelhouse_mount
from _setup import Ftpd, emit, ensure_tree, median, ratio


def walk(mp: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    files = 0
    for folder, _dirs, names in os.walk(mp):
        for name in names:
            os.stat(os.path.join(folder, name))
            files += 1
    return time.perf_counter() - t0, files


def list_all(ftpd: Ftpd, connections: int = 4) -> tuple[float, int]:
    """Every folder listed over FTP, level by level, ``connections`` at a time."""
    src = ftpd.source(pool_size=connections)
    try:
        src.list("")  # log in first, as a mount does
        t0 = time.perf_counter()
        level, folders = [""], 0
        with ThreadPoolExecutor(connections) as pool:
            while level:
                listed = list(pool.map(src.list, level))
                folders += len(level)
                level = [e.path for entries in listed for e in entries if e.is_dir]
        return time.perf_counter() - t0, folders
    finally:
        src.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--samples", type=int, default=3)
    p.add_argument("--shows", type=int, default=40)
    p.add_argument("--seasons", type=int, default=20)
    p.add_argument("--episodes", type=int, default=25)
    args = p.parse_args()
    root = ensure_tree(args.shows, args.seasons, args.episodes)
    expected = sum(len(names) for _, _, names in os.walk(root))  # the episodes and a marker file
    times: dict[str, list[float]] = {"reelhouse": [], "rclone": [], "ftp_listing_limit": [], "local_disk": []}
    result: dict[str, object] = {"benchmark": "drive_walk", "files": expected, "load_before": load(),
                                 "goal": "speedup_vs_rclone >= 1.5"}
    with tempfile.TemporaryDirectory(prefix="drive-bench-") as t, Ftpd(root, forking=True) as ftpd:
        tmp = Path(t)
        for sample in range(args.samples):
            for name in ("reelhouse", "rclone"):
                mp = tmp / f"mnt-{name}-{sample}"
                ctx = reelhouse_mount(ftpd, mp, tmp) if name == "reelhouse" else rclone_mount(ftpd, mp, tmp, "off")
                with ctx:
                    took, files = walk(mp)
                if files != expected:
                    raise SystemExit(f"{name} saw {files} files, not {expected}")
                times[name].append(took)
                log(f"{name} walk {took:.2f} s")
            took, folders = list_all(ftpd)
            times["ftp_listing_limit"].append(took)
            times["local_disk"].append(walk(root)[0])
            log(f"{folders} folders listed over FTP in {took:.2f} s")
    result["seconds"] = {k: round(median(v), 3) for k, v in times.items()}
    result["speedup_vs_rclone"] = ratio(median(times["rclone"]), median(times["reelhouse"]))
    # how close the mount comes to listing the folders without FUSE (1.0: as fast)
    result["listing_limit_vs_reelhouse"] = ratio(median(times["ftp_listing_limit"]), median(times["reelhouse"]))
    result["load_after"] = load()
    emit(result)


if __name__ == "__main__":
    main()
