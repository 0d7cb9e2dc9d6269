"""Jellyfin logins per device, over real HTTP (the production server): a new login of
a user from a DeviceId replaces that device's session (Jellyfin's SessionManager logs
the old access token out), ``/Sessions`` names the app from its login when later
requests carry only the token, and an app whose DeviceId holds a session of the
account is not held back by others' failures at that account."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api.live_server import production_server

from reelhouse.core import Core
from reelhouse.jellyfin.auth import ClientInfo, device_label, stored_client

from helpers import ADMIN, ADMIN_PASSWORD, admin_core


def _auth(device_id: str, token: str = "") -> str:
    return (f'MediaBrowser Client="Jellyfin Web", Device="Firefox", DeviceId="{device_id}", '
            f'Version="10.9.11", Token="{token}"')


def _login(c: httpx.Client, name: str, password: str, device_id: str,
           address: str = "127.0.0.1") -> httpx.Response:
    return c.post("/jellyfin/Users/AuthenticateByName", json={"Username": name, "Pw": password},
                  headers={"authorization": _auth(device_id), "x-forwarded-for": address})


def _token(r: httpx.Response) -> str:
    assert r.status_code == 200, r.text
    return str(r.json()["AccessToken"])


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Core, httpx.Client]]:
    with admin_core(tmp_path / "data") as core, production_server(core) as port, \
            httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
        yield core, c


def test_a_new_login_from_a_device_replaces_its_session(live: tuple[Core, httpx.Client]) -> None:
    core, c = live
    friend = core.users.add("friend", "friend-password")
    first = _token(_login(c, ADMIN, ADMIN_PASSWORD, "tv-1"))
    other = _token(_login(c, ADMIN, ADMIN_PASSWORD, "phone-1"))
    friends = _token(_login(c, "friend", "friend-password", "tv-1"))  # another user on the TV
    second = _token(_login(c, "Admin", ADMIN_PASSWORD, "tv-1"))
    me = "/jellyfin/Users/Me"
    assert c.get(me, headers={"x-emby-token": first}).status_code == 401  # replaced
    assert c.get(me, headers={"x-emby-token": second}).status_code == 200
    assert c.get(me, headers={"x-emby-token": other}).status_code == 200  # another device
    assert c.get(me, headers={"x-emby-token": friends}).status_code == 200  # another user
    admin = core.users.by_name(ADMIN).id
    devices = sorted(s.device for s in core.auth_sessions.list(admin) if s.kind == "jellyfin")
    assert devices == ["Firefox (phone-1)", "Firefox (tv-1)"]
    assert len(core.auth_sessions.list(friend.id)) == 1


def test_sessions_names_the_app_from_its_login(live: tuple[Core, httpx.Client]) -> None:
    _, c = live
    token = _token(_login(c, ADMIN, ADMIN_PASSWORD, "tv-1"))
    r = c.get("/jellyfin/Sessions", headers={"x-emby-token": token})  # the token alone
    assert r.status_code == 200, r.text
    [session] = r.json()
    assert (session["Client"], session["DeviceName"], session["DeviceId"], session["ApplicationVersion"]) \
        == ("Jellyfin Web", "Firefox", "tv-1", "10.9.11")
    r = c.get("/jellyfin/Sessions", headers={"authorization": _auth("tv-1", token).replace("Firefox", "Edge")})
    assert r.json()[0]["DeviceName"] == "Edge"  # this request's header wins


def test_a_known_device_is_not_locked_out_by_others(live: tuple[Core, httpx.Client]) -> None:
    core, c = live
    core.login_throttle._clock = lambda: 1000.0  # the friend's wait never ends here
    _token(_login(c, ADMIN, ADMIN_PASSWORD, "admins-tv", "192.168.1.10"))
    for i in range(20):  # the friend, from 20 addresses
        assert _login(c, ADMIN, "guess-guess", "friends-phone", f"10.1.0.{i + 1}").status_code == 401
    r = _login(c, ADMIN, ADMIN_PASSWORD, "new-phone", "192.168.1.11")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1, r.text
    _token(_login(c, ADMIN, ADMIN_PASSWORD, "admins-tv", "192.168.1.10"))


@pytest.mark.parametrize(("device", "device_id", "label"), [
    ("Firefox", "tv-1", "Firefox (tv-1)"),
    (None, "tv-1", "(tv-1)"),
    ("Firefox", None, "Firefox"),
    ("F" * 200, "tv-1", "F" * 121 + " (tv-1)"),  # the name is cut, the id stays whole
    ("Firefox", "i" * 120, ("Firefox (" + "i" * 120)[:128]),  # an id of 120: cut, not found again
])
def test_device_label(device: str | None, device_id: str | None, label: str) -> None:
    info = ClientInfo(device=device, device_id=device_id)
    assert device_label(info) == label and len(label) <= 128
    if device_id and len(device_id) < 100:
        assert stored_client(label, "Jellyfin Web 10.9.11") == ClientInfo(
            client="Jellyfin Web", device=device[:121] if device else None, device_id=device_id,
            version="10.9.11")


def test_stored_client_without_a_version() -> None:
    assert stored_client("Kodi", "JellyCon") == ClientInfo(client="JellyCon", device="Kodi")
