"""Bad input the fuzzers (schemathesis, tests/api/test_schemathesis.py, and probes by
hand) turned into 500s, now clear 4xx errors on both engines: ids past what an
``Integer`` column holds (32 bits on PostgreSQL), page cursors carrying huge numbers,
lone surrogates or nesting too deep for the JSON parser, and NUL characters in URLs and
bodies (PostgreSQL refuses them in text). Every case runs on SQLite and, when
``REELHOUSE_TEST_POSTGRES_URL`` is set, on PostgreSQL, where most of them failed."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from helpers import ADMIN, ADMIN_PASSWORD, admin_client, admin_core, postgres_schema

PG_URL = os.environ.get("REELHOUSE_TEST_POSTGRES_URL", "")
ENGINES = ["sqlite", pytest.param("postgres", marks=[
    pytest.mark.requires_postgres,
    pytest.mark.skipif(not PG_URL, reason="set REELHOUSE_TEST_POSTGRES_URL to run on PostgreSQL")])]
BIG = 2**31  # one past INT_MAX (reelhouse.db.limits)


@pytest.fixture(scope="module", params=ENGINES)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An admin's client on an empty library, on SQLite or PostgreSQL (one per module:
    nothing here changes it). Server errors are answered (500), not raised, so a test
    sees what a client would."""
    with postgres_schema(PG_URL, "rh_badin") if request.param == "postgres" else _nothing() as url:
        data = tmp_path_factory.mktemp("bad-input") / "data"
        with admin_core(data, **({"database_url": url} if url else {})) as core, \
                admin_client(core, raise_server_exceptions=False) as c:
            yield c


class _nothing:
    def __enter__(self) -> str:
        return ""

    def __exit__(self, *exc: object) -> None:
        return None


def _cursor(value: object) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("path", [
    "/api/library/movies/{n}", "/api/library/shows/{n}", "/api/library/media-files/{n}",
    "/api/library/media-files/{n}/stream", "/api/library/media-files/{n}/progress", "/api/images/{n}",
    "/api/sources/{n}", "/api/sources/{n}/health", "/api/jobs/{n}", "/api/transfers/{n}", "/api/syncs/{n}",
    "/api/users/{n}", "/api/library/movies/{n}/match", "/movies/{n}", "/shows/{n}", "/play/{n}",
])
def test_ids_past_the_database_range_are_422(api: TestClient, path: str) -> None:
    """2**31 is an id no row can have; on PostgreSQL it used to reach the query and fail
    there ("integer out of range")."""
    for n in (BIG, 2**63, -(2**31) - 1):
        r = api.get(path.format(n=n))
        page = not path.startswith("/api/")  # an HTML page: its 404 page ("{id:int}" takes digits only)
        assert r.status_code == (404 if page else 422), (path, n, r.status_code, r.text)
    r = api.get(path.format(n=2**31 - 1))
    assert r.status_code in (404, 503), (path, r.status_code, r.text)  # in range: just not there


def test_ids_in_bodies_past_the_database_range_are_422(api: TestClient) -> None:
    for path, body in [("/api/parties", {"media_file_id": BIG}), ("/api/keys", {"name": "k", "user_id": BIG}),
                       ("/api/transfers", {"source_id": BIG, "remote_path": "/a", "kind": "download"}),
                       ("/api/users", {"name": "u", "password": "x" * 8, "sources": [BIG]})]:
        r = api.post(path, json=body)
        assert r.status_code == 422, (path, r.status_code, r.text)


