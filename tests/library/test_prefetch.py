"""Probes and fingerprints run several files at once, ahead of the scan loop (issue 14:
"probing runs over all pooled connections at once"), and give the rows what a scan
one file at a time gives (probe results, fingerprints, moves)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import MediaFile
from reelhouse.library.prefetch import ProbeAhead
from reelhouse.library.scanner import scan_source
from reelhouse.sources.memory import MemorySource
from reelhouse.sources.registry import SourceSpec


class SlowSource(MemorySource):
    """Every range read takes ``delay`` seconds (a far FTP server); records how many
    run at once."""

    def __init__(self, files: dict[str, bytes], delay: float = 0.03) -> None:
        super().__init__(files)
        self.delay = delay
        self.now = 0
        self.peak = 0
        self._lock = threading.Lock()

    def read_range(self, path: str, offset: int, length: int) -> Iterator[bytes]:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            time.sleep(self.delay)
            yield from super().read_range(path, offset, length)
        finally:
            with self._lock:
                self.now -= 1


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    c = Core(load_settings(data_dir=tmp_path / "data"), consume_jobs=False)
    yield c
    c.close()


def _rows(core: Core) -> dict[str, dict[str, Any]]:
    with core.sessions() as s:
        return {r.path: {"container": r.container, "duration": r.duration, "hash": r.content_hash,
                         "error": r.probe_error, "id": r.id}
                for r in s.scalars(select(MediaFile))}


def test_files_are_read_several_at_once_with_the_same_results(core: Core, tmp_path: Path,
                                                               sample_mp4: Path) -> None:
    data = sample_mp4.read_bytes()
    files = {f"Film {i} ({2000 + i})/Film.{i}.{2000 + i}.mp4": data for i in range(12)}
    src = SlowSource(files)
    sid = core.sources.create(SourceSpec(name="mem", kind="local", path=str(tmp_path))).id
    report = scan_source(core.sessions, sid, src)
    assert report.files_seen == 12 and report.probed == 12 and not report.errors
    assert src.peak >= 2  # reads overlapped
    rows = _rows(core)
    assert set(rows) == set(files) and all(r["container"] and r["duration"] for r in rows.values())
    # the same as reading one file at a time
    one = SlowSource(files, delay=0)
    for path in files:
        ahead = ProbeAhead(one, [], 8 * 1024 * 1024, lambda size, digest: False, lambda size: False, workers=1)
        got = ahead.take(one.stat(path))
        ahead.close()
        assert not isinstance(got.digest, Exception) and got.digest == rows[path]["hash"]
