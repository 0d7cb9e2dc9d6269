"""Authentication at the API edge: every endpoint but login and health needs a user;
login, bearer tokens, session cookies, admin-only routes."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from reelhouse.api.deps import SESSION_COOKIE
from reelhouse.core import Core
from reelhouse.server import create_app

from helpers import ADMIN, ADMIN_PASSWORD

PUBLIC = {("POST", "/api/auth/login"), ("GET", "/api/health"), ("POST", "/api/setup")}
# Logging out needs no login: it only clears the cookie (idempotent, harmless).
NO_AUTH_NEEDED = {("POST", "/api/auth/logout")}


def api_routes(core: Core) -> list[tuple[str, str]]:
    """(method, path) of every API operation, path parameters filled with 1.

    FastAPI 0.16x nests included routers in ``app.routes``, so the OpenAPI schema (built
    from every route) is the complete list; plain top-level routes are added as well."""
    app = create_app(core)
    out = set()
    for path, ops in app.openapi()["paths"].items():
        out |= {(m.upper(), path) for m in ops}
    for route in app.routes:
        if isinstance(route, APIRoute):
            out |= {(m, route.path) for m in route.methods}
    return sorted((m, re.sub(r"\{[^}]+\}", "1", p)) for m, p in out if p.startswith("/api"))


def test_every_endpoint_needs_auth(core: Core, anon: TestClient) -> None:
    routes = api_routes(core)
    assert len(routes) >= 15  # the walk found the routers
    checked = 0
    for method, path in routes:
        if (method, path) in PUBLIC | NO_AUTH_NEEDED:
            continue
        kw = {"json": {}} if method in ("POST", "PATCH", "PUT") else {}
        r = anon.request(method, path, **kw)  # type: ignore[arg-type]
        assert r.status_code == 401, (method, path, r.status_code, r.text)
        assert r.headers.get("www-authenticate") == "Bearer"
        if method != "HEAD":
            assert set(r.json()) == {"detail"}, (method, path)
        checked += 1
    assert checked >= 14


def test_public_endpoints(anon: TestClient) -> None:
    r = anon.get("/api/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert anon.post("/api/auth/logout").status_code == 204


def test_login_wrong_password_or_user(anon: TestClient) -> None:
    for body in ({"username": ADMIN, "password": "wrong-password"},
                 {"username": "nobody", "password": ADMIN_PASSWORD},
                 {"username": ADMIN, "password": ADMIN_PASSWORD.upper()}):
        r = anon.post("/api/auth/login", json=body)
        assert r.status_code == 401, body
        assert r.json() == {"detail": "wrong user name or password"}  # no user enumeration
        assert SESSION_COOKIE not in r.cookies


def test_login_bad_bodies_are_422(anon: TestClient) -> None:
    for body in ({}, {"username": ADMIN}, {"username": "", "password": "x"},
                 {"username": "x" * 65, "password": "x"}, {"username": 5, "password": []}):
        r = anon.post("/api/auth/login", json=body)
        assert r.status_code == 422, body
        assert isinstance(r.json()["detail"], str)
    r = anon.post("/api/auth/login", content=b"not json", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_login_bearer_and_cookie(core: Core, anon: TestClient) -> None:
    r = anon.post("/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == core.settings.session_ttl
    assert body["user"]["name"] == ADMIN and body["user"]["is_admin"] is True
    assert "password" not in r.text and "hash" not in r.text
    assert SESSION_COOKIE in anon.cookies  # the cookie alone authenticates
    assert anon.get("/api/auth/me").json()["name"] == ADMIN
    with TestClient(create_app(core)) as fresh:
        r = fresh.get("/api/auth/me", headers={"authorization": f"Bearer {body['token']}"})
        assert r.status_code == 200 and r.json()["name"] == ADMIN
        r = fresh.get("/api/auth/me", headers={"authorization": f"bearer   {body['token']} "})
        assert r.status_code == 200
    anon.post("/api/auth/logout", headers={"origin": "http://testserver"})
    assert anon.get("/api/auth/me").status_code == 401
    with TestClient(create_app(core)) as fresh:  # logout ended the session: bearer too
        r = fresh.get("/api/auth/me", headers={"authorization": f"Bearer {body['token']}"})
        assert r.status_code == 401


def test_bad_tokens(core: Core, anon: TestClient) -> None:
    token, _ = core.auth_sessions.create(1)
    playback = core.signer.playback(1, 1, "s:1")
    for header in (f"Bearer {token[:-2]}", f"Bearer {token}x", "Bearer ", "Basic YWRtaW46eA==",
                   f"Bearer {playback}", "Bearer a.b.c", token):
        r = anon.get("/api/auth/me", headers={"authorization": header})
        assert r.status_code == 401, header
    anon.cookies.set(SESSION_COOKIE, token[:-3] + "abc")
    assert anon.get("/api/auth/me").status_code == 401
    # a session whose user is gone
    core.users.add("ghost", "ghost-password")
    ghost, _ = core.auth_sessions.create(core.users.by_name("ghost").id)
    core.users.remove(core.users.by_name("ghost").id)
    r = anon.get("/api/auth/me", headers={"authorization": f"Bearer {ghost}"})
    assert r.status_code == 401


def test_non_admin(core: Core, client: TestClient, tmp_path: object) -> None:
    core.users.add("viewer", "viewer-password")
    with TestClient(create_app(core)) as viewer:
        r = viewer.post("/api/auth/login", json={"username": "viewer", "password": "viewer-password"})
        assert r.status_code == 200 and r.json()["user"]["is_admin"] is False
        body = {"name": "disk", "kind": "local", "path": "/tmp"}
        r = viewer.post("/api/sources", json=body)
        assert r.status_code == 403 and "detail" in r.json()
        sid = client.post("/api/sources", json=body).json()["id"]
        assert viewer.get("/api/sources").status_code == 200
        assert viewer.get(f"/api/sources/{sid}").status_code == 200
        assert viewer.patch(f"/api/sources/{sid}", json={"name": "x"}).status_code == 403
        assert viewer.delete(f"/api/sources/{sid}").status_code == 403
        assert client.get(f"/api/sources/{sid}").json()["name"] == "disk"
        assert viewer.get("/api/library/items").status_code == 200
