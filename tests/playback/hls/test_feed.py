"""The loopback feed ffmpeg reads sources through (ranges, HEAD, 416, unknown keys)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from reelhouse.playback.hls.feed import SourceFeed
from reelhouse.sources.memory import MemorySource

DATA = os.urandom(300_000)


@pytest.fixture
def feed() -> Iterator[SourceFeed]:
    f = SourceFeed()
    yield f
    f.close()


def test_ranges(feed: SourceFeed) -> None:
    source = MemorySource({"Films/a.mkv": DATA})
    url = feed.url(source, "Films/a.mkv", len(DATA))
    assert feed.url(source, "Films/a.mkv", len(DATA)) == url  # one key per file
    assert url.startswith("http://127.0.0.1:")
    with httpx.Client() as http:
        r = http.get(url)
        assert r.status_code == 200 and r.content == DATA
        assert r.headers["accept-ranges"] == "bytes"
        r = http.get(url, headers={"range": "bytes=1000-"})
        assert r.status_code == 206 and r.content == DATA[1000:]
        assert r.headers["content-range"] == f"bytes 1000-{len(DATA) - 1}/{len(DATA)}"
        r = http.get(url, headers={"range": "bytes=10-19"})
        assert r.content == DATA[10:20]
        r = http.head(url)
        assert r.headers["content-length"] == str(len(DATA)) and r.content == b""
        assert http.get(url, headers={"range": f"bytes={len(DATA)}-"}).status_code == 416
        assert http.get(url.rsplit("/", 1)[0] + "/not-a-key").status_code == 404


def test_source_failure_is_503(feed: SourceFeed) -> None:
    source = MemorySource({"a.mkv": DATA})
    url = feed.url(source, "a.mkv", len(DATA))
    source.offline = True
    with httpx.Client() as http:
        assert http.get(url).status_code == 503
        source.offline = False
        assert http.get(url).content == DATA
