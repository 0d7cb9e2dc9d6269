"""SyncPlay across two API processes (``reelhouse serve``) sharing one database and a
real redis-server: an app's socket sits on one process while its SyncPlay calls land
on the other (a proxy spreads them), and two apps on different processes play
together."""

from __future__ import annotations

import shutil
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path

import pytest
import requests
from jellyfin.test_syncplay import App, short_select
from party.support import USERS, add_media_file

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.syncplay import TICKS

from helpers import serve_process

pytestmark = [
    pytest.mark.requires_redis,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is missing"),
    pytest.mark.timeout(120),
]


def api_process(data_dir: Path, redis_url: str) -> AbstractContextManager[str]:
    return serve_process({"REELHOUSE_DATA_DIR": str(data_dir), "REELHOUSE_PARTY_REDIS_URL": redis_url,
                          "REELHOUSE_LOG_LEVEL": "WARNING"})


def test_syncplay_across_two_processes(tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    short_select(monkeypatch)
    data_dir = tmp_path / "data"
    core = Core(load_settings(data_dir=data_dir))
    for name, password in USERS.items():
        core.users.add(name, password)
    first = add_media_file(core)
    with core.sessions() as s:
        from reelhouse.db.models import MediaFile

        row = s.get(MediaFile, first)
        assert row is not None
        other = MediaFile(source_id=row.source_id, path="next.mp4", size=1000, kind="movie", duration=30.0)
        s.add(other)
        s.commit()
        second = other.id
    item, item2 = ids.encode("file", first), ids.encode("file", second)
    core.close()

    with ExitStack() as stack:
        one = stack.enter_context(api_process(data_dir, redis_url))
        two = stack.enter_context(api_process(data_dir, redis_url))
        sam = App(one + "/jellyfin", "sam", USERS["sam"], "sam-phone")  # its socket on one
        stack.callback(sam.close)
        alex = App(two + "/jellyfin", "alex", USERS["alex"], "alex-tv")  # its socket on two
        stack.callback(alex.close)

        def call(base: str, app: App, path: str, body: object = None) -> requests.Response:
            r = requests.post(f"{base}/jellyfin/SyncPlay/{path}", json=body if body is not None else {},
                              headers={"x-emby-token": app.token}, timeout=30)
            assert r.status_code in (200, 204), (path, r.text)
            return r

        # sam's calls go to process two; its socket on one hears of them through redis
        group = call(two, sam, "New", {"GroupName": "across"}).json()
        sam.update("GroupJoined")
        at = sam.mark()
        call(two, sam, "SetNewQueue", {"PlayingQueue": [item, item2], "PlayingItemPosition": 0,
                                       "StartPositionTicks": 3 * TICKS})
        _, joined = sam.update("GroupJoined", at)
        group_id = joined["Data"]["GroupId"]
        assert group_id != group["GroupId"]  # a group with its item is a party
        _, queue = sam.update("PlayQueue", at)
        assert queue["Data"]["Playlist"][0]["ItemId"] == item

        at_s, at_a = sam.mark(), alex.mark()
        call(one, alex, "Join", {"GroupId": group_id})  # alex's call on one, its socket on two
        alex.update("GroupJoined", at_a)
        assert sam.update("UserJoined", at_s)[1]["Data"] == "alex"

        at_s, at_a = sam.mark(), alex.mark()
        call(one, sam, "Unpause")
        call(two, sam, "Ready", {"When": "2026-01-01T00:00:00Z", "PositionTicks": 3 * TICKS,
                                 "IsPlaying": False, "PlaylistItemId": queue["Data"]["Playlist"][0]["PlaylistItemId"]})
        call(one, alex, "Ready", {"When": "2026-01-01T00:00:00Z", "PositionTicks": 3 * TICKS,
                                  "IsPlaying": False, "PlaylistItemId": queue["Data"]["Playlist"][0]["PlaylistItemId"]})
        go = [app.command("Unpause", mark)[1] for app, mark in ((sam, at_s), (alex, at_a))]
        assert go[0]["When"] == go[1]["When"] and go[0]["PositionTicks"] == go[1]["PositionTicks"] == 3 * TICKS

        at_s = sam.mark()
        call(two, alex, "Seek", {"PositionTicks": 7 * TICKS})
        assert sam.command("Seek", at_s)[1]["PositionTicks"] == 7 * TICKS

        # the next item, asked on one process: both apps (sockets on each) get the queue
        at_s, at_a = sam.mark(), alex.mark()
        call(one, alex, "NextItem", {"PlaylistItemId": queue["Data"]["Playlist"][0]["PlaylistItemId"]})
        for app, mark in ((sam, at_s), (alex, at_a)):
            _, moved = app.wait(lambda k, d: k == "SyncPlayGroupUpdate" and d.get("Type") == "PlayQueue"
                                and d["Data"]["Reason"] == "NextItem", after=mark)
            assert moved["Data"]["PlayingItemIndex"] == 1 and moved["Data"]["Playlist"][1]["ItemId"] == item2
            new_pid = moved["Data"]["Playlist"][1]["PlaylistItemId"]
            app.wait(lambda k, d, pid=new_pid: k == "SyncPlayCommand" and d["Command"] == "Pause"
                     and d["PlaylistItemId"] == pid and d["PositionTicks"] == 0, after=mark)

        at_s, at_a = sam.mark(), alex.mark()
        call(two, alex, "Leave")
        alex.update("GroupLeft", at_a)
        assert sam.update("UserLeft", at_s)[1]["Data"] == "alex"
