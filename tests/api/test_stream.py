"""The ``/api/library/media-files/{id}/stream`` endpoint end to end, over a real FTP
server and over a local folder: Range/206/416, HEAD, If-Range, Content-Type, and
playback-token authentication."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.server import create_app
from reelhouse.sources.ftp import FtpSource

from helpers import ADMIN, ADMIN_PASSWORD, FTP_PASSWORD, FTP_USER, log_in, place, stop_without_leaks, wait_job

pytestmark = pytest.mark.requires_ffmpeg

BIG_NAME = "Films/Big.Buck.Bunny.2008.mkv"


@dataclass
class Env:
    client: TestClient
    core: Core
    kind: str
    source_id: int
    file_id: int
    data: bytes

    @property
    def url(self) -> str:
        return f"/api/library/media-files/{self.file_id}/stream"


def add_and_scan(client: TestClient, body: dict[str, object]) -> int:
    r = client.post("/api/sources", json=body)
    assert r.status_code == 201, r.text
    sid = int(r.json()["id"])
    r = client.post(f"/api/sources/{sid}/scan")
    assert r.status_code == 202, r.text
    job = wait_job(client, int(r.json()["id"]))
    assert job["state"] == "done", job
    return sid


def source_body(kind: str, ftp_server: EmbeddedFtpServer, local_root: Path) -> dict[str, object]:
    if kind == "ftp":
        return {"name": "seedbox", "kind": "ftp", "host": "127.0.0.1", "port": ftp_server.port,
                "username": FTP_USER, "password": FTP_PASSWORD}
    return {"name": "disk", "kind": "local", "path": str(local_root)}


def file_ids(client: TestClient, sid: int) -> dict[str, int]:
    r = client.get("/api/library/media-files", params={"source_id": sid})
    assert r.status_code == 200, r.text
    return {f["path"]: f["id"] for f in r.json()["items"]}




@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, big_file: Path, sample_mp4: Path
) -> Iterator[dict[str, Env]]:
    """One FTP server, one Core and one logged-in client for the whole module (a scan
    per test would cost seconds), with the same files on an FTP source and a local one."""
    base = tmp_path_factory.mktemp("stream")
    ftp_root, local_root = base / "ftp", base / "disk"
    for root in (ftp_root, local_root):
        place(big_file, root, BIG_NAME)
        place(sample_mp4, root, "Sintel (2010)/Sintel.2010.720p.mp4")
        place(sample_mp4, root, "Films/Sintel.2010.mkv")  # an mp4 named .mkv: type by its probe
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD).start()
    core = Core(load_settings(data_dir=base / "data"))
    try:
        core.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
        with TestClient(create_app(core)) as client:
            log_in(client)
            envs = {}
            for kind in ("ftp", "local"):
                root = ftp_root if kind == "ftp" else local_root
                sid = add_and_scan(client, source_body(kind, server, root))
                ids = file_ids(client, sid)
                assert BIG_NAME in ids, ids
                envs[kind] = Env(client, core, kind, sid, ids[BIG_NAME], big_file.read_bytes())
            yield envs
    finally:
        core.close()
        stop_without_leaks(server)


@pytest.fixture(params=["ftp", "local"])
def env(request: pytest.FixtureRequest, world: dict[str, Env]) -> Env:
    return world[request.param]


@pytest.fixture
def anon(env: Env) -> Iterator[TestClient]:
    """A client with no cookie and no bearer token, over the same Core."""
    with TestClient(create_app(env.core)) as c:
        yield c


def random_ranges(size: int, n: int, seed: int) -> list[tuple[str, int, int]]:
    """(header, start, end) for ``n`` seeded random ranges: a-b, a-, -n; lengths are
    log-uniform so most are small and some span most of the file."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        kind = rnd.choice(["ab", "ab", "a-", "-n"])
        span = int(2 ** rnd.uniform(0, size.bit_length()))
        if kind == "ab":
            start = rnd.randrange(size)
            end = start + span - 1  # may run past the end: clipped
            out.append((f"bytes={start}-{end}", start, min(end, size - 1)))
        elif kind == "a-":
            start = max(0, size - span)
            out.append((f"bytes={start}-", start, size - 1))
        else:
            out.append((f"bytes=-{span}", max(0, size - span), size - 1))
    return out


