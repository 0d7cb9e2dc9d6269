"""Server-side sessions: create, resolve, lifetimes, revocation; playback tokens bound
to the session that issued them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from reelhouse.api.session_cookie import SESSION_COOKIE
from reelhouse.auth.sessions import SessionService
from reelhouse.core import Core
from reelhouse.db.models import MediaFile
from reelhouse.errors import AuthenticationFailed, NotFound
from reelhouse.server import create_app

from helpers import ADMIN, ADMIN_PASSWORD, ENGINES


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_create_resolve_revoke(core: Core) -> None:
    uid = core.users.by_name(ADMIN).id
    token, info = core.auth_sessions.create(uid, kind="jellyfin", device="Pixel 8",
                                            client="Jellyfin Android", address="10.0.0.5")
    assert token.startswith("rhs_") and len(token) > 40
    user, again = core.auth_sessions.resolve(token)
    assert user.id == uid and again.id == info.id and again.device == "Pixel 8"
    assert again.client == "Jellyfin Android" and again.kind == "jellyfin"
    assert [s.id for s in core.auth_sessions.list(uid)] == [info.id]
    core.auth_sessions.revoke(info.id)
    with pytest.raises(AuthenticationFailed):
        core.auth_sessions.resolve(token)
    with pytest.raises(NotFound):
        core.auth_sessions.revoke(info.id)


def test_the_database_keeps_no_token(core: Core) -> None:
    token, _ = core.auth_sessions.create(1)
    with core.engine.connect() as conn:
        rows = conn.exec_driver_sql("select token_hash from auth_sessions").all()
    assert rows and all(token not in r[0] and len(r[0]) == 64 for r in rows)


@pytest.mark.parametrize("core", ENGINES, indirect=True)
def test_expired_sessions_are_deleted(core: Core) -> None:
    """Sessions of devices that never come back were kept for ever (only a use of the
    token deleted an expired row); now the first login of a process, and one every
    PURGE_SECONDS after, deletes every expired session (idle or absolute)."""
    clock = Clock()
    svc = SessionService(core.sessions, absolute_ttl=1000, idle_ttl=100, clock=clock)
    _, idle = svc.create(1)
    used, kept = svc.create(1)
    clock.now += 70
    svc.resolve(used)  # touched (70 s >= TOUCH_SECONDS): idle for 40 s below
    clock.now += 40
    assert {i.id for i in svc.list()} == {idle.id, kept.id}  # the idle one is still a row
    _, new = SessionService(core.sessions, absolute_ttl=1000, idle_ttl=100, clock=clock).create(1)
    assert {i.id for i in svc.list()} == {kept.id, new.id}
    clock.now += 2000  # past the absolute lifetime of both
    assert svc.purge_expired() == 2 and svc.list() == []
    assert svc.purge_expired() == 0


def test_idle_and_absolute_lifetimes(core: Core) -> None:
    clock = Clock()
    svc = SessionService(core.sessions, absolute_ttl=1000, idle_ttl=100, clock=clock)
    token, info = svc.create(1)
    clock.now += 90
    svc.resolve(token)  # used: the idle timer starts again (touch every 60 s at most)
    clock.now += 90
    svc.resolve(token)
    clock.now += 101
    with pytest.raises(AuthenticationFailed, match="expired"):
        svc.resolve(token)
    token, info = svc.create(1)
    for _ in range(14):  # kept busy, it still ends at the absolute lifetime
        clock.now += 70
        svc.resolve(token)
    with pytest.raises(AuthenticationFailed):
        clock.now += 70
        svc.resolve(token)
    assert not svc.is_live(info.id)


def test_password_change_disable_delete_end_sessions(core: Core) -> None:
    core.users.add("friend", "friend-password")
    fid = core.users.by_name("friend").id
    a, _ = core.auth_sessions.create(fid)
    core.users.set_password("friend", "another-password")
    with pytest.raises(AuthenticationFailed):
        core.auth_sessions.resolve(a)
    b, info = core.auth_sessions.create(fid)
    from reelhouse.auth.users import UserChange

    core.users.update(fid, UserChange(disabled=True))
    with pytest.raises(AuthenticationFailed):
        core.auth_sessions.resolve(b)
    assert not core.auth_sessions.is_live(info.id)
    with pytest.raises(AuthenticationFailed, match="disabled"):
        core.users.authenticate("friend", "another-password")
    core.users.update(fid, UserChange(disabled=False))
    c, _ = core.auth_sessions.create(fid)
    core.users.remove(fid)
    with pytest.raises(AuthenticationFailed):
        core.auth_sessions.resolve(c)


def test_change_own_password_keeps_this_session(core: Core) -> None:
    uid = core.users.by_name(ADMIN).id
    keep, kept = core.auth_sessions.create(uid)
    other, _ = core.auth_sessions.create(uid)
    with pytest.raises(AuthenticationFailed):
        core.users.change_own_password(uid, "wrong-password", "new-password-1", kept.id)
    core.users.change_own_password(uid, ADMIN_PASSWORD, "new-password-1", kept.id)
    core.auth_sessions.resolve(keep)
    with pytest.raises(AuthenticationFailed):
        core.auth_sessions.resolve(other)


def test_logout_revokes_cookie_and_bearer(core: Core) -> None:
    with TestClient(create_app(core)) as browser, TestClient(create_app(core)) as other:
        r = browser.post("/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
        token = r.json()["token"]
        assert browser.cookies[SESSION_COOKIE] == token
        bearer = {"authorization": f"Bearer {token}"}
        assert other.get("/api/auth/me", headers=bearer).status_code == 200
        r = browser.post("/api/auth/logout", headers={"origin": "http://testserver"})
        assert r.status_code == 204
        assert other.get("/api/auth/me", headers=bearer).status_code == 401
        other.cookies.set(SESSION_COOKIE, token)
        assert other.get("/api/auth/me").status_code == 401


def test_playback_token_dies_with_its_session_and_user(core: Core, client: TestClient,
                                                       tmp_path: object) -> None:
    core.users.add("friend", "friend-password")
    fid = core.users.by_name("friend").id
    _, info = core.auth_sessions.create(fid)
    token = core.signer.playback(fid, 7, f"s:{info.id}")
    assert core.auth.check_playback(token, 7) == fid
    with pytest.raises(AuthenticationFailed):
        core.auth.check_playback(token, 8)  # another file
    forged = core.signer.playback(fid, 7, "s:999")  # a session that does not exist
    with pytest.raises(AuthenticationFailed):
        core.auth.check_playback(forged, 7)
    other_user = core.signer.playback(1, 7, f"s:{info.id}")  # someone else's session
    with pytest.raises(AuthenticationFailed):
        core.auth.check_playback(other_user, 7)
    core.auth_sessions.revoke(info.id)
    with pytest.raises(AuthenticationFailed):
        core.auth.check_playback(token, 7)
    _, info = core.auth_sessions.create(fid)
    token = core.signer.playback(fid, 7, f"s:{info.id}")
    core.auth.check_playback(token, 7)
    core.users.remove(fid)
    with pytest.raises(AuthenticationFailed):
        core.auth.check_playback(token, 7)


def test_playback_token_dies_with_the_source_grant(core: Core, client: TestClient) -> None:
    """A playback URL (6 h) kept streaming a file after an admin took its source away
    from the user; now it is refused at once, on the cached path too, through the API
    (and Jellyfin's ``core.auth.check_playback``), and works again with the grant."""
    from party.support import add_media_file

    from reelhouse.auth.users import UserChange

    file_id = add_media_file(core)
    with core.sessions() as s:
        source_id = s.get(MediaFile, file_id).source_id  # type: ignore[union-attr]
    friend = core.users.add("friend", "friend-password")
    core.users.update(friend.id, UserChange(restrict_sources=True, sources=[source_id]))
    _, info = core.auth_sessions.create(friend.id)
    token = core.signer.playback(friend.id, file_id, f"s:{info.id}")
    url = f"/api/library/media-files/{file_id}/stream"
    with TestClient(create_app(core), raise_server_exceptions=False) as anon:
        for _ in range(2):  # the second one from the caches
            assert core.auth.check_playback(token, file_id) == friend.id
            assert anon.get(url, params={"token": token}).status_code != 401
        core.users.update(friend.id, UserChange(sources=[]))
        for _ in range(2):
            with pytest.raises(AuthenticationFailed, match="no longer"):
                core.auth.check_playback(token, file_id)
            r = anon.get(url, params={"token": token})
            assert r.status_code == 401 and "no longer" in r.json()["detail"], r.text
        core.users.update(friend.id, UserChange(sources=[source_id]))
        assert core.auth.check_playback(token, file_id) == friend.id


def test_sessions_api(core: Core, client: TestClient) -> None:
    core.users.add("friend", "friend-password")
    fid = core.users.by_name("friend").id
    theirs, their_info = core.auth_sessions.create(fid, device="phone")
    mine = client.get("/api/auth/sessions").json()
    assert len(mine) == 1 and mine[0]["current"] is True and "token" not in mine[0]
    with TestClient(create_app(core)) as friend:
        friend.headers["authorization"] = f"Bearer {theirs}"
        spare, _ = core.auth_sessions.create(fid, device="laptop")
        listed = friend.get("/api/auth/sessions").json()
        assert {s["device"] for s in listed} == {"phone", "laptop"}
        # a user cannot end someone else's session: 404, not 403
        assert friend.delete(f"/api/auth/sessions/{mine[0]['id']}").status_code == 404
        assert friend.get("/api/auth/sessions?all=true").json() == listed  # not an admin
        assert friend.post("/api/auth/sessions/revoke-others").json() == {"ended": 1}
        with pytest.raises(AuthenticationFailed):
            core.auth_sessions.resolve(spare)
        # an admin may end anyone's
        assert client.delete(f"/api/auth/sessions/{their_info.id}").status_code == 204
        assert friend.get("/api/auth/me").status_code == 401


def test_api_key_playback_token_dies_with_the_key(core: Core) -> None:
    key, info = core.api_keys.create(1, "script")
    identity = core.auth.identify(key)
    assert identity.api_key_id == info.id and identity.grant == f"k:{info.id}"
    token = core.auth.playback_token(identity, 5)
    assert core.auth.check_playback(token, 5) == 1
    core.api_keys.revoke(info.id)
    with pytest.raises(AuthenticationFailed):
        core.auth.check_playback(token, 5)
    with pytest.raises(AuthenticationFailed):
        core.auth.identify(key)
