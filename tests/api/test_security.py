"""The outer guard: CSRF (Origin / Sec-Fetch-Site) for cookie auth, body limits,
uploads authenticated before their body, security headers, /docs without a CDN,
and WebSocket hardening on a real uvicorn server (Origin, frame size, rate, binary)."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from api.live_server import production_server
from fastapi.testclient import TestClient
from party.support import add_media_file
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from reelhouse.api.security import CSP
from reelhouse.api.ws_limits import CONNECTS_PER_SECOND
from reelhouse.core import Core
from reelhouse.server import create_app

from helpers import ADMIN, ADMIN_PASSWORD, session_token

ORIGIN = "http://testserver"


@pytest.fixture
def browser(core: Core) -> Iterator[TestClient]:
    """A client authenticated by the session cookie only, as a browser is."""
    with TestClient(create_app(core)) as c:
        r = c.post("/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
        assert r.status_code == 200
        yield c


def test_cookie_state_change_needs_same_origin(browser: TestClient, tmp_path: Path) -> None:
    body = {"name": "disk", "kind": "local", "path": str(tmp_path)}
    r = browser.post("/api/sources", json=body)  # neither Origin nor Sec-Fetch-Site
    assert r.status_code == 403 and "cross-site" in r.json()["detail"]
    for evil in ("http://testserver:8421", "http://evil.example", "null", "https://testserver"):
        r = browser.post("/api/sources", json=body, headers={"origin": evil})
        assert r.status_code == 403, evil
    r = browser.post("/api/sources", json=body, headers={"sec-fetch-site": "cross-site"})
    assert r.status_code == 403
    r = browser.post("/api/sources", json=body, headers={"sec-fetch-site": "same-site"})
    assert r.status_code == 403
    assert browser.post("/api/sources", json=body, headers={"origin": ORIGIN}).status_code == 201
    body["name"] = "disk2"
    r = browser.post("/api/sources", json=body, headers={"sec-fetch-site": "same-origin"})
    assert r.status_code == 201
    assert browser.get("/api/sources").status_code == 200  # reads need no proof
    r = browser.post("/logout")  # the web form too
    assert r.status_code == 403


def test_configured_public_url_is_an_origin(core: Core, tmp_path: Path) -> None:
    core.settings.public_urls = ["https://media.example.org"]
    with TestClient(create_app(core), base_url="https://testserver") as c:  # Secure cookie: https
        c.post("/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
        r = c.post("/api/auth/sessions/revoke-others", headers={"origin": "https://media.example.org"})
        assert r.status_code == 200
        r = c.post("/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD},
                   headers={"origin": "https://media.example.org"})
        assert "secure" in r.headers["set-cookie"].lower()


def test_bearer_requests_need_no_origin(client: TestClient, tmp_path: Path) -> None:
    r = client.post("/api/sources", json={"name": "d", "kind": "local", "path": str(tmp_path)},
                    headers={"origin": "http://evil.example"})
    assert r.status_code == 201


def test_login_csrf_refused(anon: TestClient) -> None:
    r = anon.post("/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD},
                  headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    r = anon.post("/login", data={"username": ADMIN, "password": ADMIN_PASSWORD},
                  headers={"origin": "http://evil.example"}, follow_redirects=False)
    assert r.status_code == 403


def test_security_headers(anon: TestClient) -> None:
    for path in ("/api/health", "/login", "/static/app.css", "/api/auth/me", "/docs"):
        r = anon.get(path)
        assert r.headers["content-security-policy"] == CSP, path
        assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP.split("script-src")[1].split(";")[0]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_docs_are_served_without_a_cdn(anon: TestClient) -> None:
    page = anon.get("/docs").text
    assert "cdn" not in page.lower() and "<script>" not in page
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert anon.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert anon.get("/openapi.json").status_code == 200


def test_templates_have_no_inline_script() -> None:
    templates = Path(__file__).parents[2] / "reelhouse/web/templates"
    for page in templates.glob("*.html"):
        text = page.read_text()
        for tag in text.split("<script")[1:]:
            assert tag.lstrip().startswith("src="), page.name
        assert " onclick=" not in text and " onload=" not in text and "javascript:" not in text


def test_json_body_limit(core: Core, anon: TestClient, client: TestClient) -> None:
    big = b'{"username": "' + b"a" * (core.settings.json_body_limit + 10) + b'", "password": "x"}'
    r = anon.post("/api/auth/login", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "at most" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"username": "'
        for _ in range(100):
            yield b"a" * 65536
        yield b'", "password": "x"}'

    r = anon.post("/api/auth/login", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = client.post("/api/parties", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = anon.post("/login", data={"username": "a" * 300_000, "password": "x"})
    assert r.status_code == 413


def test_upload_is_authenticated_before_its_body(core: Core, anon: TestClient, tmp_path: Path) -> None:
    core.users.add("friend", "friend-password")
    friend = session_token(core, core.users.by_name("friend").id)
    spool = core.settings.data_dir / "spool"
    sent = {"n": 0}

    def body() -> Iterator[bytes]:
        for _ in range(64):
            sent["n"] += 1
            yield b"x" * 65536

    r = anon.put("/api/sources/1/files?path=a.bin", content=body())
    assert r.status_code == 401 and sent["n"] <= 1
    r = anon.put("/api/sources/1/files?path=a.bin", content=body(),
                 headers={"authorization": f"Bearer {friend}"})
    assert r.status_code == 403
    r = anon.post("/api/transfers/upload", files={"file": ("a.bin", b"x" * 1000)},
                  data={"source_id": "1"}, headers={"authorization": f"Bearer {friend}"})
    assert r.status_code == 403
    assert not spool.exists() or not any(spool.iterdir())


def test_upload_over_the_cap_leaves_nothing(core: Core, client: TestClient, tmp_path: Path) -> None:
    (tmp_path / "media").mkdir()
    sid = client.post("/api/sources", json={"name": "disk", "kind": "local",
                                            "path": str(tmp_path / "media")}).json()["id"]
    core.settings.upload_limit = 256 * 1024

    def body() -> Iterator[bytes]:
        for _ in range(16):
            yield b"x" * 65536

    r = client.put(f"/api/sources/{sid}/files?path=big.bin", content=body())
    assert r.status_code == 413 and "at most" in r.json()["detail"]
    r = client.post("/api/transfers/upload", files={"file": ("big.bin", b"x" * 400_000)},
                    data={"source_id": str(sid)})
    assert r.status_code == 413
    spool = core.settings.data_dir / "spool"
    assert not spool.exists() or not any(spool.iterdir())
    assert not (tmp_path / "media/big.bin").exists() and not any((tmp_path / "media").iterdir())
    r = client.put(f"/api/sources/{sid}/files?path=ok.bin", content=b"y" * 1000)
    assert r.status_code == 201 and (tmp_path / "media/ok.bin").stat().st_size == 1000


# -- WebSockets on a real server ----------------------------------------------------------
@pytest.fixture
def live(core: Core) -> Iterator[tuple[int, str, str]]:
    """(port, admin token, party code) of a uvicorn server (the production config)."""
    with production_server(core) as port:
        token = session_token(core, 1)
        info = core.parties.create(core.users.get_or_404(1), add_media_file(core), "host")
        yield port, token, info.code


def _ws(port: int, code: str, token: str, origin: str | None) -> object:
    headers = {"cookie": f"reelhouse_session={token}"}
    return connect(f"ws://127.0.0.1:{port}/api/parties/{code}/ws", additional_headers=headers,
                   origin=origin, open_timeout=20)  # type: ignore[arg-type]


def test_websocket_origin(live: tuple[int, str, str]) -> None:
    port, token, code = live
    with pytest.raises(InvalidStatus) as err:
        _ws(port, code, token, f"http://127.0.0.1:{port + 1}")
    assert err.value.response.status_code == 403
    with _ws(port, code, token, f"http://127.0.0.1:{port}") as ws:  # type: ignore[attr-defined]
        assert json.loads(ws.recv(timeout=20))["type"] == "welcome"


def test_websocket_message_size_binary_and_rate(live: tuple[int, str, str]) -> None:
    port, token, code = live
    origin = f"http://127.0.0.1:{port}"
    with _ws(port, code, token, origin) as ws:  # type: ignore[attr-defined]
        ws.recv(timeout=20)
        ws.send(json.dumps({"type": "ping", "t0": 1, "pad": "x" * 8000}))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=20)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    with _ws(port, code, token, origin) as ws:  # type: ignore[attr-defined]
        ws.recv(timeout=20)
        ws.send(os.urandom(100))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=20)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1003
    with _ws(port, code, token, origin) as ws:  # type: ignore[attr-defined]
        ws.recv(timeout=20)
        with pytest.raises(ConnectionClosed) as closed:
            for i in range(500):
                ws.send(json.dumps({"type": "ping", "t0": i}))
            while True:
                ws.recv(timeout=20)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    with _ws(port, code, token, origin) as ws:  # the server is fine afterwards
        assert json.loads(ws.recv(timeout=20))["type"] == "welcome"  # type: ignore[attr-defined]


def test_a_reconnect_storm_is_refused(live: tuple[int, str, str]) -> None:
    """A member reconnecting in a loop (24 sockets a second, each closed at once) sent
    every other member a join and a leave for each, 48 messages a second. Now a user's
    new sockets have a budget: twice ``ws_connections_per_user`` at once, then one a
    second; past it a socket closes with 1008 before anyone hears of it."""
    port, token, code = live
    origin = f"http://127.0.0.1:{port}"
    burst = 2 * 16  # ws_connections_per_user's default
    started = time.monotonic()
    accepted = 0
    refusal = None
    for _ in range(burst + 200):
        with _ws(port, code, token, origin) as ws:  # type: ignore[attr-defined]
            try:
                assert json.loads(ws.recv(timeout=5))["type"] == "welcome"
                accepted += 1
            except ConnectionClosed as exc:
                refusal = exc.rcvd
                break
    assert refusal is not None and refusal.code == 1008 and "too often" in refusal.reason
    # the budget refills at one a second, whatever the machine's speed
    assert accepted <= burst + (time.monotonic() - started) * CONNECTS_PER_SECOND + 1


def test_websocket_limits_hold_per_user(live: tuple[int, str, str]) -> None:
    """The message rate held per connection only, and connections were unlimited: one
    user with 100 sockets could send 100x the rate (each a database write and a
    broadcast). Now a user holds at most ``ws_connections_per_user`` sockets (the next
    is closed with 1008) and their messages share one bucket."""
    port, token, code = live
    origin = f"http://127.0.0.1:{port}"
    opened = [_ws(port, code, token, origin) for _ in range(16)]
    try:
        for ws in opened:
            assert json.loads(ws.recv(timeout=20))["type"] == "welcome"  # type: ignore[attr-defined]
        with _ws(port, code, token, origin) as extra:  # type: ignore[attr-defined]
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    extra.recv(timeout=20)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            assert "connections" in closed.value.rcvd.reason
        codes = []
        # 15 x 12 messages at once: each socket under the burst of 40 (a bucket per socket
        # would close none), together past it even if a loaded machine spreads them over
        # 7 s of refill (20/s); 5 x 12 left one second
        for ws in opened[:15]:
            for i in range(12):
                with contextlib.suppress(ConnectionClosed):
                    ws.send(json.dumps({"v": 1, "type": "ping", "t0": i}))  # type: ignore[attr-defined]
        for ws in opened[:15]:
            pongs = 0
            with contextlib.suppress(ConnectionClosed):
                while pongs < 12:  # every ping answered, or the socket closed
                    msg = json.loads(ws.recv(timeout=20))  # type: ignore[attr-defined]
                    pongs += msg["type"] == "pong"
            codes.append(ws.close_code)  # type: ignore[attr-defined]
        assert 1008 in codes, codes
    finally:
        for ws in opened:
            ws.close()  # type: ignore[attr-defined]
    with _ws(port, code, token, origin) as ws:  # room again once they are closed
        assert json.loads(ws.recv(timeout=20))["type"] == "welcome"  # type: ignore[attr-defined]


def test_csrf_token_stands_in_when_origin_headers_are_missing(core: Core, browser: TestClient) -> None:
    """An old browser or a privacy proxy may send neither Origin nor Sec-Fetch-Site:
    then the session's CSRF token (form field or X-CSRF-Token) proves the request."""
    session = browser.cookies["reelhouse_session"]
    good = core.signer.csrf_token(session)
    assert browser.post("/api/auth/sessions/revoke-others").status_code == 403
    r = browser.post("/api/auth/sessions/revoke-others", headers={"x-csrf-token": "0" * 32})
    assert r.status_code == 403
    r = browser.post("/api/auth/sessions/revoke-others", headers={"x-csrf-token": good})
    assert r.status_code == 200
    # a foreign Origin is never rescued by a token
    r = browser.post("/api/auth/sessions/revoke-others",
                     headers={"x-csrf-token": good, "origin": "http://evil.example"})
    assert r.status_code == 403
    page = browser.get("/account").text
    assert f'name="csrf_token" value="{good}"' in page  # the logout form carries it
    r = browser.post("/logout", data={"csrf_token": "wrong"}, follow_redirects=False)
    assert r.status_code == 403
    r = browser.post("/logout", data={"csrf_token": good}, follow_redirects=False)
    assert r.status_code == 303
    assert browser.get("/api/auth/me").status_code == 401  # the form's body reached the route