@pytest.mark.parametrize("cursor", [
    _cursor(["a", 2**70, "movie", 1]), _cursor(["a", 1, "movie", 2**64]), _cursor(["a", BIG, "movie", 1]),
    _cursor(["\ud800", 1, "movie", 1]), _cursor(["a\x00", 1, "movie", 1]), _cursor(["a", True, "movie", 1]),
    _cursor(["a", 1, ["movie"], 1]), _cursor([2**70, "x"]), _cursor([BIG, "x"]), _cursor([1, "\ud800"]),
    _cursor([1, "a\x00"]), _cursor(b"[" * 1400), _cursor(b"[" * 3700), _cursor(b"\xff\xfe"),
])
def test_forged_page_cursors_are_400(api: TestClient, cursor: str) -> None:
    """A cursor is opaque but travels through clients: one with a number past 64 bits,
    a lone surrogate, a NUL or ``[[[[…`` was a 500 (OverflowError, UnicodeEncodeError,
    DataError, RecursionError)."""
    for path in ("/api/library/items", "/api/library/media-files"):
        r = api.get(path, params={"cursor": cursor})
        assert r.status_code in (400, 422), (path, r.status_code, r.text)
        assert "cursor" in r.json()["detail"]


def test_nul_in_urls_and_bodies_is_400(api: TestClient) -> None:
    """PostgreSQL cannot hold NUL in text: a search, a filter, a party code or a JSON
    string with one was a 500 there (and invisible junk on SQLite)."""
    for path, params in [("/api/library/items", {"q": "a\x00b"}), ("/api/audit", {"action": "\x00"}),
                         ("/api/library/media-files", {"q": "\x00"}), ("/api/parties/AB%00CD", {}),
                         ("/jellyfin/Items", {"searchTerm": "\x00"}), ("/jellyfin/Items/%00", {})]:
        r = api.get(path, params=params)
        assert r.status_code == 400 and "NUL" in r.json()["detail"], (path, r.status_code, r.text)
    for path, body in [("/api/auth/login", {"username": "ad\u0000min", "password": "x" * 8}),
                       ("/api/sources", {"name": "a\u0000", "kind": "local", "path": "/tmp"}),
                       ("/api/keys", {"name": "k\u0000"}),
                       ("/jellyfin/Users/AuthenticateByName", {"Username": "\u0000", "Pw": "x"})]:
        r = api.post(path, json=body)
        assert r.status_code == 400 and "NUL" in r.json()["detail"], (path, r.status_code, r.text)
    r = api.post("/login", data={"username": "a\x00", "password": "b"}, headers={"origin": "http://testserver"})
    assert r.status_code == 400, r.text
    # an escaped backslash followed by "u0000" is text, not a NUL
    r = api.post("/api/sources", json={"name": "a\\u0000", "kind": "local", "path": "/nonexistent-dir"})
    assert r.status_code != 400 or "NUL" not in r.text, r.text


def test_jellyfin_ids_past_the_database_range_are_404(api: TestClient) -> None:
    """A well-formed Jellyfin id whose row number no row can have (the last 16 hex digits
    past 2**31-1) names nothing: 404, where PostgreSQL used to fail the query."""
    r = api.post("/jellyfin/Users/AuthenticateByName", json={"Username": ADMIN, "Pw": ADMIN_PASSWORD},
                 headers={"authorization": 'MediaBrowser Client="t", Device="d", DeviceId="bad-input", Version="1"'})
    headers = {"x-emby-token": r.json()["AccessToken"]}
    for kind in (1, 2, 3, 5, 7):
        item = f"{kind:08x}7265656c{2**63 - 1:016x}"
        for method, path in [("GET", "Items/{}"), ("GET", "Users/{}"), ("GET", "Videos/{}/stream"),
                             ("GET", "Items/{}/PlaybackInfo"), ("GET", "Items/{}/Images/Primary"),
                             ("GET", "Shows/{}/Episodes"), ("POST", "UserPlayedItems/{}"),
                             ("POST", "UserFavoriteItems/{}")]:
            path = "/jellyfin/" + path.format(item)
            r = api.request(method, path, headers=headers)
            assert r.status_code in (400, 404), (method, path, r.status_code, r.text)


