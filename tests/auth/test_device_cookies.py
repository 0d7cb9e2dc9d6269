"""Device cookies over real HTTP (the production server): a hostile friend failing at
the admin's account from many addresses holds every new browser at the account's
wait, but not the admin's own browser, which signed in before and carries the signed
device cookie (OWASP, "Slow Down Online Guessing Attacks with Device Cookies")."""

from __future__ import annotations

from pathlib import Path

import httpx
from api.live_server import production_server

from reelhouse.auth.devices import DEVICE_COOKIE, DeviceCookies
from reelhouse.auth.throttle import LoginThrottle

from helpers import ADMIN, ADMIN_PASSWORD, admin_core


def _login(c: httpx.Client, name: str, password: str, address: str) -> httpx.Response:
    return c.post("/api/auth/login", json={"username": name, "password": password},
                  headers={"x-forwarded-for": address, "origin": str(c.base_url).rstrip("/")})


def _lock_the_admin_out(c: httpx.Client) -> None:
    """The friend: 20 misses at the admin's account, each from another address (a
    botnet, or a phone hopping networks), so only the account's own key waits."""
    for i in range(20):
        c.cookies.clear()
        assert _login(c, ADMIN, "guess-guess", f"10.1.0.{i + 1}").status_code == 401


def test_a_friend_locking_the_account_does_not_lock_out_the_admins_browser(tmp_path: Path) -> None:
    with admin_core(tmp_path / "data") as core:
        core.login_throttle._clock = lambda: 1000.0  # the friend's wait never ends here
        with production_server(core) as port:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base) as admin, httpx.Client(base_url=base) as friend, \
                    httpx.Client(base_url=base) as new_browser:
                r = _login(admin, ADMIN, ADMIN_PASSWORD, "192.168.1.10")
                assert r.status_code == 200 and admin.cookies.get(DEVICE_COOKIE), r.headers
                assert "httponly" in r.headers.get_list("set-cookie")[-1].lower()
                _lock_the_admin_out(friend)
                r = _login(new_browser, ADMIN, ADMIN_PASSWORD, "192.168.1.11")
                assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1, r.text
                new_browser.cookies.set(DEVICE_COOKIE, "e30.forged.signature")  # a forged cookie: waits too
                assert _login(new_browser, ADMIN, ADMIN_PASSWORD, "192.168.1.11").status_code == 429
                r = _login(admin, ADMIN, ADMIN_PASSWORD, "192.168.1.10")  # cookie sent by the jar
                assert r.status_code == 200, r.text
                # the web form too, from the same browser (its jar holds the new device cookie)
                admin.cookies.delete("reelhouse_session")
                r = admin.post("/login", data={"username": ADMIN, "password": ADMIN_PASSWORD, "next": "/"},
                               headers={"x-forwarded-for": "192.168.1.10", "origin": base})
                assert r.status_code == 303, r.text
                # a success clears the account's count (as before): the friend starts again
                _lock_the_admin_out(friend)
                assert _login(new_browser, ADMIN, ADMIN_PASSWORD, "192.168.1.11").status_code == 429
                assert _login(admin, ADMIN, ADMIN_PASSWORD, "192.168.1.10").status_code == 200


def test_a_device_cookie_counts_its_own_failures_and_names_one_account(tmp_path: Path) -> None:
    with admin_core(tmp_path / "data") as core:
        core.users.add("friend", "friend-password")
        core.login_throttle._clock = lambda: 1000.0
        with production_server(core) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
            assert _login(c, "friend", "friend-password", "10.2.0.1").status_code == 200
            friends_cookie = c.cookies.get(DEVICE_COOKIE)
            c.cookies.clear()
            _lock_the_admin_out(c)
            c.cookies.set(DEVICE_COOKIE, friends_cookie)  # the friend's device, not the admin's
            assert _login(c, ADMIN, ADMIN_PASSWORD, "10.2.0.1").status_code == 429
            c.cookies.clear()
            assert _login(c, ADMIN, ADMIN_PASSWORD, "10.2.0.2").status_code == 429
            # the admin's browser mistyping five times from five addresses: it waits, by itself
            c.cookies.clear()
            core.login_throttle.succeeded(ADMIN)  # the account's key clean again
            assert _login(c, ADMIN, ADMIN_PASSWORD, "10.3.0.1").status_code == 200
            for i in range(5):
                assert _login(c, ADMIN, "typo", f"10.3.1.{i}").status_code == 401
            assert _login(c, ADMIN, ADMIN_PASSWORD, "10.3.2.1").status_code == 429


def test_device_cookies_are_signed_and_bound_to_an_account() -> None:
    cookies = DeviceCookies(b"k" * 32)
    value = cookies.issue("Admin")
    device = cookies.device_of(value, "admin")  # any letter case
    assert device is not None and device.startswith("web:")
    assert cookies.device_of(value, "bob") is None
    assert DeviceCookies(b"x" * 32).device_of(value, "admin") is None
    assert cookies.device_of(value[:-2] + "xx", "admin") is None
    assert cookies.device_of(None, "admin") is None and cookies.device_of("a" * 600, "admin") is None
    assert cookies.device_of(cookies.issue("admin"), "admin") != device  # a fresh id each login


def test_a_known_device_skips_the_account_key_only() -> None:
    t = LoginThrottle(free=5, shared_free=20, clock=lambda: 1000.0)
    for i in range(20):
        t.failed("admin", f"10.0.0.{i}")
    assert t.wait("user:admin", 20) > 0
    t.check("admin", "10.9.9.9", device="web:abc")  # no raise
    for _ in range(5):
        t.failed("admin", "10.9.9.9", device="web:abc")
    assert t.wait("device:web:abc") > 0 and t.wait("pair:10.9.9.9|admin") > 0
    assert t.wait("user:admin", 20) > 0  # the device's misses did not count for the account
