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
from jellyfin.support import Library
from jellyfin_apiclient_python import JellyfinClient

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
        self.client = JellyfinClient(allow_multiple_clients=True)
        self.client.config.app("reelhouse-tests", "1.0", device, device)
        self.client.config.data["auth.ssl"] = False
        self.client.auth.connect_to_address(server)
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

    def wait(self, match: Callable[[str, dict[str, Any]], bool], timeout: float = 10.0,
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
    assert abs(_when(stop) - time.time()) < 2

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
        deadline = time.monotonic() + 10
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


def test_utc_time_for_the_clock_estimate(apps: tuple[App, App]) -> None:
    alice, _ = apps
    before = datetime.now(UTC).replace(tzinfo=None)
    got = alice.api.utc_time()  # the client's own parser: 7 fractional digits and a Z
    assert got["request_received"] <= got["response_sent"]
    assert abs((got["request_received"] - before).total_seconds()) < 2


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


def test_another_item_moves_the_group(apps: tuple[App, App], core: Core, library: Library) -> None:
    """SetNewQueue with another item: a party plays one file, so a new party takes the
    group's apps, both told (GroupJoined with its id, its play queue); the old party,
    left empty, ends; so does a party its last app leaves."""
    alice, bob = apps
    sintel = ids.encode("movie", _movie(core, library.files[SINTEL]))
    bunny = ids.encode("movie", _movie(core, library.files["Films/Big Buck Bunny (2008)/Big.Buck.Bunny.2008.mkv"]))
    alice.api.new_sync_play_v2("g")
    at = alice.update("GroupJoined")[0] + 1
    alice.api.reset_queue_sync_play([sintel], 0, 0)
    first = alice.update("GroupJoined", at)[1]["Data"]["GroupId"]
    at_b = bob.mark()
    bob.api.join_sync_play(first)
    bob.update("GroupJoined", at_b)

    at_a, at_b = alice.mark(), bob.mark()
    alice.api.reset_queue_sync_play([bunny], 0, 4 * TICKS)
    for app, mark in ((alice, at_a), (bob, at_b)):
        _, joined = app.update("GroupJoined", mark)
        assert joined["Data"]["GroupId"] != first
        assert set(joined["Data"]["Participants"]) == {ADMIN, "friend"}
        _, queue = app.wait(lambda k, d: k == "SyncPlayGroupUpdate" and d.get("Type") == "PlayQueue"
                            and d["Data"]["Playlist"][0]["ItemId"] == bunny, after=mark)
        assert queue["Data"]["StartPositionTicks"] == pytest.approx(4 * TICKS, abs=TICKS // 2)
    groups = {g["GroupId"]: g["Participants"] for g in bob.api.get_sync_play()}
    assert list(groups) == [joined["Data"]["GroupId"]]
    assert sorted(groups[joined["Data"]["GroupId"]]) == [ADMIN, "friend"]
    with core.sessions() as s:  # the old party, empty, ended (it would count against party_max_open)
        from reelhouse.db.models import WatchSession

        old = s.get(WatchSession, ids.decode(first, "party").id)
        assert old is not None and old.state == "ended"
    assert all(d.get("Type") != "GroupLeft" for _, d in alice.messages[at_a:] + bob.messages[at_b:])

    # the last app leaving ends its party too
    at_a = alice.mark()
    bob.api.leave_sync_play()
    alice.update("UserLeft", at_a)
    alice.api.leave_sync_play()
    alice.update("GroupLeft", at_a)
    assert bob.api.get_sync_play() == []
