"""Recursive listing of a synthetic FTP tree (by default 20,000 files in 841 folders):
reelhouse's parallel walk vs its sequential walk vs ``rclone lsf -R`` on the same
loopback server, same run.

Servers: pyftpdlib's default single-threaded server (one process serves every
connection, so parallel listing cannot help much), its forking server (one process per
connection, as vsftpd and pure-ftpd work; MLSD) and vsftpd (LIST only, so listed by
``STAT`` over the control connection: sources/ftp/statlist.py; when found:
``REELHOUSE_TEST_VSFTPD`` or on PATH) and pure-ftpd (one process per connection; each
sub-tree by one ``LIST -R``, sources/ftp/treelist.py; as root, when installed). Goal
(issues 4 and 14): reelhouse ≥ 1.5× faster than rclone. Also the CPU seconds of the
listing process (reelhouse: all its threads; rclone: the child's user + system time),
which the machine's load moves far less than wall time. ``--ab`` adds, interleaved in
the same run, reelhouse with the line-by-line parsers (``parse_list``/``parse_mlsd``
instead of the one-pass ``*_text`` ones) and, on vsftpd and pyftpdlib, with STAT off (every folder
over a data connection), on pure-ftpd with ``LIST -R`` off (MLSD folder by folder).
Before each server the script waits until fewer than 2,000 sockets are in TIME_WAIT (at
most 75 s; the counts are in the output): each data connection leaves one for 60 s, and many thousands of them slow
every loopback connection down. Prints one JSON object::

    python benchmarks/listing.py [--samples 3] [--servers single-process,forking,vsftpd,pure-ftpd] [--ab]
                                 [--shows 40 --seasons 20 --episodes 25]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _daemons import PureFtpd, Vsftpd, pure_ftpd_binary, vsftpd_binary
from _setup import Ftpd, emit, ensure_tree, log, median, ratio

SERVERS = ("single-process", "forking", "vsftpd", "pure-ftpd")


def time_wait() -> int:
    """TCP sockets in TIME_WAIT on this machine (/proc/net/tcp*, state 06)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            count += sum(1 for line in f if line.split()[3:4] == ["06"])
    return count


def drain_time_wait(limit: int = 2000, most: float = 75.0) -> tuple[int, float]:
    """Wait (at most ``most`` s) until fewer than ``limit`` sockets are in TIME_WAIT: a
    walk over data connections leaves one per folder on the loopback server for 60 s,
    and past ~10,000 of them every new data connection (both servers', reelhouse's and
    rclone's alike) slows down (README: a walk 0.65 s -> 10 s). Returns the count
    found and the seconds waited."""
    found, t0 = time_wait(), time.monotonic()
    while time_wait() >= limit and time.monotonic() - t0 < most:
        time.sleep(2)
    return found, round(time.monotonic() - t0, 1)


@contextlib.contextmanager
def variant(name: str) -> Iterator[None]:
    """``"line_parsers"``: the client parses listings line by line (before issue 14);
    ``"no_stat"``: never list over the control connection; ``"no_tree"``: never list a
    sub-tree by one ``LIST -R`` (pure-ftpd: MLSD folder by folder, as before)."""
    from datetime import datetime

    from reelhouse.sources.base import Entry
    from reelhouse.sources.ftp import lister, statlist, treelist
    from reelhouse.sources.ftp.listing import ListingEntry, parse_list, parse_mlsd
    from reelhouse.sources.ftp.listing_text import is_folder_entry_name

    def entries(parsed: list[ListingEntry], prefix: str) -> list[Entry]:
        return [Entry(e.name, prefix + e.name, e.is_dir, None if e.is_dir else e.size, e.mtime)
                for e in parsed if is_folder_entry_name(e.name)]

    def list_by_lines(text: str, now: datetime, prefix: str = "", strict: bool = False) -> list[Entry]:
        return entries(parse_list(text.split("\n"), now), prefix)

    def mlsd_by_lines(text: str, prefix: str = "") -> list[Entry]:
        return entries(parse_mlsd(text.split("\n")), prefix)

    table: dict[str, list[tuple[object, str, object]]] = {
        "line_parsers": [(lister, "list_entries", list_by_lines), (lister, "mlsd_entries", mlsd_by_lines)],
        "no_stat": [(statlist, "tried", lambda key: False)],
        "no_tree": [(treelist, "tried", lambda key: False)],
    }
    patches = table.get(name, [])
    saved = [(module, attr, getattr(module, attr)) for module, attr, _ in patches]
    for module, attr, value in patches:
        setattr(module, attr, value)
    try:
        yield
    finally:
        for module, attr, value in saved:
            setattr(module, attr, value)


