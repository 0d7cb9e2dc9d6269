"""The login page as an attacker would try it: ``next`` never leaves the site (GET,
POST and the redirect of a page asked for while logged out), the session cookie's
flags (``Secure`` also behind a TLS proxy without ``public_urls``), and the CSRF
proof of the logout form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from fastapi.testclient import TestClient

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.server import create_app

PASSWORD = "a long password"
OFFSITE = ["//evil.example/", "/\\evil.example", "\\\\evil.example", "https://evil.example/",
           "http:evil.example", "/\t/evil.example", "/\n/evil.example", "javascript:alert(1)",
           " //evil.example", "/\x7f/evil.example", "//evil.example@testserver/", "", "evil"]


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    core = Core(load_settings(data_dir=tmp_path / "data"))
    core.users.add("ann", PASSWORD)
    yield core
    core.close()


def _stays_here(location: str) -> bool:
    """A Location a browser resolves on this site (a path, not ``//host`` or ``/\\host``)."""
    target = unquote(location)
    parts = urlsplit(location)
    return (not parts.scheme and not parts.netloc and location.startswith("/")
            and not target.startswith(("//", "/\\")) and "\t" not in target)


def test_next_never_leaves_the_site(core: Core) -> None:
    with TestClient(create_app(core)) as anon:
        for bad in OFFSITE:
            page = anon.get("/login", params={"next": bad})
            assert page.status_code == 200
            assert 'name="next" value="/"' in page.text, bad
            r = anon.post("/login", data={"username": "ann", "password": PASSWORD, "next": bad},
                          follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"] == "/", bad
            logged_in = anon.get("/login", params={"next": bad}, follow_redirects=False)
            assert logged_in.status_code == 303 and logged_in.headers["location"] == "/", bad
            anon.post("/logout", headers={"origin": "http://testserver"})
        # a page asked for while logged out comes back after the login, and only it
        r = anon.get("/movies/1?x=%22%3E%3Cscript%3E", follow_redirects=False)
        assert r.status_code == 303 and _stays_here(unquote(r.headers["location"].split("next=", 1)[1]))
        wanted = "/?q=a&genre=%22%3E"
        r = anon.post("/login", data={"username": "ann", "password": PASSWORD, "next": wanted},
                      follow_redirects=False)
        assert r.headers["location"] == wanted
        r = anon.get("//evil.example/x", follow_redirects=False)  # a path that looks like a host
        assert r.status_code in (303, 404)
        if r.status_code == 303:
            assert r.headers["location"].startswith("/login?next=%2F") and "next=%2F%2F" not in r.headers["location"]


def _cookie(r: object) -> str:
    header: str = r.headers["set-cookie"]  # type: ignore[attr-defined]
    assert header.startswith("reelhouse_session=")
    return header.lower()


def test_session_cookie_flags(core: Core) -> None:
    with TestClient(create_app(core)) as http:
        r = http.post("/login", data={"username": "ann", "password": PASSWORD}, follow_redirects=False)
        flags = _cookie(r)
        assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
        assert "secure" not in flags  # plain http: a Secure cookie would never come back
    # behind a TLS proxy (uvicorn reads X-Forwarded-Proto from it): the request is https
    with TestClient(create_app(core), base_url="https://media.example") as https:
        r = https.post("/login", data={"username": "ann", "password": PASSWORD}, follow_redirects=False)
        assert "; secure" in _cookie(r)
        r = https.post("/api/auth/login", json={"username": "ann", "password": PASSWORD},
                       headers={"origin": "https://media.example"})
        assert "; secure" in _cookie(r)
        r = https.post("/logout", headers={"origin": "https://media.example"}, follow_redirects=False)
        assert "; secure" in _cookie(r) and "max-age=0" in _cookie(r)


def test_secure_cookies_setting_wins(tmp_path: Path) -> None:
    core = Core(load_settings(data_dir=tmp_path / "data", secure_cookies=False))
    try:
        core.users.add("ann", PASSWORD)
        with TestClient(create_app(core), base_url="https://media.example") as https:
            r = https.post("/login", data={"username": "ann", "password": PASSWORD}, follow_redirects=False)
            assert "secure" not in _cookie(r)
    finally:
        core.close()


def test_logout_form_needs_same_origin_or_its_token(core: Core) -> None:
    """A cross-site page cannot log a user out (a POST with a foreign Origin, or with no
    proof at all); the page's own form (its hidden csrf_token) can."""
    with TestClient(create_app(core)) as c:
        c.post("/login", data={"username": "ann", "password": PASSWORD})
        assert c.post("/logout", headers={"origin": "http://evil.example"}).status_code == 403
        assert c.post("/logout", headers={"sec-fetch-site": "cross-site"}).status_code == 403
        assert c.post("/logout").status_code == 403
        assert c.get("/account").status_code == 200  # still logged in
        html = c.get("/account").text
        token = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        assert token and f'<meta name="csrf-token" content="{token}">' in html
        r = c.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert c.get("/account", follow_redirects=False).status_code == 303
