"""The segment cache: least recently used segments go first, under the byte limit."""

from __future__ import annotations

import os
import time
from pathlib import Path

from reelhouse.playback.hls.cache import SegmentCache


def test_trim_drops_least_recently_used(tmp_path: Path) -> None:
    cache = SegmentCache(tmp_path / "cache", max_bytes=3000)
    paths = []
    for n in range(5):
        p = cache.track_dir("1-abc", "720p") / f"{n}.ts"
        p.write_bytes(b"x" * 1000)
        os.utime(p, (time.time() - 100 + n, time.time() - 100 + n))
        paths.append(p)
    assert cache.hit(paths[0])  # used now: the newest
    assert not cache.hit(tmp_path / "nope.ts")
    assert cache.trim() == 2000
    assert [p.exists() for p in paths] == [True, False, False, True, True]
    assert cache.usage()[0] == 3000
    assert cache.trim() == 0
    cache.clear()
    assert cache.usage() == (0, [])


def test_a_hit_keeps_the_mtime(tmp_path: Path) -> None:
    """The mtime (with the size) is the segment's validator: ETag and Last-Modified. A
    hit that moved it changed the ETag on every request, so If-None-Match never hit."""
    cache = SegmentCache(tmp_path / "cache", max_bytes=3000)
    p = cache.track_dir("1-abc", "720p") / "0.ts"
    p.write_bytes(b"x" * 10)
    os.utime(p, (time.time() - 100, time.time() - 100))
    before = p.stat()
    assert cache.hit(p)
    after = p.stat()
    assert after.st_mtime_ns == before.st_mtime_ns and after.st_atime > before.st_atime + 50
