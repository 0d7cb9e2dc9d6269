"""The login throttle behind a reverse proxy, over real HTTP (the production server:
uvicorn with ``trusted_proxies``): one friend guessing at one account no longer makes
everybody behind the same address wait, and ``X-Forwarded-For`` is believed only from
the configured proxies (else anybody could pick a fresh address for each guess)."""

from __future__ import annotations

from pathlib import Path

import httpx
from api.live_server import production_server

from helpers import ADMIN, ADMIN_PASSWORD, admin_core


def _login(c: httpx.Client, name: str, password: str, forwarded: str | None = None) -> httpx.Response:
    c.cookies.clear()
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    return c.post("/api/auth/login", json={"username": name, "password": password}, headers=headers)


def test_a_guesser_behind_a_shared_address_holds_back_only_the_guessed_account(tmp_path: Path) -> None:
    """A proxy that forwards no client address: every login comes from 127.0.0.1. The
    friend guessing at alice's password gets 429 after 5 misses; bob, and the admin, at
    the same address still log in; after 20 misses over several accounts the address
    waits as a whole."""
    with admin_core(tmp_path / "data") as core:
        core.users.add("alice", "alice-password")
        core.users.add("bob", "bob-password")
        core.login_throttle._clock = lambda: 1000.0  # a 1 s wait cannot pass on a loaded machine
        with production_server(core) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
            for _ in range(5):
                assert _login(c, "alice", "guess-guess").status_code == 401
            r = _login(c, "Alice", "guess-guess")
            assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1, r.text
            assert _login(c, "alice", "alice-password").status_code == 429  # the pair waits, right or wrong
            assert _login(c, "bob", "bob-password").status_code == 200
            assert _login(c, ADMIN, ADMIN_PASSWORD).status_code == 200
            for name in ("carol", "dave", "erin"):  # spraying names: 5 misses each
                for _ in range(5):
                    assert _login(c, name, "guess-guess").status_code == 401
            r = _login(c, "bob", "bob-password")  # 20 misses from the address: it waits now
            assert r.status_code == 429, r.text


def test_x_forwarded_for_is_believed_from_trusted_proxies_only(tmp_path: Path) -> None:
    """From a trusted proxy (127.0.0.1, the default, as nginx on the same machine) the
    client's address is the forwarded one: the throttle counts per real client and the
    session shows it. From any other peer the header is ignored: a guesser cannot get a
    fresh budget by sending a new X-Forwarded-For with each guess."""
    with admin_core(tmp_path / "data") as core:  # trusted_proxies: 127.0.0.1, ::1
        core.users.add("alice", "alice-password")
        core.login_throttle._clock = lambda: 1000.0  # a 1 s wait cannot pass on a loaded machine
        with production_server(core) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
            for _ in range(5):
                assert _login(c, "alice", "guess-guess", "203.0.113.7").status_code == 401
            assert _login(c, "alice", "guess-guess", "203.0.113.7").status_code == 429
            r = _login(c, "alice", "alice-password", "198.51.100.20, 203.0.113.8")  # proxy chain: last hop
            assert r.status_code == 200, r.text
            sessions = c.get("/api/auth/sessions", headers={"authorization": f"Bearer {r.json()['token']}"}).json()
            assert [s["address"] for s in sessions] == ["203.0.113.8"]
    with admin_core(tmp_path / "data2", trusted_proxies=["192.0.2.1"]) as core:  # not this peer
        core.users.add("alice", "alice-password")
        core.login_throttle._clock = lambda: 1000.0
        with production_server(core) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
            for i in range(5):
                assert _login(c, "alice", "guess-guess", f"203.0.113.{i}").status_code == 401
            r = _login(c, "alice", "guess-guess", "203.0.113.99")
            assert r.status_code == 429, r.text
            r = _login(c, "alice", "alice-password", "203.0.113.100")
            assert r.status_code == 429, r.text
            assert core.auth_sessions.list(None) == []
            r = _login(c, ADMIN, ADMIN_PASSWORD, "203.0.113.101")
            assert r.status_code == 200, r.text
            assert {s.address for s in core.auth_sessions.list(None)} == {"127.0.0.1"}
