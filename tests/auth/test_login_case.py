"""A user name logs in in any letter case, at every door (the API, the login form, the
Jellyfin API), on SQLite and PostgreSQL, over real HTTP (the production server)."""

from __future__ import annotations

import httpx
import pytest
from api.live_server import production_server

from reelhouse.core import Core

from helpers import ENGINES

JF_AUTH = 'MediaBrowser Client="test", Device="pytest", DeviceId="case-1", Version="1.0", Token=""'


@pytest.mark.parametrize("core", ENGINES, indirect=True)
def test_a_user_name_logs_in_in_any_letter_case(core: Core) -> None:
    """"ALICE" and "Alice" log in as "alice" (Unicode case folding: "STRASSE" as
    "straße"), at /api/auth/login, the /login form and Jellyfin's AuthenticateByName;
    a wrong password is still 401, and an unknown name too."""
    core.users.add("alice", "alice-password")
    core.users.add("straße", "street-password")
    with production_server(core) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
        for name, password in [("alice", "alice-password"), ("ALICE", "alice-password"),
                               ("Alice", "alice-password"), ("STRASSE", "street-password"),
                               ("Straße", "street-password")]:
            c.cookies.clear()  # each login from a fresh client (a cookie asks for an Origin)
            r = c.post("/api/auth/login", json={"username": name, "password": password})
            assert r.status_code == 200, (name, r.text)
            assert r.json()["user"]["name"] in ("alice", "straße"), r.text
            c.cookies.clear()
            r = c.post("/login", data={"username": name, "password": password, "next": "/"},
                       headers={"origin": f"http://127.0.0.1:{port}"})
            assert r.status_code == 303, (name, r.status_code, r.text[:300])
            r = c.post("/jellyfin/Users/AuthenticateByName", json={"Username": name, "Pw": password},
                       headers={"authorization": JF_AUTH})
            assert r.status_code == 200, (name, r.text)
            assert r.json()["User"]["Name"] in ("alice", "straße"), r.text
        c.cookies.clear()
        assert c.post("/api/auth/login", json={"username": "ALICE", "password": "wrong-password"}).status_code == 401
        assert c.post("/api/auth/login", json={"username": "ALICEX", "password": "alice-password"}).status_code == 401
        # creating "Alice" next to "alice" is a clear 409
        token = c.post("/api/auth/login", json={"username": "ADMIN", "password": "admin-password"}).json()["token"]
        r = c.post("/api/users", json={"name": "Alice", "password": "other-password"},
                   headers={"authorization": f"Bearer {token}"})
        assert r.status_code == 409 and "any letter case" in r.json()["detail"], r.text


def test_two_older_names_differing_in_case_need_the_exact_one(core: Core) -> None:
    """Names made before names were unique in any case ("bob" and "Bob"): each logs in
    by its exact name, and "BOB" (ambiguous) by neither."""
    from reelhouse.auth.users import UserChange
    from reelhouse.errors import AuthenticationFailed

    core.users.add("bob", "bob-password")
    other = core.users.add("robert", "robert-password")
    with core.sessions() as s:  # as an old database could hold them: straight into the table
        from reelhouse.db.models import User

        row = s.get(User, other.id)
        assert row is not None
        row.name = "Bob"
        s.commit()
    assert core.users.authenticate("bob", "bob-password").name == "bob"
    assert core.users.authenticate("Bob", "robert-password").name == "Bob"
    with pytest.raises(AuthenticationFailed):
        core.users.authenticate("BOB", "bob-password")
    assert core.users.login_name("BOB") == "BOB"
    core.users.update(other.id, UserChange(name="robert"))
    assert core.users.authenticate("BOB", "bob-password").name == "bob"
