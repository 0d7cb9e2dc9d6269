"""Rescan of an unchanged synthetic FTP library vs a bare listing of the same tree.

The tree is benchmarks/listing.py's (≈20,000 episode files in ≈840 folders) on a
loopback pyftpdlib server (forking: one process per connection). The first scan
(guessit on every name) is made once and its database kept in the cache dir next to the
tree; each sample then times ``scan_source`` (the rescan: listing + comparing with the
database + touching ``last_seen``) and a bare parallel listing, interleaved.

Goal (issue 4): rescan ≤ 1.2× the listing. Prints one JSON object::

    python benchmarks/rescan.py [--samples 3]
"""

from __future__ import annotations

import argparse
import time

from _setup import FTP_PASSWORD, FTP_USER, Ftpd, emit, ensure_tree, log, median, ratio


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--samples", type=int, default=3)
    p.add_argument("--shows", type=int, default=40)
    p.add_argument("--seasons", type=int, default=20)
    p.add_argument("--episodes", type=int, default=25)
    args = p.parse_args()

    from sqlalchemy import update

    from reelhouse.config import load_settings
    from reelhouse.core import Core
    from reelhouse.db.models import SourceRow
    from reelhouse.library.scanner import scan_source
    from reelhouse.sources.registry import SourceSpec

    root = ensure_tree(args.shows, args.seasons, args.episodes)
    data = root.parent / f"{root.name}-data"
    with Ftpd(root, forking=True) as ftpd:
        core = Core(load_settings(data_dir=data, log_level="WARNING"))
        try:
            rows = core.sources.list()
            if rows:
                sid = rows[0].id
                with core.sessions() as s:  # the server's port is new each run
                    s.execute(update(SourceRow).where(SourceRow.id == sid).values(port=ftpd.port))
                    s.commit()
            else:
                sid = core.sources.create(SourceSpec(name="tree", kind="ftp", host="127.0.0.1", port=ftpd.port,
                                                     username=FTP_USER, password=FTP_PASSWORD)).id
            source = core.sources.source(sid)
            t0 = time.perf_counter()
            first = scan_source(core.sessions, sid, source)
            log(f"first scan: {time.perf_counter() - t0:.1f} s, added {first.added}, unchanged {first.unchanged}")
            times: dict[str, list[float]] = {"rescan": [], "listing": []}
            for i in range(args.samples):
                t0 = time.perf_counter()
                files = sum(len(r) for _, r in source.walk("") if not isinstance(r, Exception))
                times["listing"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                report = scan_source(core.sessions, sid, source)
                times["rescan"].append(time.perf_counter() - t0)
                assert report.unchanged == report.files_seen and report.probed == 0 and report.added == 0
                log(f"run {i + 1}: listing {times['listing'][-1]:.2f} s, rescan {times['rescan'][-1]:.2f} s")
        finally:
            core.close()
    med = {k: round(median(v), 3) for k, v in times.items()}
    emit({
        "benchmark": "rescan",
        "files": report.files_seen,
        "entries_listed": files,
        "seconds_median": med,
        "seconds_all": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "rescan_over_listing": ratio(med["rescan"], med["listing"]),
        "goal": "rescan_over_listing <= 1.2",
    })


if __name__ == "__main__":
    main()
