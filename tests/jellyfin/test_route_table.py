"""Authorization of EVERY Jellyfin route, as a table: (method, path) → the status an
anonymous client, a user, a user without a grant to the library's source ("hidden")
and an admin get. The routes are enumerated from the Jellyfin app, so a new route
without a row fails ``test_every_route_has_a_row``.

Statuses: a number is exact; ``OK`` means "allowed": under 500 and neither 401, 403
nor 404 (the request may still be a 400 for the test's dummy arguments). Paths are
filled with real ids of the library (a film, its file, the show, the genre "Drama");
``{user_id}`` is the admin's, so a user naming it is refused. The hidden user's 404s
are the hidden-source rule: a user without a grant to a source never learns its
titles, files, pictures or genres exist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from api.route_walk import walk
from fastapi.testclient import TestClient
from jellyfin.support import Library, set_genres
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from reelhouse.auth.users import UserChange
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Show, SourceRow
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.app import create_jellyfin_app
from reelhouse.server import create_app

from helpers import session_token

pytestmark = pytest.mark.requires_ffmpeg

OK = "ok"
P = (OK, OK, OK, OK)  # public
U = (401, OK, OK, OK)  # any signed-in user; nothing of a source
H = (401, OK, 404, OK)  # a title or file: hidden from a user without its source
UP = (401, 403, 403, OK)  # /Users/{admin's id}/…: only the admin themselves
N = (401, 404, 404, 404)  # nothing there for anyone (playlists, people …)
F = (401, 403, 403, 403)  # a switched-off feature
QC = (401, 401, 401, 401)  # Quick Connect before sign-in: off
G = (401, 403, 403, 403)  # a SyncPlay command from a session in no group

TABLE: dict[tuple[str, str], tuple[object, object, object, object]] = {
    ("DELETE", "/playlists/{playlist_id}/items"): N,
    ("DELETE", "/playlists/{playlist_id}/users/{user_id}"): N,
    ("DELETE", "/userfavoriteitems/{item_id}"): H,
    ("DELETE", "/userplayeditems/{item_id}"): H,
    ("DELETE", "/users/{user_id}/favoriteitems/{item_id}"): UP,
    ("DELETE", "/users/{user_id}/playeditems/{item_id}"): UP,
    ("GET", "/branding/configuration"): P,
    ("GET", "/branding/css"): P,
    ("GET", "/branding/css.css"): P,
    ("GET", "/displaypreferences/{pref_id}"): U,
    ("GET", "/genres"): U,
    ("GET", "/genres/{name}"): H,
    ("GET", "/items"): U,
    ("GET", "/items/filters"): U,
    ("GET", "/items/filters2"): U,
    ("GET", "/items/counts"): U,
    ("GET", "/items/latest"): U,
    ("GET", "/items/{item_id}"): H,
    ("GET", "/items/{item_id}/ancestors"): H,
    ("GET", "/items/{item_id}/images"): H,
    ("GET", "/items/{item_id}/images/{image_type}"): N,
    ("GET", "/items/{item_id}/images/{image_type}/{index}"): N,
    ("GET", "/items/{item_id}/intros"): U,
    ("GET", "/items/{item_id}/localtrailers"): U,
    ("GET", "/items/{item_id}/playbackinfo"): H,
    ("GET", "/items/{item_id}/similar"): U,
    ("GET", "/items/{item_id}/specialfeatures"): U,
    ("GET", "/items/{item_id}/thememedia"): U,
    ("GET", "/items/suggestions"): U,
    ("GET", "/movies/recommendations"): U,
    ("GET", "/users/{user_id}/suggestions"): UP,
    ("GET", "/library/mediafolders"): U,
    ("GET", "/mediasegments/{item_id}"): U,
    ("GET", "/movies/{item_id}/similar"): U,
    ("GET", "/persons"): U,
    ("GET", "/years"): U,
    ("GET", "/items/{item_id}/themesongs"): U,
    ("GET", "/items/{item_id}/themevideos"): U,
    ("GET", "/items/{item_id}/criticreviews"): U,
    ("GET", "/shows/upcoming"): U,
    ("GET", "/trailers"): U,
    ("GET", "/channels"): U,
    ("GET", "/livetv/info"): U,
    ("GET", "/web/configurationpages"): U,
    ("GET", "/userviews/groupingoptions"): U,
    ("GET", "/users/{user_id}/groupingoptions"): UP,
    ("GET", "/years/{year}"): U,
    ("GET", "/localization/cultures"): U,
    ("GET", "/localization/countries"): U,
    ("GET", "/localization/parentalratings"): U,
    ("GET", "/localization/options"): U,
    ("DELETE", "/videos/activeencodings"): U,
    ("GET", "/persons/{name}"): N,
    ("GET", "/playback/bitratetest"): U,
    ("GET", "/playlists/{playlist_id}"): N,
    ("GET", "/playlists/{playlist_id}/instantmix"): N,
    ("GET", "/playlists/{playlist_id}/items"): N,
    ("GET", "/playlists/{playlist_id}/users"): N,
    ("GET", "/playlists/{playlist_id}/users/{user_id}"): N,
    ("GET", "/quickconnect/connect"): P,
    ("GET", "/quickconnect/enabled"): P,
    ("GET", "/quickconnect/initiate"): QC,
    ("GET", "/search/hints"): U,
    ("GET", "/sessions"): U,
    ("GET", "/shows/nextup"): U,
    ("GET", "/shows/{item_id}/similar"): U,
    ("GET", "/shows/{series_id}/episodes"): H,
    ("GET", "/shows/{series_id}/seasons"): H,
    ("GET", "/studios"): U,
    ("GET", "/studios/{name}"): N,
    ("GET", "/getutctime"): P,
    ("GET", "/syncplay/list"): U,
    ("GET", "/syncplay/{group_id}"): N,
    ("GET", "/system/configuration"): U,
    ("GET", "/system/endpoint"): U,
    ("GET", "/system/info"): U,
    ("GET", "/system/info/public"): P,
    ("GET", "/system/ping"): P,
    ("GET", "/useritems/resume"): U,
    ("GET", "/useritems/{item_id}/userdata"): H,
    ("GET", "/users"): U,
    ("GET", "/users/me"): U,
    ("GET", "/users/public"): P,
    ("GET", "/users/{user_id}"): UP,
    ("GET", "/users/{user_id}/items"): UP,
    ("GET", "/users/{user_id}/items/latest"): UP,
    ("GET", "/users/{user_id}/items/resume"): UP,
    ("GET", "/users/{user_id}/items/{item_id}"): UP,
    ("GET", "/users/{user_id}/items/{item_id}/intros"): UP,
    ("GET", "/users/{user_id}/items/{item_id}/localtrailers"): UP,
    ("GET", "/users/{user_id}/items/{item_id}/specialfeatures"): UP,
    ("GET", "/users/{user_id}/items/{item_id}/userdata"): UP,
    ("GET", "/users/{user_id}/views"): UP,
    ("GET", "/userviews"): U,
    ("GET", "/videos/{item_id}/additionalparts"): U,
    ("GET", "/videos/{item_id}/main.m3u8"): H,
    ("GET", "/videos/{item_id}/master.m3u8"): H,
    ("GET", "/videos/{item_id}/stream"): H,
    ("GET", "/items/{item_id}/download"): H,
    ("HEAD", "/items/{item_id}/download"): H,
    ("GET", "/videos/{item_id}/stream.{ext}"): H,
    ("GET", "/videos/{item_id}/subs/{key}.m3u8"): H,
    ("GET", "/videos/{item_id}/subs/{key}.vtt"): H,
    ("GET", "/videos/{item_id}/{source_id}/subtitles/{index}/subtitles.m3u8"): H,
    ("GET", "/videos/{item_id}/{source_id}/subtitles/{index}/stream.{ext}"): H,
    ("GET", "/videos/{item_id}/{source_id}/subtitles/{index}/{start}/stream.{ext}"): H,
    ("GET", "/videos/{item_id}/{track}.m3u8"): H,
    ("GET", "/videos/{item_id}/{track}/{n}.ts"): H,
    ("HEAD", "/videos/{item_id}/stream"): H,
    ("HEAD", "/videos/{item_id}/stream.{ext}"): H,
    ("POST", "/displaypreferences/{pref_id}"): U,
    ("POST", "/items/{item_id}/playbackinfo"): H,
    ("POST", "/playlists"): F,
    ("POST", "/playlists/{playlist_id}"): N,
    ("POST", "/playlists/{playlist_id}/items"): N,
    ("POST", "/playlists/{playlist_id}/items/{item_id}/move/{new_index}"): N,
    ("POST", "/playlists/{playlist_id}/users/{user_id}"): N,
    ("POST", "/quickconnect/authorize"): U,
    ("POST", "/quickconnect/initiate"): QC,
    ("POST", "/sessions/capabilities"): U,
    ("POST", "/sessions/capabilities/full"): U,
    ("POST", "/sessions/logout"): U,
    ("POST", "/sessions/playing"): U,
    ("POST", "/sessions/playing/ping"): U,
    ("POST", "/sessions/playing/progress"): U,
    ("POST", "/sessions/playing/stopped"): U,
    ("POST", "/syncplay/buffering"): G,
    ("POST", "/syncplay/join"): U,  # {} → 400 (GroupId is required)
    ("POST", "/syncplay/leave"): G,
    ("POST", "/syncplay/moveplaylistitem"): G,
    ("POST", "/syncplay/nextitem"): G,
    ("POST", "/syncplay/previousitem"): G,
    ("POST", "/syncplay/queue"): G,
    ("POST", "/syncplay/removefromplaylist"): G,
    ("POST", "/syncplay/setplaylistitem"): G,
    ("POST", "/syncplay/setrepeatmode"): G,
    ("POST", "/syncplay/setshufflemode"): G,
    ("POST", "/syncplay/new"): U,
    ("POST", "/syncplay/pause"): G,
    ("POST", "/syncplay/ping"): U,
    ("POST", "/syncplay/ready"): G,
    ("POST", "/syncplay/seek"): G,
    ("POST", "/syncplay/setignorewait"): G,
    ("POST", "/syncplay/setnewqueue"): G,
    ("POST", "/syncplay/stop"): G,
    ("POST", "/syncplay/unpause"): G,
    ("POST", "/syncplay/{command}"): G,
    ("POST", "/system/ping"): P,
    ("POST", "/userfavoriteitems/{item_id}"): H,
    ("POST", "/useritems/{item_id}/userdata"): H,
    ("POST", "/userplayeditems/{item_id}"): H,
    ("POST", "/users/authenticatebyname"): P,
    ("POST", "/users/authenticatewithquickconnect"): P,
    ("POST", "/users/{user_id}/favoriteitems/{item_id}"): UP,
    ("POST", "/users/{user_id}/items/{item_id}/userdata"): UP,
    ("POST", "/users/{user_id}/playeditems/{item_id}"): UP,
    ("WS", "/socket"): U,
}


@dataclass
class World:
    core: Core
    values: dict[str, str]
    tokens: dict[str, int | None]


@pytest.fixture
def world(core: Core, library: Library) -> Iterator[World]:
    set_genres(core, "Example Show", ["Drama"], Show)
    core.users.add("friend", "friend-password")
    hidden = core.users.add("hidden", "hidden-password")
    with core.sessions() as s:
        other = SourceRow(name="elsewhere", kind="local", path="/nowhere-else")
        s.add(other)
        s.commit()
        other_id = other.id
    core.users.update(hidden.id, UserChange(restrict_sources=True, sources=[other_id]))
    file_id = library.files["Films/Big Buck Bunny (2008)/Big.Buck.Bunny.2008.mkv"]  # with a SubRip track
    with core.sessions() as s:
        mf = s.get(MediaFile, file_id)
        assert mf is not None and mf.movie_id is not None
        movie_id = mf.movie_id
        sub = next(st.index for st in mf.streams if st.type == "subtitle")
        show_id = s.scalars(select(Show.id)).one()
    values = {"item_id": ids.encode("movie", movie_id), "source_id": ids.encode("file", file_id),
              "series_id": ids.encode("show", show_id), "user_id": ids.encode("user", 1),
              "image_type": "Primary", "index": str(sub), "track": "copy", "n": "0", "key": "e0",
              "ext": "vtt", "start": "0", "pref_id": "usersettings", "name": "Drama", "year": "2010",
              "group_id": "0" * 32,
              "command": "NextItem", "playlist_id": "0" * 32, "new_index": "0"}
    yield World(core, values, {"anon": None, "user": core.users.by_name("friend").id,
                               "hidden": hidden.id, "admin": 1})


def _fill(path: str, world: World) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: world.values[m.group(1)], path)


def _ok(status: int) -> bool:
    return status < 500 and status not in (401, 403, 404)


def test_every_route_has_a_row(core: Core) -> None:
    routes = set(walk(create_jellyfin_app(core).routes))
    assert routes - set(TABLE) == set(), "routes without a row in TABLE"
    assert set(TABLE) - routes == set(), "rows for routes that no longer exist"


def _status(c: TestClient, method: str, url: str, headers: dict[str, str]) -> int:
    if method == "WS":
        try:
            with c.websocket_connect(url, headers=headers) as ws:
                ws.send_json({"MessageType": "KeepAlive"})
                return 200
        except WebSocketDisconnect as exc:
            return {4401: 401, 1008: 401}.get(exc.code, 400)
    kw: dict[str, object] = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    return c.request(method, url, headers=headers, follow_redirects=False, **kw).status_code  # type: ignore[arg-type]


def test_route_table(world: World) -> None:
    core = world.core
    problems = []
    with TestClient(create_app(core)) as c:
        for (method, path), expected in TABLE.items():
            url = "/jellyfin" + _fill(path, world)
            for (role, uid), want in zip(world.tokens.items(), expected, strict=True):
                headers = {} if uid is None else {"x-emby-token": session_token(core, uid)}
                status = _status(c, method, url, headers)
                good = _ok(status) if want == OK else status == want
                if not good:
                    problems.append(f"{method} {path} as {role}: {status}, expected {want}")
    assert not problems, "\n".join(problems)