def walk_count(ftpd: Any, workers: int, how: str = "") -> tuple[float, float, int, int]:
    """Seconds, CPU seconds, files and folders of one full walk (a fresh pool, so
    connection set-up counts): ``FtpSource.walk`` on the default pool of 5 (5 folders in
    flight), or a sequential walk for ``workers=1``; ``how``: a :func:`variant`."""
    from reelhouse.sources.walk import walk_source

    source = ftpd.source(pool_size=5)
    files = folders = 0
    with variant(how):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            for _folder, result in (source.walk("") if workers > 1 else walk_source(source, "")):
                if isinstance(result, Exception):
                    raise result
                folders += 1
                files += sum(1 for e in result if not e.is_dir)
            return time.perf_counter() - t0, time.process_time() - c0, files, folders
        finally:
            source.close()


def rclone_count(env: dict[str, str]) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(["rclone", "lsf", "-R", "--files-only", "benchftp:"], env=env, check=True,
                         capture_output=True, text=True).stdout
    took = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return took, cpu, len(out.splitlines())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--samples", type=int, default=3, help="runs of each contender (median reported)")
    p.add_argument("--shows", type=int, default=40)
    p.add_argument("--seasons", type=int, default=20)
    p.add_argument("--episodes", type=int, default=25)
    p.add_argument("--servers", default=",".join(SERVERS), help="comma-separated: " + ", ".join(SERVERS))
    p.add_argument("--ab", action="store_true", help="also the line parsers and (vsftpd) STAT off, same run")
    args = p.parse_args()
    root = ensure_tree(args.shows, args.seasons, args.episodes)
    result: dict[str, object] = {"benchmark": "listing", "goal": "speedup_vs_rclone >= 1.5",
                                 "load_before": [round(x, 2) for x in os.getloadavg()]}
    for server in args.servers.split(","):
        if server == "vsftpd" and vsftpd_binary() is None:
            result[server] = "skipped: vsftpd not found"
            continue
        if server == "pure-ftpd" and pure_ftpd_binary() is None:
            result[server] = "skipped: pure-ftpd not found, or not root"
            continue
        result[server] = run_on(root, server, args.samples, args.ab)
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    emit(result)


def run_on(root: Path, server: str, samples: int, ab: bool = False) -> dict[str, object]:
    """Interleaved samples of the contenders against one server."""
    variants = {"reelhouse": (5, ""), "reelhouse_sequential": (1, "")}
    if ab:
        variants["reelhouse_line_parsers"] = (5, "line_parsers")
        if server != "pure-ftpd":
            variants["reelhouse_no_stat"] = (5, "no_stat")
        if server == "pure-ftpd":
            variants["reelhouse_no_tree"] = (5, "no_tree")
    times: dict[str, list[float]] = {k: [] for k in [*variants, "rclone"]}
    cpu: dict[str, list[float]] = {k: [] for k in times}
    counts: dict[str, int] = {}
    found, waited = drain_time_wait()
    log(f"{server}: {found} sockets in TIME_WAIT, waited {waited} s")
    tw: list[int] = []
    daemon = (Vsftpd(root) if server == "vsftpd" else PureFtpd(root) if server == "pure-ftpd"
              else Ftpd(root, forking=server == "forking"))
    with daemon as ftpd, tempfile.TemporaryDirectory() as tmp:
        env = ftpd.rclone_env(Path(tmp))
        walk_count(ftpd, 5)  # first contact: the client learns whether STAT lists this server
        for i in range(samples):  # interleaved, so drift in machine load hits all alike
            tw.append(time_wait())
            for name, (workers, how) in variants.items():
                t, c, files, folders = walk_count(ftpd, workers, how)
                times[name].append(t)
                cpu[name].append(c)
                assert counts.setdefault("files", files) == files, (name, files)
                counts["folders"] = folders
            t, c, files_rc = rclone_count(env)
            times["rclone"].append(t)
            cpu["rclone"].append(c)
            assert files_rc == counts["files"], (files_rc, counts)
            log(f"{server} run {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()))
    med = {k: round(median(v), 3) for k, v in times.items()}
    out: dict[str, object] = {
        "tree": counts,
        "time_wait": {"found": found, "waited_seconds": waited, "at_each_sample": tw},
        "seconds_median": med,
        "cpu_seconds_median": {k: round(median(v), 3) for k, v in cpu.items()},
        "seconds_all": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "files_per_second_reelhouse": round(counts["files"] / med["reelhouse"]),
        "speedup_vs_rclone": ratio(med["rclone"], med["reelhouse"]),
        "speedup_vs_sequential": ratio(med["reelhouse_sequential"], med["reelhouse"]),
    }
    for name in variants:
        if name not in ("reelhouse", "reelhouse_sequential"):
            out[f"speedup_vs_{name.removeprefix('reelhouse_')}"] = ratio(med[name], med["reelhouse"])
    return out


if __name__ == "__main__":
    main()
