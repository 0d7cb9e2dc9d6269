"""Sync of a 12,000-item Jellyfin source: the catalogue, first and incremental.

A reelhouse speaking the Jellyfin API (issue 16 part 1) serves a library of
``--films`` films and ``--shows`` × 10 × 20 episodes (built once by
benchmarks/jellyfin_items.py's builder, cached) in a child process; this process is the
other reelhouse, with a Jellyfin source on it (``sources/jellyfin.py``). Timed: the
first catalogue (every item with MediaSources, paged by 1000) plus the folder tree, an
incremental one (``MinDateLastSaved`` + the id list) and a full walk of the tree (what
the scanner lists). Not timed: probing the new files (the scanner reads each file's
head and tail through the stream; the benchmark's files have no bytes).

Goal (issue 16): a 12,000-item source in ≤ 30 s. Peer: gelly#229 reports 33.8 s.
Prints one JSON object::

    python benchmarks/jellyfin_source_sync.py [--samples 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from _setup import cache_root, emit, free_port, kill_groups, log, median, read_ready, spawn
from jellyfin_items import build

HERE = Path(__file__).resolve().parent


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--samples", type=int, default=3)
    p.add_argument("--films", type=int, default=6000)
    p.add_argument("--shows", type=int, default=30)
    args = p.parse_args()

    from reelhouse.sources.catalog import CatalogSource
    from reelhouse.sources.jellyfin import JellyfinRemote

    episodes = args.shows * 10 * 20
    data = cache_root() / f"jellyfin-items-{args.films}-{episodes}"
    if not (data / "reelhouse.db").exists():
        log(f"building {args.films} films + {episodes} episodes …")
        build(data, args.films, args.shows, 10, 20)
    port = free_port()
    proc = spawn([sys.executable, str(HERE / "jellyfin_items.py"), "--serve", str(data), str(port)])
    first, incremental, walk = [], [], []
    items = 0
    try:
        read_ready(proc, "reelhouse", 60)
        url = f"http://127.0.0.1:{port}/jellyfin"
        for n in range(args.samples):
            remote = JellyfinRemote(url, "admin", "admin-password", device_id="bench")
            source = CatalogSource(remote)
            t = time.perf_counter()
            items = len(source.list(""))  # the first catalogue and the tree
            first.append(time.perf_counter() - t)
            items = len(remote.catalog())
            t = time.perf_counter()
            source.list("")  # incremental: nothing changed
            incremental.append(time.perf_counter() - t)
            t = time.perf_counter()
            files = sum(len([e for e in entries if not e.is_dir]) for _, entries in source.walk("")
                        if isinstance(entries, list))
            walk.append(time.perf_counter() - t)
            log(f"sample {n}: first {first[-1]:.2f} s, incremental {incremental[-1]:.2f} s, "
                f"walk {walk[-1]:.2f} s ({files} files)")
            source.close()
    finally:
        kill_groups([proc])
    emit({
        "benchmark": "jellyfin_source_sync",
        "items": items,
        "samples": args.samples,
        "goal_s": 30,
        "first_catalogue_s": round(median(first), 2),
        "incremental_catalogue_s": round(median(incremental), 2),
        "walk_s": round(median(walk), 3),
        "peer": "gelly#229 reports 33.8 s for a full sync (not run here)",
        "not_timed": "probing the new files' bytes (the benchmark's files are empty)",
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    })


if __name__ == "__main__":
    main()