def check_206(r: object, data: bytes, start: int, end: int) -> None:
    size = len(data)
    assert r.status_code == 206, (r.status_code, r.text[:200])  # type: ignore[attr-defined]
    h = r.headers  # type: ignore[attr-defined]
    assert h["content-range"] == f"bytes {start}-{end}/{size}"
    assert h["content-length"] == str(end - start + 1)
    assert h["accept-ranges"] == "bytes"
    body = r.content  # type: ignore[attr-defined]
    assert len(body) == end - start + 1
    assert body == data[start : end + 1]


def test_random_ranges(env: Env) -> None:
    size = len(env.data)
    fixed = [
        ("bytes=0-0", 0, 0),
        (f"bytes={size - 1}-{size - 1}", size - 1, size - 1),
        ("bytes=-1", size - 1, size - 1),
        ("bytes=-1000", size - 1000, size - 1),
        (f"bytes={size - 5000}-", size - 5000, size - 1),
        ("bytes=0-", 0, size - 1),
        (f"bytes=1234567-{size * 2}", 1234567, size - 1),
        (f"bytes=-{size * 3}", 0, size - 1),
    ]
    for header, start, end in fixed + random_ranges(size, 200, seed=20240315):
        r = env.client.get(env.url, headers={"range": header})
        check_206(r, env.data, start, end)
    if env.kind == "ftp":
        src = env.core.sources.source(env.source_id)
        assert isinstance(src, FtpSource)
        stats = src.pool.stats
        assert stats["in_use"] == 0 and stats["live"] <= stats["size"]


def test_whole_file_without_range(env: Env) -> None:
    r = env.client.get(env.url)
    assert r.status_code == 200
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-length"] == str(len(env.data))
    assert "content-range" not in r.headers
    assert r.content == env.data


@pytest.mark.parametrize("header", ["bytes=8388608-", "bytes=9000000-9000001",
                                    "bytes=-0", "bytes=99999999999999999999-"])
def test_416(env: Env, header: str) -> None:
    r = env.client.get(env.url, headers={"range": header})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{len(env.data)}"
    assert "detail" in r.json()


@pytest.mark.parametrize("header", ["bytes=5-2", "bytes=abc", "items=0-5", "bytes=0-0,-1"])
def test_ignored_range_gives_200_full(env: Env, header: str) -> None:
    r = env.client.get(env.url, headers={"range": header})
    assert r.status_code == 200
    assert r.content == env.data


def test_head(env: Env) -> None:
    get = env.client.get(env.url, headers={"range": "bytes=100-199"})
    head = env.client.head(env.url, headers={"range": "bytes=100-199"})
    assert head.status_code == 206 and head.content == b""
    for name in ("content-range", "content-length", "content-type", "etag", "last-modified",
                 "accept-ranges"):
        assert head.headers[name] == get.headers[name], name
    full = env.client.head(env.url)
    assert full.status_code == 200 and full.content == b""
    assert full.headers["content-length"] == str(len(env.data))
    assert full.headers["accept-ranges"] == "bytes"


def test_if_range(env: Env) -> None:
    etag = env.client.head(env.url).headers["etag"]
    last_modified = env.client.head(env.url).headers["last-modified"]
    r = env.client.get(env.url, headers={"range": "bytes=10-20", "if-range": etag})
    check_206(r, env.data, 10, 20)
    r = env.client.get(env.url, headers={"range": "bytes=10-20", "if-range": last_modified})
    check_206(r, env.data, 10, 20)
    r = env.client.get(env.url, headers={"range": "bytes=10-20", "if-range": '"wrong"'})
    assert r.status_code == 200 and r.content == env.data
    # an If-Range that does not match also disarms an unsatisfiable range
    r = env.client.get(env.url, headers={"range": "bytes=99999999-", "if-range": '"wrong"'})
    assert r.status_code == 200 and len(r.content) == len(env.data)


