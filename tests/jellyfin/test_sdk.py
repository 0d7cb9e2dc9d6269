"""The official Jellyfin TypeScript SDK (``@jellyfin/sdk`` from npm, driven by
``sdk/flow.mjs`` under node) against a live reelhouse: server discovery (it scores the
``System/Info/Public`` answer), log in, views, items, one item, seasons, episodes,
search hints, the filter menu, and PlaybackInfo with a DeviceProfile that needs HLS.

``npm ci`` in tests/jellyfin/sdk installs it (.ci/run does); without node or the
packages the test skips locally (and fails under CI=true)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from jellyfin.support import Library, set_genres

from reelhouse.core import Core
from reelhouse.db.models import Show

from helpers import ADMIN, ADMIN_PASSWORD

SDK = Path(__file__).parent / "sdk"

pytestmark = [pytest.mark.requires_ffmpeg, pytest.mark.requires_node, pytest.mark.usefixtures("jellyfin_sdk")]


def test_sdk_logs_in_and_browses(server: str, library: Library) -> None:
    out = subprocess.run(["node", "flow.mjs", server, ADMIN, ADMIN_PASSWORD], cwd=SDK,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["server"]["product"] == "Jellyfin Server" and got["server"]["address"] == server
    assert got["serverId"] == got["infoId"]
    assert got["views"] == [["Films", "movies"], ["Shows", "tvshows"]]
    size = (library.root / "Films/Sintel (2010)/Sintel.2010.mp4").stat().st_size
    assert got["movies"][1] == ["Sintel", 2010, size] and got["total"] == 2
    assert got["series"] == ["Example Show"]
    assert got["item"] == ["Big Buck Bunny", "Movie", 1]
    assert got["seasons"] == [1, 2]
    assert got["episodes"] == [[1, 1], [1, 2]]
    assert got["hints"] == [["Big Buck Bunny", "Movie", True]]
    assert got["years"] == [2008, 2010]
    assert got["playback"] == [False, "hls", True, "External", True]


def test_sdk_genres_prefs_and_switched_off_features(server: str, core: Core, library: Library) -> None:
    """Through the SDK: genres with counts and a genre's titles, empty people and
    studios, display preferences saved per client and read back, a SyncPlay group made,
    listed and left, and Quick Connect and playlists refused as a Jellyfin with them
    off refuses them."""
    set_genres(core, "Sintel", ["Animation"])
    set_genres(core, "Example Show", ["Drama"], Show)
    out = subprocess.run(["node", "extras.mjs", server, ADMIN, ADMIN_PASSWORD], cwd=SDK,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["genres"] == [["Drama", "Genre", 0, 1], ["Animation", "Genre", 1, 0]] and got["total"] == 2
    assert got["drama"] == ["Drama", "Genre"]
    assert got["byGenre"] == ["Example Show"]
    assert (got["persons"], got["studios"]) == (0, 0)
    assert got["prefs"] == ["SortName", "DateCreated,SortName", "Descending", "Poster",
                            {"landing-films": "favorites"}, "SortName"]
    assert got["quickConnect"] == [[200, False], [401, "Quick connect is disabled"],
                                   [401, "Quick connect is disabled"], [403, "Quick connect is disabled"]]
    assert got["syncPlay"] == [[200, []], [200, ["x", "Idle", [ADMIN]]], [200, 1], [204, ""],
                               [403, "this session is not in a SyncPlay group"]]
    assert got["playlists"][0][0] == 403 and got["playlists"][1] == [404, "no such playlist"]


def test_sdk_syncplay_queue(server: str, library: Library) -> None:
    """The SyncPlay queue through the SDK's typed requests (SetNewQueue, Queue
    QueueNext, NextItem, repeat and shuffle modes, MovePlaylistItem, SetPlaylistItem,
    PreviousItem, RemoveFromPlaylist, Stop): each change reaches the session's socket
    as a PlayQueue update with its reason, valid against the SDK's models."""
    from jellyfin import sdk_models
    from jellyfin.test_models import check

    out = subprocess.run(["node", "--experimental-websocket", "--no-warnings", "syncplay.mjs", server, ADMIN,
                          ADMIN_PASSWORD], cwd=SDK, capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert [c for c in got["calls"] if c[1] != 204] == [["new", 200], ["badMode", 400]], got["calls"]
    updates = [m["Data"]["Data"] for m in got["messages"]
               if m["MessageType"] == "SyncPlayGroupUpdate" and m["Data"]["Type"] == "PlayQueue"]
    reasons = [u["Reason"] for u in updates]
    assert reasons[0] == "NewPlaylist"
    for reason in ("QueueNext", "NextItem", "RepeatMode", "ShuffleMode", "MoveItem", "SetCurrentItem",
                   "PreviousItem", "RemoveItems"):
        assert reason in reasons, reasons
    ids, pids = got["ids"], got["pids"]
    by_reason = {u["Reason"]: u for u in updates}
    assert [e["ItemId"] for e in by_reason["QueueNext"]["Playlist"]] == [ids[0], ids[3], ids[1], ids[2]]
    assert by_reason["NextItem"]["PlayingItemIndex"] == 1
    assert by_reason["RepeatMode"]["RepeatMode"] == "RepeatOne"
    assert by_reason["ShuffleMode"]["ShuffleMode"] == "Shuffle" and by_reason["ShuffleMode"]["PlayingItemIndex"] == 0
    assert by_reason["MoveItem"]["Playlist"][0]["PlaylistItemId"] == pids[2]
    current = by_reason["SetCurrentItem"]
    assert current["Playlist"][current["PlayingItemIndex"]]["PlaylistItemId"] == pids[2]
    prev = by_reason["PreviousItem"]  # RepeatOne: the same entry again
    assert prev["Playlist"][prev["PlayingItemIndex"]]["PlaylistItemId"] == pids[2]
    assert pids[1] not in [e["PlaylistItemId"] for e in by_reason["RemoveItems"]["Playlist"]]
    assert [m["Data"]["Command"] for m in got["messages"] if m["MessageType"] == "SyncPlayCommand"][-1] == "Stop"
    if sdk_models.available():
        for u in updates:
            check(u, "PlayQueueUpdate")
        for m in got["messages"]:
            if m["MessageType"] == "SyncPlayCommand":
                check(m["Data"], "SendCommand")
