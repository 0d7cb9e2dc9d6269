"""What the metadata hook costs an unchanged rescan.

A synthetic library in a MemorySource (no network: this measures reelhouse's own work):
``--folders`` film folders, each with ``--files-per-folder`` video files, a movie.nfo
and a poster.jpg. After a first scan (with the hook; TMDB configured but unreachable,
so it cools down at once), the unchanged library is rescanned:

- ``listing``: the bare ``source.walk`` (the limit: a rescan cannot beat its listing);
- ``rescan_without_metadata``: ``scan_source`` with no hook (the peer);
- ``rescan_with_metadata``: ``scan_source`` with ``MetadataService.enrich_file``.

Prints one JSON object: median seconds of ``--samples`` runs each, the ratios, and the
TMDB requests and sidecar reads made by the rescans (both must be 0).

    .venv/bin/python benchmarks/metadata_rescan.py [--folders 200] [--files-per-folder 10] [--samples 3]

The first scan dominates the run time (guessit parses every name: ~0.1 s per file on a
busy 2-core machine); the rescans take seconds.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.library.scanner import scan_source
from reelhouse.sources.memory import MemorySource
from reelhouse.sources.registry import SourceSpec


class CountingSource(MemorySource):
    """A MemorySource that counts reads of sidecar files."""

    sidecar_reads = 0

    def read_range(self, path: str, offset: int, length: int):  # type: ignore[no-untyped-def]
        if path.endswith((".nfo", ".jpg")):
            self.sidecar_reads += 1
        return super().read_range(path, offset, length)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folders", type=int, default=200)
    parser.add_argument("--files-per-folder", type=int, default=10)
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    files: dict[str, bytes] = {}
    for f in range(args.folders):
        folder = f"Film {f:04d} ({1950 + f % 70})"
        files[f"{folder}/movie.nfo"] = f"<movie><title>Film {f}</title></movie>".encode()
        files[f"{folder}/poster.jpg"] = b"\xff\xd8 not decoded"
        for i in range(args.files_per_folder):
            files[f"{folder}/Film.{f:04d}.part{i + 1}.mkv"] = b"\x00" * 64
    source = CountingSource(files)
    media = args.folders * args.files_per_folder

    with tempfile.TemporaryDirectory() as tmp:
        core = Core(load_settings(data_dir=Path(tmp), tmdb_api_key="k", tmdb_base_url="http://127.0.0.1:9/3",
                                  tmdb_retries=0))
        try:
            sid = core.sources.create(SourceSpec(name="mem", kind="local", path=tmp)).id
            t0 = time.perf_counter()
            scan_source(core.sessions, sid, source, enrich=core.metadata.enrich_file)
            first = time.perf_counter() - t0
            print(f"first scan of {media} files: {first:.1f} s", file=sys.stderr)
            requests_before, reads_before = core.metadata.tmdb.requests, source.sidecar_reads

            def listing() -> None:
                for _ in source.walk(""):
                    pass

            runs = {
                "listing": listing,
                "rescan_without_metadata": lambda: scan_source(core.sessions, sid, source),
                "rescan_with_metadata": lambda: scan_source(core.sessions, sid, source,
                                                            enrich=core.metadata.enrich_file),
            }
            times: dict[str, list[float]] = {k: [] for k in runs}
            for _ in range(args.samples):
                for name, run in runs.items():
                    t0 = time.perf_counter()
                    run()
                    times[name].append(time.perf_counter() - t0)
            med = {k: statistics.median(v) for k, v in times.items()}
            result = {
                "media_files": media,
                "folders": args.folders,
                "samples": args.samples,
                "first_scan_s": round(first, 3),
                **{f"{k}_s": round(v, 4) for k, v in med.items()},
                "with_vs_without_metadata": round(med["rescan_with_metadata"] / med["rescan_without_metadata"], 3),
                "with_metadata_vs_listing": round(med["rescan_with_metadata"] / med["listing"], 3),
                "rescan_tmdb_requests": core.metadata.tmdb.requests - requests_before,
                "rescan_sidecar_reads": source.sidecar_reads - reads_before,
            }
        finally:
            core.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
