"""Files the server made, as conditional responses (reelhouse.api.files): validators
from size and mtime, 304, 412, If-Range; a file that went away before it was sent (a
segment trimmed from the cache meanwhile) is a 503 to ask again, not Starlette's 500."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from starlette.responses import Response

from reelhouse.api.errors import install_error_handlers
from reelhouse.api.files import file_response


@pytest.fixture
def http(tmp_path: Path) -> Iterator[TestClient]:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/f/{name}")
    def serve(name: str, request: Request) -> Response:
        return file_response(request, tmp_path / name, "video/mp2t", "private, max-age=3600")

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_validators_304_412_and_if_range(http: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "0.ts"
    path.write_bytes(bytes(range(256)) * 8)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    r = http.get("/f/0.ts")
    assert r.status_code == 200 and r.headers["last-modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    etag = r.headers["etag"]
    assert etag.startswith('"') and r.headers["cache-control"] == "private, max-age=3600"
    for headers in ({"if-none-match": etag}, {"if-modified-since": r.headers["last-modified"]}):
        again = http.get("/f/0.ts", headers=headers)
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert http.get("/f/0.ts", headers={"if-match": '"x"'}).status_code == 412
    assert http.get("/f/0.ts", headers={"range": "bytes=0-9", "if-range": etag}).content == bytes(range(10))
    whole = http.get("/f/0.ts", headers={"range": "bytes=0-9", "if-range": '"x"'})
    assert whole.status_code == 200 and len(whole.content) == 2048
    os.utime(path, (1_700_000_100, 1_700_000_100))  # a new version: a new ETag
    assert http.get("/f/0.ts", headers={"if-none-match": etag}).status_code == 200


def test_a_file_that_went_away_is_503(http: TestClient) -> None:
    r = http.get("/f/gone.ts")
    assert r.status_code == 503 and "request it again" in r.json()["detail"]
