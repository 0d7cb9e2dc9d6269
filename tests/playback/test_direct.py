"""Tests for reelhouse.playback.direct: RangeStreamResponse in a bare app over the
MemorySource double (the API-level tests over FTP and local are in
tests/api/test_stream.py, client disconnects in tests/faults/)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from email.utils import formatdate

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from starlette.responses import Response

from reelhouse.api.errors import SOURCE_UNAVAILABLE, install_error_handlers
from reelhouse.errors import RangeNotSatisfiable
from reelhouse.playback.direct import (
    RangeStreamResponse,
    content_type_for,
    unsatisfiable_headers,
)
from reelhouse.playback.preconditions import entity_tag
from reelhouse.sources.memory import MemorySource

DATA = os.urandom(300_000)
MTIME = 1_700_000_000.0
ETAG = entity_tag(1, "film.mkv", len(DATA), MTIME)


@pytest.fixture
def source() -> MemorySource:
    return MemorySource({"film.mkv": DATA, "clip.mp4": DATA[:1000], "empty.mkv": b""}, mtime=MTIME)


@pytest.fixture
def http(source: MemorySource) -> Iterator[TestClient]:
    app = FastAPI()
    install_error_handlers(app)

    @app.api_route("/f/{name}", methods=["GET", "HEAD"])
    def serve(name: str, request: Request) -> Response:
        entry = source.stat(name)
        size = entry.size or 0
        return RangeStreamResponse(
            source, name, size, method=request.method,
            range_header=request.headers.get("range"), if_range=request.headers.get("if-range"),
            etag=entity_tag(1, name, size, MTIME), mtime=MTIME,
        )

    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a.mp4", "video/mp4"),
        ("A.MP4", "video/mp4"),
        ("Films/x.m4v", "video/mp4"),
        ("b.mkv", "video/x-matroska"),
        ("c.webm", "video/webm"),
        ("d.avi", "video/x-msvideo"),
        ("e.ts", "video/mp2t"),
        ("f.mov", "video/quicktime"),
        ("noext", "application/octet-stream"),
        ("g.txt", "application/octet-stream"),
        ("dir.mkv/file", "application/octet-stream"),
    ],
)
def test_content_type_for(path: str, expected: str) -> None:
    assert content_type_for(path) == expected


def test_entity_tag_is_strong_and_changes_with_the_signature() -> None:
    tag = entity_tag(1, "a.mkv", 10, 1.0)
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    assert tag == entity_tag(1, "a.mkv", 10, 1.0)
    others = {entity_tag(2, "a.mkv", 10, 1.0), entity_tag(1, "b.mkv", 10, 1.0),
              entity_tag(1, "a.mkv", 11, 1.0), entity_tag(1, "a.mkv", 10, 2.0),
              entity_tag(1, "a.mkv", 10, None)}
    assert tag not in others and len(others) == 5


def test_constructor_raises_for_unsatisfiable_range(source: MemorySource) -> None:
    with pytest.raises(RangeNotSatisfiable) as info:
        RangeStreamResponse(source, "film.mkv", len(DATA), method="GET",
                            range_header=f"bytes={len(DATA)}-", if_range=None, etag=ETAG,
                            mtime=MTIME)
    assert unsatisfiable_headers(info.value) == {
        "content-range": f"bytes */{len(DATA)}", "accept-ranges": "bytes"}


def test_constructor_ignores_range_when_if_range_differs(source: MemorySource) -> None:
    r = RangeStreamResponse(source, "film.mkv", len(DATA), method="GET",
                            range_header=f"bytes={len(DATA)}-", if_range='"stale"', etag=ETAG,
                            mtime=MTIME)
    assert r.status_code == 200 and r.byte_range is None


def test_a_file_without_mtime_has_no_validators(source: MemorySource) -> None:
    """Without an mtime the size alone names no version of the file (replaced by one of
    the same size): no ETag or Last-Modified (it said 1 Jan 1970), an If-Range never
    holds (the whole file, RFC 9110 §13.1.5), If-None-Match never gives a 304."""
    r = RangeStreamResponse(source, "film.mkv", len(DATA), method="GET", range_header="bytes=0-9",
                            if_range=ETAG, etag=ETAG, mtime=None,
                            conditions={"if-none-match": ETAG})
    names = {k.decode() for k, _ in r.raw_headers}
    assert r.status_code == 200 and r.byte_range is None
    assert not names & {"etag", "last-modified"}
    r = RangeStreamResponse(source, "film.mkv", len(DATA), method="GET", range_header="bytes=0-9",
                            if_range=None, etag=ETAG, mtime=None)
    assert r.status_code == 206


def test_full_response(http: TestClient) -> None:
    r = http.get("/f/film.mkv")
    assert r.status_code == 200
    assert r.content == DATA
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-length"] == str(len(DATA))
    assert r.headers["content-type"] == "video/x-matroska"
    assert r.headers["etag"] == ETAG
    assert r.headers["last-modified"] == formatdate(MTIME, usegmt=True)
    assert "content-range" not in r.headers


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-0", 0, 0), ("bytes=100-199", 100, 199), ("bytes=-1", 299_999, 299_999),
     ("bytes=299000-", 299_000, 299_999), ("bytes=0-", 0, 299_999),
     ("bytes=5-9999999", 5, 299_999), ("bytes=-300001", 0, 299_999)],
)
def test_partial_response(http: TestClient, header: str, start: int, end: int) -> None:
    r = http.get("/f/film.mkv", headers={"range": header})
    assert r.status_code == 206
    assert r.headers["content-range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert r.headers["content-length"] == str(end - start + 1)
    assert r.content == DATA[start : end + 1]


def test_head_has_headers_and_no_body(http: TestClient) -> None:
    r = http.head("/f/film.mkv", headers={"range": "bytes=10-19"})
    assert r.status_code == 206
    assert r.headers["content-length"] == "10"
    assert r.headers["content-range"] == f"bytes 10-19/{len(DATA)}"
    assert r.content == b""
    r = http.head("/f/clip.mp4")
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-length"] == "1000" and r.headers["content-type"] == "video/mp4"


def test_416(http: TestClient) -> None:
    r = http.get("/f/film.mkv", headers={"range": "bytes=300000-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{len(DATA)}"
    assert "detail" in r.json()


def test_if_range(http: TestClient) -> None:
    r = http.get("/f/film.mkv", headers={"range": "bytes=0-9", "if-range": ETAG})
    assert r.status_code == 206 and r.content == DATA[:10]
    r = http.get("/f/film.mkv", headers={"range": "bytes=0-9", "if-range": '"nope"'})
    assert r.status_code == 200 and r.content == DATA
    date = formatdate(MTIME, usegmt=True)
    r = http.get("/f/film.mkv", headers={"range": "bytes=0-9", "if-range": date})
    assert r.status_code == 206 and r.content == DATA[:10]


def test_empty_file(http: TestClient) -> None:
    r = http.get("/f/empty.mkv")
    assert r.status_code == 200 and r.content == b"" and r.headers["content-length"] == "0"
    r = http.get("/f/empty.mkv", headers={"range": "bytes=0-"})
    assert r.status_code == 416 and r.headers["content-range"] == "bytes */0"


def test_source_failure_before_first_byte_is_a_clean_error(
    http: TestClient, source: MemorySource
) -> None:
    """The first chunk is read before the status line: an offline source → 503 JSON."""
    resp = RangeStreamResponse(source, "film.mkv", len(DATA), method="GET", range_header=None,
                               if_range=None, etag=ETAG, mtime=MTIME)
    source.offline = True
    app = FastAPI()
    install_error_handlers(app)
    app.add_api_route("/x", lambda: resp)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/x")
    assert r.status_code == 503
    # no admin behind the request: not the reason, which may name the server
    assert r.json() == {"detail": SOURCE_UNAVAILABLE, "reason": "source_unavailable"}
