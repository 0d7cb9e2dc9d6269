"""SyncPlay with a real Jellyfin client (jellyfin-apiclient-python, its REST calls and
its WebSocket client): two apps in one group play, pause and seek together; the group
is a watch party a browser member shares; leaving; who may not join."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import websocket._app
import websockets.sync.client
from jellyfin.support import Library, apiclient

from reelhouse.auth.users import UserChange
from reelhouse.core import Core
from reelhouse.db.models import SourceRow
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.syncplay import TICKS, parse_utc
from reelhouse.server import create_app

from helpers import ADMIN, ADMIN_PASSWORD, serving, session_token

pytestmark = pytest.mark.requires_ffmpeg

SINTEL = "Films/Sintel (2010)/Sintel.2010.mp4"


class App:
    """One app: a JellyfinClient signed in, its socket open, its messages kept."""

    def __init__(self, server: str, name: str, password: str, device: str) -> None:
        self.client = apiclient(server, device)
        login = self.client.auth.login(server, name, password)
        assert login.get("AccessToken"), login
        self.token = login["AccessToken"]
        self.client.authenticate(self.client.get_credentials(), discover=False)  # signed in: the socket may open
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.cond = threading.Condition()
        opened = threading.Event()

        def callback(kind: str, data: Any) -> None:
            if kind == "WebSocketConnect":
                opened.set()
            with self.cond:
                self.messages.append((kind, data))
                self.cond.notify_all()

        self.client.callback = callback
        self.client.start(websocket=True, keep_alive=False)
        assert opened.wait(10)
        deadline = time.monotonic() + 10  # ForceKeepAlive came and its thread runs (stop() joins it)
        while (self.client.wsc.keepalive is None or self.client.wsc.keepalive.ident is None) \
                and time.monotonic() < deadline:
            time.sleep(0.01)
        self.api = self.client.jellyfin

    def wait(self, match: Callable[[str, dict[str, Any]], bool], timeout: float = 30.0,
             after: int = 0) -> tuple[int, dict[str, Any]]:
        """The first message from index ``after`` on that ``match``es: (index, data)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i, (kind, data) in enumerate(self.messages[after:], after):
                    if match(kind, data):
                        return i, data
                left = deadline - time.monotonic()
                assert left > 0, f"no such message; got {[(k, d) for k, d in self.messages[after:]]}"
                self.cond.wait(left)

    def update(self, kind: str, after: int = 0) -> tuple[int, dict[str, Any]]:
        return self.wait(lambda k, d: k == "SyncPlayGroupUpdate" and d.get("Type") == kind, after=after)

    def command(self, kind: str, after: int = 0) -> tuple[int, dict[str, Any]]:
        return self.wait(lambda k, d: k == "SyncPlayCommand" and d.get("Command") == kind, after=after)

    def mark(self) -> int:
        with self.cond:
            return len(self.messages)

    def ready(self, position: float, playing: bool, item: str) -> None:
        self.api.ready_sync_play(datetime.now(UTC).replace(tzinfo=None), int(position * TICKS), playing, item)

    def close(self) -> None:
        self.client.stop()
        self.client.wsc.join(10)


@pytest.fixture
def server(core: Core, library: Library) -> Iterator[str]:
    core.users.add("friend", "friend-password")
    with serving(create_app(core)) as base:
        yield base


def short_select(monkeypatch: pytest.MonkeyPatch) -> None:
    """websocket-client's reader waits in a select() of 10 s that closing its socket
    from another thread does not wake (epoll forgets a closed fd), so a stopped
    client's thread could outlive a test by 10 s: its select waits 0.2 s instead, and
    it sees the stop at once."""
    original = websocket._app.WebSocketApp.create_dispatcher

    def short(app: Any, ping_timeout: float | None, *args: Any, **kwargs: Any) -> Any:
        return original(app, ping_timeout or 0.2, *args, **kwargs)

    monkeypatch.setattr(websocket._app.WebSocketApp, "create_dispatcher", short)


@pytest.fixture
def apps(server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[App, App]]:
    """Two apps: the admin's phone and a friend's TV."""
    short_select(monkeypatch)
    alice = App(server + "/jellyfin", ADMIN, ADMIN_PASSWORD, "alice-phone")
    bob = App(server + "/jellyfin", "friend", "friend-password", "bob-tv")
    yield alice, bob
    alice.close()
    bob.close()


def _when(data: dict[str, Any]) -> float:
    when = parse_utc(data["When"])
    assert when is not None
    return when