def test_conditional_requests(env: Env) -> None:
    """RFC 9110 §13.2.2 on the file's validators (its size and mtime as the library
    knows them): 304 for If-None-Match / If-Modified-Since, 412 for If-Match /
    If-Unmodified-Since that do not hold. The stream answered 200 to all of them."""
    head = env.client.head(env.url).headers
    etag, last_modified = head["etag"], head["last-modified"]

    def get(headers: dict[str, str], method: str = "GET") -> httpx.Response:
        return env.client.request(method, env.url, headers=headers)

    for headers in ({"if-none-match": etag}, {"if-none-match": f'"x", W/{etag}'},
                    {"if-none-match": "*"}, {"if-modified-since": last_modified},
                    {"if-modified-since": "Fri, 01 Jan 2100 00:00:00 GMT"}):
        for method in ("GET", "HEAD"):
            r = get(headers, method)
            assert r.status_code == 304 and r.content == b"", (headers, method)
            assert r.headers["etag"] == etag and "content-range" not in r.headers
    # If-None-Match wins over If-Modified-Since (§13.1.3); a bad date is ignored
    for headers in ({"if-none-match": '"other"', "if-modified-since": last_modified},
                    {"if-modified-since": "Thu, 01 Jan 1970 00:00:00 GMT"},
                    {"if-modified-since": "yesterday"}, {"if-match": etag},
                    {"if-match": "*"}, {"if-unmodified-since": last_modified}):
        r = get(headers)
        assert r.status_code == 200 and r.content == env.data, headers
    for headers in ({"if-match": '"other"'}, {"if-match": f"W/{etag}"},  # strong comparison
                    {"if-unmodified-since": "Thu, 01 Jan 1970 00:00:00 GMT"},
                    {"if-match": '"other"', "range": "bytes=0-9"}):
        r = get(headers)
        assert r.status_code == 412 and "changed" in r.json()["detail"], headers
    r = get({"if-match": etag, "range": "bytes=10-20"})
    check_206(r, env.data, 10, 20)
    r = get({"if-none-match": '"other"', "range": "bytes=10-20", "if-range": etag})
    check_206(r, env.data, 10, 20)


def test_content_type(env: Env) -> None:
    ids = file_ids(env.client, env.source_id)
    assert env.client.head(env.url).headers["content-type"] == "video/x-matroska"
    mp4 = f"/api/library/media-files/{ids['Sintel (2010)/Sintel.2010.720p.mp4']}/stream"
    assert env.client.head(mp4).headers["content-type"] == "video/mp4"
    mkv = f"/api/library/media-files/{ids['Films/Sintel.2010.mkv']}/stream"
    assert env.client.head(mkv).headers["content-type"] == "video/mp4"
    r = env.client.post(f"/api/library/media-files/{ids['Sintel (2010)/Sintel.2010.720p.mp4']}"
                        "/playback")
    assert r.json()["content_type"] == "video/mp4"


def test_playback_token(env: Env, anon: TestClient) -> None:
    r = env.client.post(f"/api/library/media-files/{env.file_id}/playback")
    assert r.status_code == 200, r.text
    body = r.json()
    token, url = body["token"], body["url"]
    assert body["expires_in"] > 0
    assert f"/api/library/media-files/{env.file_id}/stream" in url and "token=" in url
    assert not anon.cookies and "authorization" not in anon.headers
    # the token alone is enough
    r = anon.get(env.url, params={"token": token}, headers={"range": "bytes=0-99"})
    check_206(r, env.data, 0, 99)
    r = anon.get(url.split("testserver", 1)[-1], headers={"range": "bytes=-10"})
    check_206(r, env.data, len(env.data) - 10, len(env.data) - 1)
    # no auth at all
    r = anon.get(env.url, headers={"range": "bytes=0-99"})
    assert r.status_code == 401 and "detail" in r.json()
    assert anon.head(env.url).status_code == 401
    # a token for another file
    other = next(i for p, i in file_ids(env.client, env.source_id).items() if i != env.file_id)
    r = anon.get(f"/api/library/media-files/{other}/stream", params={"token": token})
    assert r.status_code == 401
    # tampered tokens
    def flip(tok: str, i: int) -> str:  # not the last char: its low bits are base64 padding
        return tok[:i] + ("A" if tok[i] != "A" else "B") + tok[i + 1 :]

    payload, stamp, _sig = token.split(".")
    other_file = token.replace(payload, payload[:-2] + ("Mn" if payload[-2:] != "Mn" else "Mw"))
    for bad in (flip(token, len(token) - 5), flip(token, 3), flip(token, len(payload) + 2),
                other_file, token[:-5], token + "x", f"{payload}.{stamp}", "garbage", "a.b.c"):
        r = anon.get(env.url, params={"token": bad})
        assert r.status_code == 401, bad
    # a session token is not a playback token
    session = env.client.headers["authorization"].split(" ", 1)[1]
    assert anon.get(env.url, params={"token": session}).status_code == 401


def test_unknown_file_is_404(env: Env) -> None:
    r = env.client.get("/api/library/media-files/999999/stream")
    assert r.status_code == 404 and "detail" in r.json()