@pytest.mark.parametrize(("method", "path", "body"), [
    ("PATCH", "/api/sources/1", {"pasword": "new-secret"}),  # a typo: the password was kept
    ("PATCH", "/api/sources/1", {"kind": "local"}),  # a kind cannot change: it stayed ftp
    ("POST", "/api/sources", {"name": "d", "kind": "local", "path": "/tmp", "scan_intervall": 5}),
    ("POST", "/api/users", {"name": "eve", "password": "eve-password", "role": "user", "admin": True}),
    ("PATCH", "/api/users/1", {"disable": True}),
    ("POST", "/api/keys", {"name": "k", "expires": 5}),
    ("POST", "/api/transfers", {"kind": "download", "source_id": 1, "remote_path": "a.mkv", "prio": 9}),
    ("POST", "/api/auth/password", {"old_password": "x" * 8, "new_password": "y" * 8, "other": 1}),
    ("PATCH", "/api/library/movies/1", {"title": "T", "yr": 2001}),
    ("PUT", "/api/library/media-files/1/progress", {"position": 5, "postion": 6}),
    ("POST", "/api/parties", {"media_file_id": 1, "mod": "host"}),
])
def test_unknown_fields_are_422_naming_them(api: TestClient, method: str, path: str, body: dict[str, object]) -> None:
    """A field the route does not take was dropped without a word: an admin who wrote
    ``pasword`` or tried to change a source's ``kind`` read a 200 and the old value
    (found by an outside-in probe). Now a 422 names the field, and nothing changed."""
    users = api.get("/api/users").json()
    r = api.request(method, path, json=body)
    assert r.status_code == 422, (path, r.status_code, r.text)
    unknown = list(body)[-1]  # each body's last field is the one the route does not take
    assert f"{unknown}: unknown field" in r.json()["detail"], r.text
    assert api.get("/api/users").json() == users


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("POST", "/api/sources", {"name": "films", "kind": "local", "path": "/x" * 3000}, "path"),
    ("PUT", "/api/sources/1/files?path=" + "x" * 5000, None, "path"),
    ("GET", "/api/library/movies/1/match?query=" + "x" * 300, None, "query"),
])
def test_a_field_named_like_a_place_is_named_in_the_message(
        api: TestClient, method: str, path: str, body: dict[str, object] | None, field: str) -> None:
    """The 422 of a field called ``path`` or ``query`` said only "String should have at
    most 4096 characters": the names of the places a value comes from (body, query,
    path) were dropped wherever they stood in its location, the field's own name too
    (found with a 5,000-character root in the sources form)."""
    r = api.request(method, path, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(f"{field}: "), r.text


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_json_route_says_it_takes_json(api: TestClient, ctype: str) -> None:
    """A JSON body sent as another type read "Input should be a valid dictionary or
    object to extract fields from": now a 415 that names the type to send."""
    r = api.post("/api/keys", content=json.dumps({"name": "k"}), headers={"content-type": ctype})
    assert r.status_code == 415, r.text
    assert "application/json" in r.json()["detail"] and ctype in r.json()["detail"]
    r = api.post("/api/keys", content=json.dumps({"name": "k"}),
                 headers={"content-type": "application/json; charset=utf-8"})
    assert r.status_code == 201, r.text


def test_an_upload_without_a_file_says_so(api: TestClient) -> None:
    """A ``file`` form field that is text (no file name: a script's ``-F file=x``) read
    "Value error, Expected UploadFile, received: <class 'str'>"."""
    r = api.post("/api/transfers/upload", data={"source_id": "1", "file": "not a file"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == "file: send a file (a multipart part with a file name), not a text field"
    r = api.post("/api/transfers/upload", data={"source_id": "1"})
    assert r.status_code == 422 and "file: Field required" in r.json()["detail"], r.text


@pytest.mark.parametrize("ctype", ["application/json", "text/plain", None])
def test_a_form_route_says_it_takes_a_form(api: TestClient, ctype: str | None) -> None:
    """A JSON body to the upload form (a script's ``requests.post(url, json=…)``) read
    "file: Field required; source_id: Field required" — fields it had sent: now a 415
    that names the type to send (RFC 9110 §15.5.16)."""
    headers = {"content-type": ctype} if ctype else {}
    r = api.post("/api/transfers/upload", content=json.dumps({"source_id": 1, "folder": "x"}), headers=headers)
    assert r.status_code == 415, r.text
    assert "multipart/form-data" in r.json()["detail"], r.text
    if ctype:
        assert ctype in r.json()["detail"], r.text