def test_two_apps_play_pause_and_seek_together(apps: tuple[App, App], server: str, core: Core,
                                               library: Library) -> None:
    alice, bob = apps
    sintel = ids.encode("movie", _movie(core, library.files[SINTEL]))

    created = alice.api.new_sync_play_v2("movie night")
    assert created["GroupName"] == "movie night" and created["Participants"] == [ADMIN]
    alice.update("GroupJoined")
    mine = alice.api.get_sync_play()
    assert mine == [created | {"LastUpdatedAt": mine[0]["LastUpdatedAt"]}]
    assert bob.api.get_sync_play() == []  # a group without an item is its maker's

    # the item: the group becomes a watch party, alice's app loads it from 2 s
    at = alice.mark()
    alice.api.reset_queue_sync_play([sintel], 0, 2 * TICKS)
    _, joined = alice.update("GroupJoined", at)
    group_id, name = joined["Data"]["GroupId"], joined["Data"]["GroupName"]
    assert name.startswith("Watch party ") and group_id.startswith("0000000a7265656c")
    _, queue = alice.update("PlayQueue", at)
    playlist_item = queue["Data"]["Playlist"][0]["PlaylistItemId"]
    assert queue["Data"]["Reason"] == "NewPlaylist" and queue["Data"]["Playlist"][0]["ItemId"] == sintel
    assert queue["Data"]["StartPositionTicks"] == pytest.approx(2 * TICKS, abs=TICKS // 2)

    listed = bob.api.get_sync_play()
    assert [(g["GroupId"], g["GroupName"], g["Participants"]) for g in listed] == [(group_id, name, [ADMIN])]
    assert bob.api._get(f"SyncPlay/{group_id}")["GroupName"] == name

    at_a, at_b = alice.mark(), bob.mark()
    bob.api.join_sync_play(group_id)
    _, bob_joined = bob.update("GroupJoined", at_b)
    assert bob_joined["Data"]["GroupId"] == group_id and set(bob_joined["Data"]["Participants"]) == {ADMIN, "friend"}
    bob.update("PlayQueue", at_b)
    _, hello = alice.update("UserJoined", at_a)
    assert hello["Data"] == "friend"

    # both loaded: the party starts, both apps are told the same moment and position
    at_a, at_b = alice.mark(), bob.mark()
    alice.ready(2.0, False, playlist_item)
    bob.ready(2.0, False, playlist_item)
    _, go_a = alice.command("Unpause", at_a)
    _, go_b = bob.command("Unpause", at_b)
    assert (go_a["When"], go_a["PositionTicks"]) == (go_b["When"], go_b["PositionTicks"])
    assert go_b["PositionTicks"] == pytest.approx(2 * TICKS, abs=TICKS // 2)
    assert go_b["PlaylistItemId"] == playlist_item and go_b["GroupId"] == group_id
    assert _when(go_b) >= parse_utc(go_b["EmittedAt"])  # type: ignore[operator]  # scheduled ahead

    # alice pauses: bob stops where the party is
    time.sleep(0.6)
    at_b = bob.mark()
    alice.api.pause_sync_play()
    _, stop = bob.command("Pause", at_b)
    playing_since = _when(go_b)
    expected = 2.0 + (_when(stop) - playing_since)
    assert stop["PositionTicks"] / TICKS == pytest.approx(expected, abs=0.05)
    assert abs(_when(stop) - time.time()) < 10  # now, not another time zone's (room for load)

    # alice seeks to 5 s: bob seeks there, and once both say ready it plays from there
    at_a, at_b = alice.mark(), bob.mark()
    alice.api.seek_sync_play(5 * TICKS)
    _, seek = bob.command("Seek", at_b)
    assert seek["PositionTicks"] == 5 * TICKS
    alice.command("Seek", at_a)
    alice.api.unpause_sync_play()
    alice.ready(5.0, False, playlist_item)
    bob.ready(5.0, False, playlist_item)
    _, go = bob.command("Unpause", at_b)
    assert go["PositionTicks"] == pytest.approx(5 * TICKS, abs=TICKS // 10)

    # bob leaves: his app is told, alice's sees him go
    at_a, at_b = alice.mark(), bob.mark()
    bob.api.leave_sync_play()
    bob.update("GroupLeft", at_b)
    _, bye = alice.update("UserLeft", at_a)
    assert bye["Data"] == "friend"
    assert [g["Participants"] for g in bob.api.get_sync_play()] == [[ADMIN]]
    r = requests.post(f"{server}/jellyfin/SyncPlay/Pause", headers={"x-emby-token": bob.token}, timeout=10)
    assert r.status_code == 403  # not in a group any more


def test_a_browser_member_shares_the_group(apps: tuple[App, App], server: str, core: Core,
                                           library: Library) -> None:
    """The group is a watch party: a browser joins it by its code and its pause reaches
    the app, the app's seek reaches the browser."""
    alice, _ = apps
    sintel = ids.encode("movie", _movie(core, library.files[SINTEL]))
    alice.api.new_sync_play_v2("g")
    at = alice.update("GroupJoined")[0] + 1
    alice.api.reset_queue_sync_play([sintel], 0, 0)
    _, joined = alice.update("GroupJoined", at)
    code = joined["Data"]["GroupName"].removeprefix("Watch party ")
    friend = core.users.by_name("friend")
    assert friend is not None
    ws_url = server.replace("http://", "ws://") + f"/api/parties/{code}/ws"
    token = session_token(core, friend.id)
    with websockets.sync.client.connect(ws_url, additional_headers={"authorization": f"Bearer {token}"}) as ws:
        welcome = json.loads(ws.recv(timeout=10))
        assert welcome["type"] == "welcome" and welcome["party"]["mode"] == "collaborative"
        assert ADMIN in [m["name"] for m in welcome["members"]]
        _, hello = alice.update("UserJoined", at)
        assert hello["Data"] == "friend"
        at = alice.mark()
        ws.send(json.dumps({"v": 1, "type": "seek", "position": 3.0}))
        _, seek = alice.command("Seek", at)
        assert seek["PositionTicks"] == 3 * TICKS
        alice.api.seek_sync_play(4 * TICKS)
        deadline = time.monotonic() + 30  # generous: a loaded 2-core machine
        while True:
            msg = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg.get("type") == "state" and msg["party"]["position"] == 4.0:
                assert msg["event"]["kind"] == "seek" and msg["event"]["name"] == ADMIN
                break


def test_who_may_not_join(apps: tuple[App, App], server: str, core: Core, library: Library) -> None:
    """A user without the item's source sees no group and joins none (404, as an
    unknown group), and one that loses the grant while in the group is taken out;
    with SyncPlay switched off for users, every call is 403 and the user's policy says
    None (the apps hide SyncPlay)."""
    alice, bob = apps
    sintel = ids.encode("movie", _movie(core, library.files[SINTEL]))
    alice.api.new_sync_play_v2("g")
    at = alice.update("GroupJoined")[0] + 1
    alice.api.reset_queue_sync_play([sintel], 0, 0)
    _, joined = alice.update("GroupJoined", at)
    group_id = joined["Data"]["GroupId"]
    friend = core.users.by_name("friend")
    assert friend is not None
    at_b = bob.mark()
    bob.api.join_sync_play(group_id)
    bob.update("GroupJoined", at_b)
    with core.sessions() as s:
        other = SourceRow(name="elsewhere", kind="local", path="/nowhere-else")
        s.add(other)
        s.commit()
        other_id = other.id
    core.users.update(friend.id, UserChange(restrict_sources=True, sources=[other_id]))
    alice.api.pause_sync_play()  # the party's next message: bob's app is out of the group
    bob.update("GroupLeft", at_b)
    headers = {"x-emby-token": bob.token}
    assert requests.post(f"{server}/jellyfin/SyncPlay/Pause", headers=headers, timeout=10).status_code == 403
    assert requests.get(f"{server}/jellyfin/SyncPlay/List", headers=headers, timeout=10).json() == []
    r = requests.post(f"{server}/jellyfin/SyncPlay/Join", json={"GroupId": group_id}, headers=headers, timeout=10)
    assert r.status_code == 404
    bob.update("GroupDoesNotExist")
    r = requests.get(f"{server}/jellyfin/SyncPlay/{group_id}", headers=headers, timeout=10)
    assert r.status_code == 404

    core.settings.jellyfin_syncplay = "admins"
    assert bob.api.get_user()["Policy"]["SyncPlayAccess"] == "None"
    assert alice.api.get_user()["Policy"]["SyncPlayAccess"] == "CreateAndJoinGroups"
    for method, path in (("GET", "SyncPlay/List"), ("POST", "SyncPlay/New"), ("POST", "SyncPlay/Join"),
                         ("POST", "SyncPlay/Pause"), ("GET", f"SyncPlay/{group_id}")):
        r = requests.request(method, f"{server}/jellyfin/{path}", json={}, headers=headers, timeout=10)
        assert r.status_code == 403, (path, r.text)
    assert requests.get(f"{server}/jellyfin/GetUtcTime", timeout=10).status_code == 200  # anyone


def test_a_browser_party_is_no_group_to_strangers(apps: tuple[App, App], server: str, core: Core,
                                                  library: Library, client: Any) -> None:
    """A party made in the browser is joined by its code (its secret): its group id,
    guessable, is unknown to a stranger's app until the stranger joins by the code."""
    _, bob = apps
    r = client.post("/api/parties", json={"media_file_id": library.files[SINTEL]})
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    with core.sessions() as s:
        from reelhouse.db.models import WatchSession

        party_id = s.query(WatchSession.id).filter_by(code=code).scalar()
    group_id = ids.encode("party", party_id)
    assert bob.api.get_sync_play() == []
    headers = {"x-emby-token": bob.token}
    r = requests.post(f"{server}/jellyfin/SyncPlay/Join", json={"GroupId": group_id}, headers=headers, timeout=10)
    assert r.status_code == 404
    friend = core.users.by_name("friend")
    assert friend is not None
    token = session_token(core, friend.id)
    assert requests.post(f"{server}/api/parties/{code}/join", headers={"authorization": f"Bearer {token}"},
                         timeout=10).status_code == 200
    assert [g["GroupId"] for g in bob.api.get_sync_play()] == [group_id]
    at = bob.mark()
    bob.api.join_sync_play(group_id)
    _, joined = bob.update("GroupJoined", at)
    assert joined["Data"]["GroupName"] == f"Watch party {code}"
    _, queue = bob.update("PlayQueue", at)
    assert queue["Data"]["IsPlaying"] is False
    # the party is the host's to steer (host mode): a guest's queue change is refused, nothing changes
    bunny = ids.encode("movie", _movie(core, library.files["Films/Big Buck Bunny (2008)/Big.Buck.Bunny.2008.mkv"]))
    pid = queue["Data"]["Playlist"][0]["PlaylistItemId"]
    admin = core.users.by_name(ADMIN)
    assert admin is not None
    ws_url = server.replace("http://", "ws://") + f"/api/parties/{code}/ws"
    with websockets.sync.client.connect(ws_url, additional_headers={
            "authorization": f"Bearer {session_token(core, admin.id)}"}) as ws:
        ws.recv(timeout=10)  # the host is here (away, its control would pass to bob)
        for path, body in (("SetNewQueue", {"PlayingQueue": [bunny], "PlayingItemPosition": 0}),
                           ("Queue", {"ItemIds": [bunny]}), ("NextItem", {"PlaylistItemId": pid})):
            r = requests.post(f"{server}/jellyfin/SyncPlay/{path}", json=body, headers=headers, timeout=10)
            assert r.status_code == 403 and "host" in r.text, (path, r.text)
    assert bob.api._get(f"SyncPlay/{group_id}")["GroupId"] == group_id
    with core.sessions() as s:
        from reelhouse.db.models import SyncPlayQueue, WatchSession

        assert s.get(SyncPlayQueue, party_id) is None
        row = s.get(WatchSession, party_id)
        assert row is not None and row.media_file_id == library.files[SINTEL]


def test_utc_time_for_the_clock_estimate(apps: tuple[App, App]) -> None:
    alice, _ = apps
    before = datetime.now(UTC).replace(tzinfo=None)
    got = alice.api.utc_time()  # the client's own parser: 7 fractional digits and a Z
    assert got["request_received"] <= got["response_sent"]
    assert abs((got["request_received"] - before).total_seconds()) < 10  # UTC, not local time (room for load)


def _movie(core: Core, file_id: int) -> int:
    from reelhouse.db.models import MediaFile

    with core.sessions() as s:
        mf = s.get(MediaFile, file_id)
        assert mf is not None and mf.movie_id is not None
        return mf.movie_id


def test_messages_match_the_sdk_models(apps: tuple[App, App], server: str, core: Core, library: Library) -> None:
    """GroupInfoDto, UtcTimeResponse and what the socket carries (GroupUpdate data,
    PlayQueueUpdate, GroupStateUpdate, SendCommand) against the current @jellyfin/sdk
    models: enum values, nullability, no invented field."""
    from jellyfin import sdk_models
    from jellyfin.test_models import check

    if not sdk_models.available():
        pytest.skip("@jellyfin/sdk missing: run `npm ci` in tests/jellyfin/sdk")
    alice, bob = apps
    sintel = ids.encode("movie", _movie(core, library.files[SINTEL]))
    check(alice.api.new_sync_play_v2("g"), "GroupInfoDto")
    at = alice.update("GroupJoined")[0] + 1
    alice.api.reset_queue_sync_play([sintel], 0, 0)
    _, joined = alice.update("GroupJoined", at)
    check(bob.api.get_sync_play(), "GroupInfoDto", many=True)
    check(requests.get(f"{server}/jellyfin/GetUtcTime", timeout=10).json(), "UtcTimeResponse")

    def data(message: dict[str, Any]) -> Any:
        return {k: v for k, v in message.items() if k != "ServerId"}  # added by the client library

    check(data(joined)["Data"], "GroupInfoDto")
    _, queue = alice.update("PlayQueue", at)
    check(data(queue)["Data"], "PlayQueueUpdate")
    alice.api.seek_sync_play(2 * TICKS)
    _, state = alice.update("StateUpdate", at)
    check(data(state)["Data"], "GroupStateUpdate")
    _, seek = alice.command("Seek", at)
    check(data(seek), "SendCommand")
    for kind in ("GroupJoined", "PlayQueue", "StateUpdate"):
        assert data(alice.update(kind, at)[1]).keys() == {"GroupId", "Type", "Data"}


BUNNY = "Films/Big Buck Bunny (2008)/Big.Buck.Bunny.2008.mkv"
EP1 = "Shows/Example Show/Season 01/Example.Show.S01E01.mp4"
EP2 = "Shows/Example Show/Season 01/Example.Show.S01E02.mp4"


def _item(core: Core, library: Library, rel: str) -> str:
    from reelhouse.db.models import MediaFile

    with core.sessions() as s:
        mf = s.get(MediaFile, library.files[rel])
        assert mf is not None
        return ids.encode("movie", mf.movie_id) if mf.movie_id else ids.encode("episode", mf.episode_id)


def _queue_update(app: App, reason: str, after: int) -> dict[str, Any]:
    return app.wait(lambda k, d: k == "SyncPlayGroupUpdate" and d.get("Type") == "PlayQueue"
                    and d["Data"]["Reason"] == reason, after=after)[1]["Data"]


def _party_file(core: Core, group_id: str) -> tuple[int, str]:
    from reelhouse.db.models import WatchSession

    with core.sessions() as s:
        row = s.get(WatchSession, ids.decode(group_id, "party").id)
        assert row is not None
        return row.media_file_id, row.state


def _party_code(core: Core, group_id: str) -> str:
    from reelhouse.db.models import WatchSession

    with core.sessions() as s:
        row = s.get(WatchSession, ids.decode(group_id, "party").id)
        assert row is not None
        return row.code


def _post(server: str, app: App, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{server}/jellyfin/SyncPlay/{path}", json=body, headers={"x-emby-token": app.token},
                         timeout=10)


def test_the_queue_plays_item_after_item(apps: tuple[App, App], server: str, core: Core,
                                         library: Library) -> None:
    """A queue of several items: SetNewQueue at a position, Queue (QueueNext), NextItem
    (a duplicate from the other app changes nothing), a Ready for the old item told the
    playing one, repeat and shuffle modes, moving, removing, SetPlaylistItem; the watch
    party plays each item's file and a browser member follows it (its page reloads
    onto the new file and joins again)."""
    alice, bob = apps
    sintel, bunny, ep1, ep2 = (_item(core, library, r) for r in (SINTEL, BUNNY, EP1, EP2))
    alice.api.new_sync_play_v2("marathon")
    at = alice.update("GroupJoined")[0] + 1
    alice.api.reset_queue_sync_play([sintel, bunny, ep1], 1, 3 * TICKS)  # from Bunny, 3 s in
    group_id = alice.update("GroupJoined", at)[1]["Data"]["GroupId"]
    first = _queue_update(alice, "NewPlaylist", at)
    assert [e["ItemId"] for e in first["Playlist"]] == [sintel, bunny, ep1]
    assert len({e["PlaylistItemId"] for e in first["Playlist"]}) == 3
    assert (first["PlayingItemIndex"], first["ShuffleMode"], first["RepeatMode"]) == (1, "Sorted", "RepeatNone")
    assert first["StartPositionTicks"] == pytest.approx(3 * TICKS, abs=TICKS // 2)
    pids = [e["PlaylistItemId"] for e in first["Playlist"]]
    assert _party_file(core, group_id)[0] == library.files[BUNNY]
    at_b = bob.mark()
    bob.api.join_sync_play(group_id)
    joined = _queue_update(bob, "NewPlaylist", at_b)
    assert [e["PlaylistItemId"] for e in joined["Playlist"]] == pids and joined["PlayingItemIndex"] == 1
    at_a, at_b = alice.mark(), bob.mark()
    alice.ready(3.0, False, pids[1])
    bob.ready(3.0, False, pids[1])
    assert bob.command("Unpause", at_b)[1]["PlaylistItemId"] == pids[1]

    # a browser member of the party
    carol = core.users.add("carol", "carol-password")
    code = alice.api._get(f"SyncPlay/{group_id}")["GroupName"].removeprefix("Watch party ")
    ws_url = server.replace("http://", "ws://") + f"/api/parties/{code}/ws"
    headers = {"authorization": f"Bearer {session_token(core, carol.id)}"}
    with websockets.sync.client.connect(ws_url, additional_headers=headers) as ws:
        assert json.loads(ws.recv(timeout=10))["party"]["media_file_id"] == library.files[BUNNY]

        # bob queues an episode next: both apps get the queue (QueueNext), nothing else moves
        at_a, at_b = alice.mark(), bob.mark()
        assert _post(server, bob, "Queue", {"ItemIds": [ep2], "Mode": "QueueNext"}).status_code == 204
        for app, mark in ((alice, at_a), (bob, at_b)):
            q = _queue_update(app, "QueueNext", mark)
            assert [e["ItemId"] for e in q["Playlist"]] == [sintel, bunny, ep2, ep1] and q["PlayingItemIndex"] == 1
        pids = [e["PlaylistItemId"] for e in q["Playlist"]]
        assert _post(server, alice, "Queue", {"ItemIds": [sintel]}).status_code == 204  # Mode: Queue (the end)
        q = _queue_update(bob, "Queue", at_b)
        assert [e["ItemId"] for e in q["Playlist"]] == [sintel, bunny, ep2, ep1, sintel]
        pids = [e["PlaylistItemId"] for e in q["Playlist"]]

        # Bunny ends: both apps ask for the next item; the first one moves the group on
        at_a, at_b = alice.mark(), bob.mark()
        alice.api.next_sync_play(pids[1])
        bob.api.next_sync_play(pids[1])  # the same request, late: no change
        for app, mark in ((alice, at_a), (bob, at_b)):
            q = _queue_update(app, "NextItem", mark)
            assert q["PlayingItemIndex"] == 2 and q["IsPlaying"] is False
            _, pause = app.command("Pause", mark)
            assert pause["PlaylistItemId"] == pids[2] and pause["PositionTicks"] == 0
        assert _party_file(core, group_id) == (library.files[EP2], "waiting")
        deadline = time.monotonic() + 30  # generous: a loaded 2-core machine
        while True:  # the browser sees the party on another file: party.js reloads the page, joins again
            msg = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg.get("type") == "state" and msg["party"]["media_file_id"] == library.files[EP2]:
                assert msg["event"]["kind"] == "load"
                break
    with websockets.sync.client.connect(ws_url, additional_headers=headers) as ws:
        welcome = json.loads(ws.recv(timeout=10))
        assert welcome["party"]["media_file_id"] == library.files[EP2]

    # a Ready for the old item: that app is told the playing one (SetCurrentItem), still waited for
    mark = bob.mark()
    bob.ready(10.0, False, pids[1])
    assert _queue_update(bob, "SetCurrentItem", mark)["PlayingItemIndex"] == 2
    time.sleep(0.3)
    assert _party_file(core, group_id)[1] == "waiting"
    assert [d["Type"] for k, d in alice.messages[at_a:] if k == "SyncPlayGroupUpdate"
            and d["Type"] == "PlayQueue" and d["Data"]["Reason"] == "NextItem"] == ["PlayQueue"]
    at_a, at_b = alice.mark(), bob.mark()
    alice.ready(0.0, False, pids[2])
    bob.ready(0.0, False, pids[2])
    go = bob.command("Unpause", at_b)[1]
    assert go["PlaylistItemId"] == pids[2] and go["PositionTicks"] == 0
    assert _party_file(core, group_id) == (library.files[EP2], "playing")

    # modes: repeat all, then shuffle (the playing entry first)
    at_a = alice.mark()
    assert _post(server, bob, "SetRepeatMode", {"Mode": "RepeatAll"}).status_code == 204
    assert _queue_update(alice, "RepeatMode", at_a)["RepeatMode"] == "RepeatAll"
    assert _post(server, bob, "SetShuffleMode", {"Mode": "Shuffle"}).status_code == 204
    q = _queue_update(alice, "ShuffleMode", at_a)
    assert q["ShuffleMode"] == "Shuffle" and q["PlayingItemIndex"] == 0
    assert q["Playlist"][0]["PlaylistItemId"] == pids[2]
    assert sorted(e["PlaylistItemId"] for e in q["Playlist"]) == sorted(pids)
    at_a = alice.mark()
    assert _post(server, bob, "SetShuffleMode", {"Mode": "Sorted"}).status_code == 204
    q = _queue_update(alice, "ShuffleMode", at_a)
    assert [e["PlaylistItemId"] for e in q["Playlist"]] == pids and q["PlayingItemIndex"] == 2
    # move the last entry first; remove the first Sintel (not playing: the film plays on)
    assert _post(server, alice, "MovePlaylistItem", {"PlaylistItemId": pids[4], "NewIndex": 0}).status_code == 204
    q = _queue_update(bob, "MoveItem", at_b)
    assert [e["PlaylistItemId"] for e in q["Playlist"]] == [pids[4], *pids[:4]] and q["PlayingItemIndex"] == 3
    assert _post(server, alice, "RemoveFromPlaylist", {"PlaylistItemIds": [pids[0]]}).status_code == 204
    q = _queue_update(bob, "RemoveItems", at_b)
    assert [e["PlaylistItemId"] for e in q["Playlist"]] == [pids[4], pids[1], pids[2], pids[3]]
    assert q["PlayingItemIndex"] == 2 and _party_file(core, group_id) == (library.files[EP2], "playing")
    # jump to an entry: SetCurrentItem, the party loads its file from 0
    at_a = alice.mark()
    assert _post(server, bob, "SetPlaylistItem", {"PlaylistItemId": pids[4]}).status_code == 204
    q = _queue_update(alice, "SetCurrentItem", at_a)
    assert q["PlayingItemIndex"] == 0 and _party_file(core, group_id)[0] == library.files[SINTEL]
    # PreviousItem from the first entry wraps in RepeatAll
    alice.api.prev_sync_play(pids[4])
    assert _queue_update(alice, "PreviousItem", at_a)["PlayingItemIndex"] == 3
    assert _party_file(core, group_id)[0] == library.files[EP1]

    # refusals: clear 4xx, nothing changes
    for path, body, status in (
            ("SetPlaylistItem", {"PlaylistItemId": "f" * 32}, 404),
            ("MovePlaylistItem", {"PlaylistItemId": "f" * 32, "NewIndex": 0}, 404),
            ("SetRepeatMode", {"Mode": "RepeatSome"}, 400), ("SetShuffleMode", {}, 400),
            ("Queue", {"ItemIds": [sintel], "Mode": "Later"}, 400), ("Queue", {"ItemIds": "x"}, 400),
            ("Queue", {"ItemIds": ["0" * 32]}, 404), ("NextItem", {}, 400),
            ("SetNewQueue", {"PlayingQueue": [sintel], "PlayingItemPosition": 3}, 400),
            ("SetNewQueue", {"PlayingQueue": [], "PlayingItemPosition": 0}, 400),
            ("SetNewQueue", {"PlayingQueue": [sintel] * 1001, "PlayingItemPosition": 0}, 400),
            ("RemoveFromPlaylist", {"PlaylistItemIds": [5]}, 400)):
        r = _post(server, alice, path, body)
        assert r.status_code == status, (path, body, r.text)
    assert _party_file(core, group_id)[0] == library.files[EP1]

    # everything out: the group stops (Idle), the party is back at 0
    at_a, at_b = alice.mark(), bob.mark()
    assert _post(server, alice, "RemoveFromPlaylist",
                 {"ClearPlaylist": True, "ClearPlayingItem": True}).status_code == 204
    assert _queue_update(bob, "RemoveItems", at_b)["Playlist"] == []
    bob.command("Stop", at_b)
    assert _party_file(core, group_id)[1] == "idle"
    alice.api.unpause_sync_play()  # nothing to play: nothing happens
    time.sleep(0.3)
    assert _party_file(core, group_id)[1] == "idle"
    # a browser member pressing play is told so (409), and the old film does not start
    friend = core.users.by_name("friend")
    assert friend is not None
    code = _party_code(core, group_id)
    ws_url = server.replace("http://", "ws://") + f"/api/parties/{code}/ws"
    token = session_token(core, friend.id)
    with websockets.sync.client.connect(ws_url, additional_headers={"authorization": f"Bearer {token}"}) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
        ws.send(json.dumps({"v": 1, "type": "play"}))
        deadline = time.monotonic() + 30  # generous: a loaded 2-core machine
        while True:
            msg = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg.get("type") == "error":
                assert msg["status"] == 409 and "queue is empty" in msg["message"], msg
                break
    assert _party_file(core, group_id)[1] == "idle"


def test_stop_goes_idle_and_unpause_starts_over(apps: tuple[App, App], server: str, core: Core,
                                                library: Library) -> None:
    """Jellyfin's Stop: the group goes Idle (Stop command: the apps unload the item),
    the party is back at 0; Unpause sends the queue again and plays from the start
    once every app is ready."""
    alice, bob = apps
    sintel = _item(core, library, SINTEL)
    alice.api.new_sync_play_v2("g")
    at = alice.update("GroupJoined")[0] + 1
    alice.api.reset_queue_sync_play([sintel], 0, 20 * TICKS)
    group_id = alice.update("GroupJoined", at)[1]["Data"]["GroupId"]
    pid = _queue_update(alice, "NewPlaylist", at)["Playlist"][0]["PlaylistItemId"]
    at_b = bob.mark()
    bob.api.join_sync_play(group_id)
    bob.update("PlayQueue", at_b)
    alice.ready(20.0, False, pid)
    bob.ready(20.0, False, pid)
    bob.command("Unpause", at_b)

    at_a, at_b = alice.mark(), bob.mark()
    r = _post(server, bob, "Stop", {})
    assert r.status_code == 204
    for app, mark in ((alice, at_a), (bob, at_b)):
        _, state = app.wait(lambda k, d: k == "SyncPlayGroupUpdate" and d.get("Type") == "StateUpdate"
                            and d["Data"]["State"] == "Idle", after=mark)
        assert state["Data"]["Reason"] == "Stop"
        assert app.command("Stop", mark)[1]["PlaylistItemId"] == pid
    with core.sessions() as s:
        from reelhouse.db.models import WatchSession

        row = s.get(WatchSession, ids.decode(group_id, "party").id)
        assert row is not None and (row.state, row.position) == ("idle", 0.0)
    assert all(not (k == "SyncPlayCommand" and d["Command"] == "Pause")
               for k, d in alice.messages[at_a:])  # a Stop, not a pause

    at_a, at_b = alice.mark(), bob.mark()
    alice.api.unpause_sync_play()
    for app, mark in ((alice, at_a), (bob, at_b)):
        q = _queue_update(app, "NewPlaylist", mark)  # load the item again
        assert q["StartPositionTicks"] == 0 and q["PlayingItemIndex"] == 0
    alice.ready(0.0, False, pid)
    bob.ready(0.0, False, pid)
    _, go = bob.command("Unpause", at_b + 1)
    assert go["PositionTicks"] < TICKS


def _group_of_two(alice: App, bob: App, item: str) -> str:
    """Alice makes group "g" playing ``item``; bob joins it. Its GroupId."""
    alice.api.new_sync_play_v2("g")
    at = alice.update("GroupJoined")[0] + 1
    alice.api.reset_queue_sync_play([item], 0, 0)
    group_id = alice.update("GroupJoined", at)[1]["Data"]["GroupId"]
    at_b = bob.mark()
    bob.api.join_sync_play(group_id)
    bob.update("GroupJoined", at_b)
    return group_id


def test_a_queue_someone_may_not_see_is_refused(apps: tuple[App, App], server: str, core: Core,
                                               library: Library) -> None:
    """Jellyfin refuses a queue one participant could not see: an item hidden from a
    member is 403 for the others, 404 (as unknown) for the member itself; a group
    whose queue holds a hidden item is unknown to that user."""
    alice, bob = apps
    sintel, bunny = _item(core, library, SINTEL), _item(core, library, BUNNY)
    group_id = _group_of_two(alice, bob, sintel)
    friend = core.users.by_name("friend")
    assert friend is not None
    with core.sessions() as s:  # the Bunny on a second source, granted to the admin only
        from reelhouse.db.models import MediaFile

        second = SourceRow(name="second", kind="local", path=str(library.root))
        s.add(second)
        s.commit()
        mf = s.get(MediaFile, library.files[BUNNY])
        assert mf is not None
        mf.source_id = second.id
        s.commit()
    core.users.update(friend.id, UserChange(restrict_sources=True, sources=[library.source_id]))
    r = _post(server, alice, "Queue", {"ItemIds": [bunny]})
    assert r.status_code == 403 and "may not play" in r.text
    r = _post(server, alice, "SetNewQueue", {"PlayingQueue": [sintel, bunny], "PlayingItemPosition": 0})
    assert r.status_code == 403
    assert _post(server, bob, "Queue", {"ItemIds": [bunny]}).status_code == 404
    q = alice.api._get(f"SyncPlay/{group_id}")
    assert q["GroupId"] == group_id
    # once bob is out, alice queues it; then the group is unknown to bob
    bob.api.leave_sync_play()
    assert _post(server, alice, "Queue", {"ItemIds": [bunny]}).status_code == 204
    r = requests.get(f"{server}/jellyfin/SyncPlay/{group_id}", headers={"x-emby-token": bob.token}, timeout=10)
    assert r.status_code == 404


def test_a_session_that_ends_leaves_its_group(apps: tuple[App, App], server: str, core: Core,
                                              library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sessions/Logout, or a session revoked while its socket is open: the app leaves
    its group and the others get UserLeft (Jellyfin's SessionEnded)."""
    from reelhouse.jellyfin import socket as jf_socket

    monkeypatch.setattr(jf_socket, "RECHECK_SECONDS", 0.3)
    alice, bob = apps
    sintel = _item(core, library, SINTEL)
    group_id = _group_of_two(alice, bob, sintel)
    at_a = alice.mark()
    r = requests.post(f"{server}/jellyfin/Sessions/Logout", headers={"x-emby-token": bob.token}, timeout=10)
    assert r.status_code == 204
    assert alice.update("UserLeft", at_a)[1]["Data"] == "friend"
    assert [g["Participants"] for g in alice.api.get_sync_play()] == [[ADMIN]]

    # a third app, revoked by an admin while its socket is open
    carl = App(server + "/jellyfin", "friend", "friend-password", "friend-tablet")
    try:
        at_a, at_c = alice.mark(), carl.mark()
        carl.api.join_sync_play(group_id)
        carl.update("GroupJoined", at_c)
        alice.update("UserJoined", at_a)
        at_a = alice.mark()
        core.auth_sessions.revoke_token(carl.token)
        assert alice.update("UserLeft", at_a)[1]["Data"] == "friend"
        assert [g["Participants"] for g in alice.api.get_sync_play()] == [[ADMIN]]
    finally:
        carl.close()

    # one revoked with its socket closed: swept out when another app pings the group
    dave = App(server + "/jellyfin", "friend", "friend-password", "friend-laptop")
    at_a, at_d = alice.mark(), dave.mark()
    dave.api.join_sync_play(group_id)
    dave.update("GroupJoined", at_d)
    alice.update("UserJoined", at_a)
    dave.close()
    core.auth_sessions.revoke_token(dave.token)
    at_a = alice.mark()
    alice.api.ping_sync_play(40)
    assert alice.update("UserLeft", at_a)[1]["Data"] == "friend"
    with core.sessions() as s:
        from reelhouse.db.models import SyncPlayMember

        assert s.query(SyncPlayMember).filter_by(user_id=core.users.by_name("friend").id).count() == 0  # type: ignore[union-attr]


def test_a_browser_member_reads_the_queue(apps: tuple[App, App], server: str, core: Core,
                                          library: Library) -> None:
    """GET /api/parties/{code}/queue: the apps' queue in play order with the playing
    entry marked, following the apps' changes; 403 before joining, 404 for an unknown
    code; an emptied queue is idle (index -1). Each app's change is told to the
    member's party socket (a ``queue`` message) right away."""
    alice = apps[0]
    sintel, bunny, ep1 = (_item(core, library, r) for r in (SINTEL, BUNNY, EP1))
    alice.api.new_sync_play_v2("queue")
    at = alice.update("GroupJoined")[0] + 1
    alice.api.reset_queue_sync_play([sintel, bunny], 1, 0)
    group_id = alice.update("GroupJoined", at)[1]["Data"]["GroupId"]
    pids = [e["PlaylistItemId"] for e in _queue_update(alice, "NewPlaylist", at)["Playlist"]]
    code = _party_code(core, group_id)
    carol = core.users.add("carol", "carol-password")
    headers = {"authorization": f"Bearer {session_token(core, carol.id)}"}
    url = f"{server}/api/parties/{code}/queue"
    r = requests.get(url, headers=headers, timeout=10)
    assert r.status_code == 403, r.text
    assert requests.get(f"{server}/api/parties/ZZZZZZ/queue", headers=headers, timeout=10).status_code == 404
    assert requests.post(f"{server}/api/parties/{code}/join", headers=headers, timeout=10).status_code == 200
    body = requests.get(url, headers=headers, timeout=10).json()
    assert body["playing_index"] == 1
    assert [(e["playlist_item_id"], e["media_file_id"], e["playing"]) for e in body["items"]] == [
        (pids[0], library.files[SINTEL], False), (pids[1], library.files[BUNNY], True)]
    assert body["items"][0]["title"] == "Sintel"
    assert (body["repeat"], body["shuffle"]) == ("none", False)

    ws_url = server.replace("http://", "ws://") + f"/api/parties/{code}/ws"
    with websockets.sync.client.connect(ws_url, additional_headers=headers) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
        # an app queues an episode: the member's socket says so, the browser sees it at the end
        assert _post(server, alice, "Queue", {"ItemIds": [ep1]}).status_code == 204
        _queue_message(ws)
        body = requests.get(url, headers=headers, timeout=10).json()
        assert [e["media_file_id"] for e in body["items"]] == [library.files[SINTEL], library.files[BUNNY],
                                                               library.files[EP1]]
        # emptied: nothing plays
        assert _post(server, alice, "RemoveFromPlaylist",
                     {"ClearPlaylist": True, "ClearPlayingItem": True}).status_code == 204
        _queue_message(ws)
    assert requests.get(url, headers=headers, timeout=10).json() == {"playing_index": -1, "items": [],
                                                                     "repeat": "none", "shuffle": False}


def _queue_message(ws: Any) -> None:
    """Read the party socket up to its next ``queue`` message (state messages go by)."""
    deadline = time.monotonic() + 30  # generous: a loaded 2-core machine
    while True:
        msg = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if msg["type"] == "queue":
            assert msg == {"v": 1, "type": "queue"}
            return


def test_a_browser_member_sets_repeat_and_shuffle(apps: tuple[App, App], server: str, core: Core,
                                                  library: Library) -> None:
    """POST /api/parties/{code}/queue ``repeat`` / ``shuffle``: SyncPlay's SetRepeatMode /
    SetShuffleMode; each app (jellyfin-apiclient-python's socket) gets the PlayQueue
    update with the mode, the member's socket gets a ``queue`` message, and an app's
    mode shows in GET. Bad modes are 400 and change nothing."""
    alice, bob = apps
    group_id = _group_of_two(alice, bob, _item(core, library, SINTEL))
    for rel in (BUNNY, EP1):
        assert _post(server, alice, "Queue", {"ItemIds": [_item(core, library, rel)]}).status_code == 204
    code = _party_code(core, group_id)
    carol = core.users.add("carol", "carol-password")
    headers = {"authorization": f"Bearer {session_token(core, carol.id)}"}
    assert requests.post(f"{server}/api/parties/{code}/join", headers=headers, timeout=10).status_code == 200
    url = f"{server}/api/parties/{code}/queue"
    ws_url = server.replace("http://", "ws://") + f"/api/parties/{code}/ws"
    with websockets.sync.client.connect(ws_url, additional_headers=headers) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
        for mode, jellyfin in (("one", "RepeatOne"), ("all", "RepeatAll"), ("none", "RepeatNone")):
            at_a, at_b = alice.mark(), bob.mark()
            r = requests.post(url, json={"op": "repeat", "repeat": mode}, headers=headers, timeout=10)
            assert r.status_code == 200 and r.json()["repeat"] == mode, r.text
            for app, mark in ((alice, at_a), (bob, at_b)):
                assert _queue_update(app, "RepeatMode", mark)["RepeatMode"] == jellyfin
            _queue_message(ws)

        before = [e["playlist_item_id"] for e in requests.get(url, headers=headers, timeout=10).json()["items"]]
        at_a = alice.mark()
        r = requests.post(url, json={"op": "shuffle", "shuffle": True}, headers=headers, timeout=10)
        assert r.status_code == 200 and r.json()["shuffle"] is True, r.text
        q = _queue_update(alice, "ShuffleMode", at_a)
        assert q["ShuffleMode"] == "Shuffle" and q["PlayingItemIndex"] == 0  # the playing entry first
        assert [e["PlaylistItemId"] for e in q["Playlist"]] == [e["playlist_item_id"] for e in r.json()["items"]]
        assert sorted(e["PlaylistItemId"] for e in q["Playlist"]) == sorted(before)
        _queue_message(ws)
        at_a = alice.mark()
        r = requests.post(url, json={"op": "shuffle", "shuffle": False}, headers=headers, timeout=10)
        assert r.json()["shuffle"] is False and [e["playlist_item_id"] for e in r.json()["items"]] == before
        assert _queue_update(alice, "ShuffleMode", at_a)["ShuffleMode"] == "Sorted"
        _queue_message(ws)

        # an app's modes: the member's socket says so, GET shows them
        assert _post(server, bob, "SetRepeatMode", {"Mode": "RepeatAll"}).status_code == 204
        _queue_message(ws)
        assert _post(server, bob, "SetShuffleMode", {"Mode": "Shuffle"}).status_code == 204
        _queue_message(ws)
        body = requests.get(url, headers=headers, timeout=10).json()
        assert (body["repeat"], body["shuffle"]) == ("all", True)

    for bad in ({"op": "repeat"}, {"op": "repeat", "repeat": "RepeatOne"}, {"op": "repeat", "repeat": "some"},
                {"op": "shuffle"}, {"op": "shuffle", "shuffle": "sideways"}, {"op": "shuffle", "shuffle": None}):
        r = requests.post(url, json=bad, headers=headers, timeout=10)
        assert r.status_code == 400, (bad, r.text)
    body = requests.get(url, headers=headers, timeout=10).json()
    assert (body["repeat"], body["shuffle"]) == ("all", True)


def test_a_browser_member_edits_the_queue(apps: tuple[App, App], server: str, core: Core,
                                          library: Library) -> None:
    """POST /api/parties/{code}/queue: a browser member adds, moves, steps back to and
    removes entries; each Jellyfin app gets the PlayQueue update with Jellyfin's reason,
    and a new playing entry loads the party's file. A file the member may not see is
    404, one another member may not see is 403, as the SyncPlay routes rule; a
    non-member is 403; a missing field is 400."""
    alice, bob = apps
    group_id = _group_of_two(alice, bob, _item(core, library, SINTEL))
    code = _party_code(core, group_id)
    carol = core.users.add("carol", "carol-password")
    headers = {"authorization": f"Bearer {session_token(core, carol.id)}"}
    url = f"{server}/api/parties/{code}/queue"
    add_bunny = {"op": "add", "media_file_id": library.files[BUNNY]}
    assert requests.post(url, json=add_bunny, headers=headers, timeout=10).status_code == 403  # not a member
    assert requests.post(f"{server}/api/parties/{code}/join", headers=headers, timeout=10).status_code == 200

    at_a, at_b = alice.mark(), bob.mark()
    r = requests.post(url, json=add_bunny, headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    sintel_pid, bunny_pid = (e["playlist_item_id"] for e in r.json()["items"])
    for app, mark in ((alice, at_a), (bob, at_b)):
        update = _queue_update(app, "Queue", mark)
        assert [e["PlaylistItemId"] for e in update["Playlist"]] == [sintel_pid, bunny_pid]
        assert update["PlayingItemIndex"] == 0

    at_a = alice.mark()
    r = requests.post(url, json={"op": "move", "playlist_item_id": bunny_pid, "index": 0}, headers=headers,
                      timeout=10)
    assert [e["playlist_item_id"] for e in r.json()["items"]] == [bunny_pid, sintel_pid]
    assert _queue_update(alice, "MoveItem", at_a)["PlayingItemIndex"] == 1

    at_a = alice.mark()
    r = requests.post(url, json={"op": "previous"}, headers=headers, timeout=10)
    assert r.json()["playing_index"] == 0
    assert _queue_update(alice, "PreviousItem", at_a)["PlayingItemIndex"] == 0
    assert _party_file(core, group_id)[0] == library.files[BUNNY]

    at_b = bob.mark()
    r = requests.post(url, json={"op": "remove", "playlist_item_id": sintel_pid}, headers=headers, timeout=10)
    assert [e["playlist_item_id"] for e in r.json()["items"]] == [bunny_pid]
    assert [e["PlaylistItemId"] for e in _queue_update(bob, "RemoveItems", at_b)["Playlist"]] == [bunny_pid]

    # refusals change nothing
    for body, status in (({"op": "add"}, 400), ({"op": "move", "playlist_item_id": bunny_pid}, 400),
                         ({"op": "remove", "playlist_item_id": "f" * 32}, 404),
                         ({"op": "dance"}, 400), ({"op": "add", "media_file_id": "x"}, 400)):
        r = requests.post(url, json=body, headers=headers, timeout=10)
        assert r.status_code == status, (body, r.text)
    with core.sessions() as s:  # EP1 on a second source that neither friend nor carol were granted
        from reelhouse.db.models import MediaFile

        second = SourceRow(name="second", kind="local", path=str(library.root))
        s.add(second)
        s.commit()
        mf = s.get(MediaFile, library.files[EP1])
        assert mf is not None
        mf.source_id = second.id
        s.commit()
    friend = core.users.by_name("friend")
    assert friend is not None
    for uid in (friend.id, carol.id):
        core.users.update(uid, UserChange(restrict_sources=True, sources=[library.source_id]))
    add_ep1 = {"op": "add", "media_file_id": library.files[EP1]}
    assert requests.post(url, json=add_ep1, headers=headers, timeout=10).status_code == 404
    admin = {"authorization": f"Bearer {session_token(core, 1)}"}
    r = requests.post(url, json=add_ep1, headers=admin, timeout=10)
    assert r.status_code == 403 and "may not play" in r.text
    assert [e["playlist_item_id"] for e in requests.get(url, headers=headers, timeout=10).json()["items"]] == [
        bunny_pid]


def test_a_flood_of_queue_changes_is_cut(apps: tuple[App, App], server: str, core: Core,
                                         library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    """A member's script sending queue changes as fast as it can gets 429 with
    Retry-After once past the burst (20), and the queue holds what got through."""
    from reelhouse.jellyfin import party_queue

    # refilled at 0.5/s, not 5/s: 40 requests on a loaded 2-core machine can take over the
    # 4 s in which 5/s refills the other 20, and none would be cut
    monkeypatch.setattr(party_queue, "EDITS_PER_SECOND", 0.5)
    alice, bob = apps
    group_id = _group_of_two(alice, bob, _item(core, library, SINTEL))
    code = _party_code(core, group_id)
    carol = core.users.add("carol", "carol-password")
    headers = {"authorization": f"Bearer {session_token(core, carol.id)}"}
    assert requests.post(f"{server}/api/parties/{code}/join", headers=headers, timeout=10).status_code == 200
    url = f"{server}/api/parties/{code}/queue"
    statuses = [requests.post(url, json={"op": "add", "media_file_id": library.files[BUNNY]}, headers=headers,
                              timeout=10) for _ in range(40)]
    added = sum(r.status_code == 200 for r in statuses)
    cut = [r for r in statuses if r.status_code == 429]
    assert cut and cut[0].headers["retry-after"] == "1" and added + len(cut) == 40
    assert 20 <= added < 40
    assert len(requests.get(url, headers=headers, timeout=10).json()["items"]) == 1 + added


def test_a_browser_partys_one_entry_can_be_named_back(server: str, core: Core, library: Library) -> None:
    """A party no app gave a queue: the entry id GET shows is the one the queue's
    changes take (it was ``file-N`` there and the apps' id in the changes: 404)."""
    admin = core.users.by_name(ADMIN)
    assert admin is not None
    headers = {"authorization": f"Bearer {session_token(core, admin.id)}"}
    r = requests.post(f"{server}/api/parties", json={"media_file_id": library.files[SINTEL]}, headers=headers,
                      timeout=10)
    assert r.status_code == 201, r.text
    url = f"{server}/api/parties/{r.json()['code']}/queue"
    entry = requests.get(url, headers=headers, timeout=10).json()["items"][0]["playlist_item_id"]
    r = requests.post(url, json={"op": "play", "playlist_item_id": entry}, headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["items"][0]["playlist_item_id"] == entry and r.json()["playing_index"] == 0
