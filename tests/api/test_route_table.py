"""Authorization of EVERY route, as a table: (method, path) → the status an anonymous
client, a user and an admin get. The routes are enumerated from the app, so a new
route without a row here fails ``test_every_route_has_a_row``.

Statuses: a number is exact; ``OK`` means "allowed": under 500 and neither 401 nor
403 (the request may still be a 404/409/422 for the test's dummy body). ``O`` rows act
on another user's object: a user gets 404 (ids do not leak), an admin reaches it.
Requests use bearer tokens (fresh session per request); CSRF is its own sweep."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import get_args

import pytest
from api.route_walk import walk
from fastapi.testclient import TestClient
from party.support import add_media_file
from starlette.websockets import WebSocketDisconnect

from reelhouse.api.schemas import QueueEdit
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie, OfflineClaim, OfflineCopy, SourceRow, Transfer
from reelhouse.server import create_app

from helpers import session_token

OK = "ok"
P = (OK, OK, OK)  # public
U = (401, OK, OK)  # any logged-in user
A = (401, 403, OK)  # admins only
O = (401, 404, OK)  # another user's object: 404 for a user, reachable by an admin  # noqa: E741
PG = (303, OK, OK)  # a page: anonymous visitors go to /login
PGA = (303, 403, OK)  # an admin page

TABLE: dict[tuple[str, str], tuple[object, object, object]] = {
    ("GET", "/openapi.json"): P,
    ("HEAD", "/openapi.json"): P,
    ("GET", "/api/health"): P,
    ("GET", "/metrics"): U,
    ("POST", "/api/auth/login"): P,
    ("POST", "/api/auth/logout"): P,
    ("GET", "/api/auth/me"): U,
    ("POST", "/api/auth/password"): U,
    ("GET", "/api/auth/sessions"): U,
    ("DELETE", "/api/auth/sessions/{session_id}"): O,
    ("POST", "/api/auth/sessions/revoke-others"): U,
    ("GET", "/api/sources"): U,
    ("POST", "/api/sources"): A,
    ("GET", "/api/sources/{source_id}"): U,
    ("GET", "/api/sources/{source_id}/health"): U,
    ("POST", "/api/sources/{source_id}/test"): A,
    ("POST", "/api/sources/{source_id}/scan"): A,
    ("PATCH", "/api/sources/{source_id}"): A,
    ("GET", "/api/jobs"): A,
    ("POST", "/api/jobs/{job_id}/cancel"): A,
    ("GET", "/api/jobs/{job_id}"): A,
    ("GET", "/api/library/items"): U,
    ("GET", "/api/library/movies"): U,
    ("GET", "/api/library/movies/{movie_id}"): U,
    ("GET", "/api/library/shows"): U,
    ("GET", "/api/library/shows/{show_id}"): U,
    ("GET", "/api/library/media-files"): U,
    ("GET", "/api/library/media-files/{file_id}"): U,
    ("GET", "/api/library/continue"): U,
    ("GET", "/api/library/media-files/{file_id}/progress"): U,
    ("PUT", "/api/library/media-files/{file_id}/progress"): U,
    ("PUT", "/api/library/media-files/{file_id}/watched"): U,
    ("POST", "/api/library/media-files/{file_id}/playback"): U,
    ("GET", "/api/library/media-files/{file_id}/stream"): U,
    ("HEAD", "/api/library/media-files/{file_id}/stream"): U,
    ("GET", "/api/images/{image_id}"): U,
    ("GET", "/api/library/movies/{movie_id}/match"): (401, 503, 503),  # no TMDB key here
    ("PUT", "/api/library/movies/{movie_id}/match"): A,
    ("PATCH", "/api/library/movies/{movie_id}"): A,
    ("DELETE", "/api/library/movies/{movie_id}/lock"): A,
    ("POST", "/api/library/movies/{movie_id}/refresh"): A,
    ("GET", "/api/library/shows/{show_id}/match"): (401, 404, 404),
    ("PUT", "/api/library/shows/{show_id}/match"): A,
    ("PATCH", "/api/library/shows/{show_id}"): A,
    ("POST", "/api/library/shows/{show_id}/refresh"): A,
    ("DELETE", "/api/library/shows/{show_id}/lock"): A,
    ("GET", "/api/transfers"): U,
    ("POST", "/api/transfers"): U,
    ("POST", "/api/transfers/upload"): A,
    ("GET", "/api/transfers/{transfer_id}"): O,
    ("POST", "/api/transfers/{transfer_id}/cancel"): O,
    ("PUT", "/api/sources/{source_id}/files"): A,
    ("GET", "/api/offline"): U,  # the caller's own claims
    ("GET", "/api/offline/copies"): A,  # every copy and who keeps it
    ("DELETE", "/api/offline/copies/{copy_id}"): A,
    ("DELETE", "/api/offline/claims/{claim_id}"): O,  # "other"'s claim
    ("POST", "/api/library/movies/{movie_id}/offline"): U,
    # releases the caller's own claim (each kept the film in the row above)
    ("DELETE", "/api/library/movies/{movie_id}/offline"): U,
    ("POST", "/api/library/seasons/{season_id}/offline"): U,
    ("DELETE", "/api/library/seasons/{season_id}/offline"): (401, 404, 404),  # none kept
    ("POST", "/api/sources/{source_id}/sync"): A,
    ("GET", "/api/sources/{source_id}/syncs"): A,
    ("GET", "/api/syncs"): A,
    ("GET", "/api/syncs/{run_id}"): A,
    ("POST", "/api/library/media-files/{file_id}/playback/plan"): U,
    ("GET", "/api/library/media-files/{file_id}/hls/master.m3u8"): U,
    ("GET", "/api/library/media-files/{file_id}/hls/{track}.m3u8"): U,
    ("GET", "/api/library/media-files/{file_id}/hls/{track}/{n}.ts"): U,
    ("GET", "/api/library/media-files/{file_id}/hls/subs/{key}.m3u8"): U,
    ("GET", "/api/library/media-files/{file_id}/hls/subs/{key}.vtt"): U,
    ("POST", "/api/library/media-files/{file_id}/prepare"): A,
    ("DELETE", "/api/library/media-files/{file_id}/prepare"): A,
    ("GET", "/api/library/media-files/{file_id}/subtitles"): U,
    ("POST", "/api/parties"): U,
    ("GET", "/api/parties"): U,
    ("GET", "/api/parties/{code}"): U,
    ("GET", "/api/parties/{code}/queue"): (401, 403, OK),  # members only (before the user joins below)
    ("POST", "/api/parties/{code}/queue"): (401, 403, OK),  # members only (before the user joins below)
    ("POST", "/api/parties/{code}/join"): U,
    ("POST", "/api/parties/{code}/end"): (401, 403, OK),  # the host only (the admin)
    ("POST", "/api/parties/{code}/leave"): U,  # 409 now: the party ended
    ("WS", "/api/parties/{code}/ws"): U,
    ("GET", "/api/users"): A,
    ("POST", "/api/users"): A,
    ("GET", "/api/users/{user_id}"): A,
    ("PATCH", "/api/users/{user_id}"): A,
    ("DELETE", "/api/users/{user_id}"): A,
    ("POST", "/api/setup"): P,  # only while no user exists: 409 (test_users_api.py)
    ("GET", "/api/keys"): A,
    ("POST", "/api/keys"): A,
    ("DELETE", "/api/keys/{key_id}"): A,
    ("GET", "/api/audit"): A,
    ("DELETE", "/api/sources/{source_id}"): A,
    ("MOUNT", "/static"): P,
    ("GET", "/login"): P,
    ("POST", "/login"): P,
    ("POST", "/logout"): P,
    ("GET", "/docs"): P,
    ("GET", "/"): PG,
    ("GET", "/movies/{movie_id:int}"): PG,
    ("GET", "/shows/{show_id:int}"): PG,
    ("GET", "/play/{file_id:int}"): PG,
    ("GET", "/settings/sources"): PG,
    ("GET", "/transfers"): PG,
    ("GET", "/party"): PG,
    ("GET", "/party/{code}"): PG,
    ("GET", "/setup"): (303, 303, 303),  # users exist: to /login
    ("POST", "/setup"): (303, 303, 303),  # users exist: nothing is created
    ("GET", "/account"): PG,
    ("GET", "/settings/users"): PGA,
    ("GET", "/settings/audit"): PGA,
}


@dataclass
class World:
    core: Core
    ids: dict[str, int]
    party: str


@pytest.fixture
def world(core: Core) -> Iterator[World]:
    core.users.add("friend", "friend-password")
    core.users.add("other", "other-password")
    core.users.add("victim", "victim-password")
    other = core.users.by_name("other").id
    file_id = add_media_file(core)
    with core.sessions() as s:
        spare = SourceRow(name="spare", kind="local", path="/nowhere-else")
        movie = Movie(title="Heat", year=1995, match_key="heat-1995")
        s.add_all([spare, movie])
        s.flush()
        mf = s.get(MediaFile, file_id)
        assert mf is not None
        mf.movie_id = movie.id
        transfer = Transfer(kind="download", source_id=mf.source_id, remote_path="film.mp4",
                            local_path=str(core.settings.store_dir / "x.mp4"), state="failed",
                            user_id=other)
        s.add(transfer)
        s.flush()
        copy = OfflineCopy(media_file_id=file_id, scope=f"movie:{movie.id}", local_path="offline/x",
                           size=1000, state="ready")
        s.add(copy)
        s.flush()
        claim = OfflineClaim(copy_id=copy.id, user_id=other)
        s.add(claim)
        s.commit()
        ids = {"file_id": file_id, "movie_id": movie.id, "source_id": spare.id,
               "transfer_id": transfer.id, "show_id": 999, "season_id": 999, "job_id": 999,
               "run_id": 999, "image_id": 999, "key_id": 999, "n": 0,
               "user_id": core.users.by_name("victim").id,
               "copy_id": copy.id, "claim_id": claim.id}
    _, session = core.auth_sessions.create(other)
    ids["session_id"] = session.id
    party = core.parties.create(core.users.get_or_404(1), file_id, "host")
    yield World(core, ids, party.code)


def _fill(path: str, world: World) -> str:
    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "code":
            return world.party
        if name in ("track", "key"):
            return "0"
        return str(world.ids[name])

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


def _ok(status: int) -> bool:
    return status < 500 and status not in (401, 403)


def test_every_route_has_a_row(core: Core) -> None:
    routes = set(walk(create_app(core).routes))
    assert routes - set(TABLE) == set(), "routes without a row in TABLE"
    assert set(TABLE) - routes == set(), "rows for routes that no longer exist"


def test_route_table(world: World) -> None:
    core = world.core
    users = {"anon": None, "user": core.users.by_name("friend").id, "admin": 1}
    problems = []
    with TestClient(create_app(core)) as c:
        for (method, path), expected in TABLE.items():
            url = _fill(path, world)
            for (role, uid), want in zip(users.items(), expected, strict=True):
                headers = {} if uid is None else {"authorization": f"Bearer {session_token(core, uid)}"}
                if method == "MOUNT":
                    status = c.get(url + "/app.css", headers=headers).status_code
                elif method == "WS":
                    status = _ws_status(c, url, headers)
                else:
                    kw: dict[str, object] = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
                    status = c.request(method, url, headers=headers, follow_redirects=False,
                                       **kw).status_code  # type: ignore[arg-type]
                good = _ok(status) if want == OK else status == want
                if not good:
                    problems.append(f"{method} {path} as {role}: {status}, expected {want}")
    assert not problems, "\n".join(problems)


#: Every op of ``POST /api/parties/{code}/queue`` (the body's ``op``: api/schemas/parties.py
#: QueueEdit) as (anonymous, a user who has not joined, a guest of the host-mode party, its
#: host): each op changes what the whole party plays, so only who steers it may.
QUEUE_OPS: dict[str, tuple[object, object, object, object]] = {
    "add": (401, 403, 403, OK),
    "move": (401, 403, 403, OK),
    "next": (401, 403, 403, OK),
    "previous": (401, 403, 403, OK),
    "play": (401, 403, 403, OK),
    "repeat": (401, 403, 403, OK),
    "shuffle": (401, 403, 403, OK),
    "remove": (401, 403, 403, OK),
}


def test_every_queue_op_has_a_row() -> None:
    ops = set(get_args(QueueEdit.model_fields["op"].annotation))
    assert ops == set(QUEUE_OPS), "queue ops without a row in QUEUE_OPS (or rows for gone ones)"


def test_queue_op_table(world: World) -> None:
    core = world.core
    url = f"/api/parties/{world.party}/queue"
    admin = {"authorization": f"Bearer {session_token(core, 1)}"}
    guest = {"authorization": f"Bearer {session_token(core, core.users.by_name('other').id)}"}
    roles = {"anon": {}, "user": {"authorization": f"Bearer {session_token(core, core.users.by_name('friend').id)}"},
             "guest": guest, "host": admin}
    problems = []
    with TestClient(create_app(core)) as c:
        assert c.post(f"/api/parties/{world.party}/join", headers=guest).status_code == 200
        entry = c.get(url, headers=admin).json()["items"][0]["playlist_item_id"]
        bodies = {"add": {"media_file_id": world.ids["file_id"]}, "move": {"playlist_item_id": entry, "index": 1},
                  "play": {"playlist_item_id": entry}, "remove": {"playlist_item_id": entry},
                  "repeat": {"repeat": "all"}, "shuffle": {"shuffle": True}}
        for op, expected in QUEUE_OPS.items():
            for (role, headers), want in zip(roles.items(), expected, strict=True):
                status = c.post(url, headers=headers, json={"op": op, **bodies.get(op, {})}).status_code
                if not (_ok(status) if want == OK else status == want):
                    problems.append(f"queue op {op} as {role}: {status}, expected {want}")
    assert not problems, "\n".join(problems)


def _ws_status(c: TestClient, url: str, headers: dict[str, str]) -> int:
    try:
        with c.websocket_connect(url, headers=headers) as ws:
            ws.receive_json()
            return 200
    except WebSocketDisconnect as exc:
        return {4401: 401, 4403: 403, 4404: 404, 4410: 410}.get(exc.code, 400)


def test_cookie_state_changes_from_another_origin_are_refused(world: World) -> None:
    """The CSRF sweep: every state-changing route, with the admin's cookie and a
    foreign Origin, is refused with 403 before it runs."""
    core = world.core
    with TestClient(create_app(core)) as c:
        for (method, path) in TABLE:
            if method in ("GET", "HEAD", "MOUNT", "WS"):
                continue
            c.cookies.set("reelhouse_session", session_token(core, 1))
            r = c.request(method, _fill(path, world), headers={"origin": "http://127.0.0.1:9"},
                          json={} if method != "DELETE" else None)
            assert r.status_code == 403, (method, path, r.status_code)
    assert core.users.count() == 4 and core.sources.get(world.ids["source_id"])
