"""Recursive listing of a synthetic FTP tree (by default 20,000 files in 841 folders):
reelhouse's parallel walk vs its sequential walk vs ``rclone lsf -R`` on the same
loopback server, same run.

Servers: pyftpdlib's default single-threaded server (one process serves every
connection, so parallel listing cannot help much), its forking server (one process per
connection, as vsftpd and pure-ftpd work; MLSD) and vsftpd (LIST only; when found:
``REELHOUSE_TEST_VSFTPD`` or on PATH). Goal (issues 4 and 14): reelhouse ≥ 1.5× faster
than rclone. Prints one JSON object::

    python benchmarks/listing.py [--samples 3] [--servers single-process,forking,vsftpd]
                                 [--shows 40 --seasons 20 --episodes 25]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from _daemons import Vsftpd, vsftpd_binary
from _setup import Ftpd, emit, ensure_tree, log, median, ratio

SERVERS = ("single-process", "forking", "vsftpd")


def walk_count(ftpd: Ftpd | Vsftpd, workers: int) -> tuple[float, int, int]:
    """Seconds, files and folders of one full walk (a fresh pool, so connection set-up
    counts): ``FtpSource.walk`` on the default pool of 5 (5 folders in flight), or a
    sequential walk for ``workers=1``."""
    from reelhouse.sources.base import walk_source

    source = ftpd.source(pool_size=5)
    t0 = time.perf_counter()
    files = folders = 0
    try:
        for _folder, result in (source.walk("") if workers > 1 else walk_source(source, "")):
            if isinstance(result, Exception):
                raise result
            folders += 1
            files += sum(1 for e in result if not e.is_dir)
        return time.perf_counter() - t0, files, folders
    finally:
        source.close()


def rclone_count(env: dict[str, str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    out = subprocess.run(["rclone", "lsf", "-R", "--files-only", "benchftp:"], env=env, check=True,
                         capture_output=True, text=True).stdout
    return time.perf_counter() - t0, len(out.splitlines())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--samples", type=int, default=3, help="runs of each contender (median reported)")
    p.add_argument("--shows", type=int, default=40)
    p.add_argument("--seasons", type=int, default=20)
    p.add_argument("--episodes", type=int, default=25)
    p.add_argument("--servers", default=",".join(SERVERS), help="comma-separated: " + ", ".join(SERVERS))
    args = p.parse_args()
    root = ensure_tree(args.shows, args.seasons, args.episodes)
    result: dict[str, object] = {"benchmark": "listing", "goal": "speedup_vs_rclone >= 1.5",
                                 "load_before": [round(x, 2) for x in os.getloadavg()]}
    for server in args.servers.split(","):
        if server == "vsftpd" and vsftpd_binary() is None:
            result[server] = "skipped: vsftpd not found"
            continue
        result[server] = run_on(root, server, args.samples)
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    emit(result)


def run_on(root: Path, server: str, samples: int) -> dict[str, object]:
    """Interleaved samples of the three contenders against one server."""
    times: dict[str, list[float]] = {"reelhouse": [], "reelhouse_sequential": [], "rclone": []}
    counts: dict[str, int] = {}
    daemon = Vsftpd(root) if server == "vsftpd" else Ftpd(root, forking=server == "forking")
    with daemon as ftpd, tempfile.TemporaryDirectory() as tmp:
        env = ftpd.rclone_env(Path(tmp))
        for i in range(samples):  # interleaved, so drift in machine load hits all alike
            t, files, folders = walk_count(ftpd, workers=5)
            times["reelhouse"].append(t)
            counts.update(files=files, folders=folders)
            t, files_seq, _ = walk_count(ftpd, workers=1)
            times["reelhouse_sequential"].append(t)
            t, files_rc = rclone_count(env)
            times["rclone"].append(t)
            assert files == files_seq == files_rc, (files, files_seq, files_rc)
            log(f"{server} run {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()))
    med = {k: round(median(v), 3) for k, v in times.items()}
    return {
        "tree": counts,
        "seconds_median": med,
        "seconds_all": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "files_per_second_reelhouse": round(counts["files"] / med["reelhouse"]),
        "speedup_vs_rclone": ratio(med["rclone"], med["reelhouse"]),
        "speedup_vs_sequential": ratio(med["reelhouse_sequential"], med["reelhouse"]),
    }


if __name__ == "__main__":
    main()
