"""The pure SyncPlay translation (reelhouse/jellyfin/syncplay.py): times and ticks as
.NET writes them, and what an app is told for each party message."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as hs

from reelhouse.jellyfin.syncplay import NO_ITEM, TICKS, Follower, parse_utc, to_ticks, utc
from reelhouse.jellyfin.syncplay_queue import PlayQueue, one_item

G, ITEM, PLI = "0000000a7265656c0000000000000001", "000000017265656c0000000000000002", "x" * 32


@given(hs.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_utc_round_trips_to_100_ns(t: float) -> None:
    text = utc(t)
    assert len(text) == 28 and text.endswith("Z") and text[19] == "."  # 7 fractional digits
    back = parse_utc(text)
    assert back is not None and abs(back - t) < 2e-6  # Python keeps 6 of the 7 digits


def test_utc_parsing_table() -> None:
    epoch = datetime(2026, 11, 28, 14, 0, tzinfo=UTC).timestamp()
    for text, want in [("2026-11-28T14:00:00Z", epoch), ("2026-11-28T14:00:00.5Z", epoch + 0.5),
                       ("2026-11-28T14:00:00.1234567Z", epoch + 0.123456),
                       ("2026-11-28T16:00:00+02:00", epoch), ("2026-11-28T14:00:00", epoch),
                       ("2026-11-28T14:00:00.250", epoch + 0.25)]:
        assert parse_utc(text) == want, text
    for bad in ("", "yesterday", "2026-13-01T00:00:00Z", None, 5, "9" * 100):
        assert parse_utc(bad) is None, bad
    assert utc(epoch + 0.99999999) == "2026-11-28T14:00:01.0000000Z"


def test_ticks() -> None:
    assert to_ticks(1.5) == 15_000_000 == 1.5 * TICKS
    assert to_ticks(-1) == 0 and to_ticks(float("nan")) == 0


def _party(state: str, position: float, at: float) -> dict[str, Any]:
    return {"state": state, "position": position, "at": at, "rate": 1.0, "duration": 600.0}


def _read(texts: list[str]) -> list[tuple[str, Any]]:
    out = []
    for t in texts:
        m = json.loads(t)
        data = m["Data"]
        out.append((data["Command"], data) if m["MessageType"] == "SyncPlayCommand" else (data["Type"], data["Data"]))
    return out


def test_follower_tells_an_app_what_the_party_does() -> None:
    f = Follower(G, "Watch party ABC123", 1, one_item(ITEM, PLI, 7, 0.0), 0)
    hello = _read(f.welcome({"party": _party("playing", 10.0, 1000.0),
                             "members": [{"id": 1, "name": "ann"}, {"id": 2, "name": "bob"}]}, 1002.0))
    assert [k for k, _ in hello] == ["GroupJoined", "PlayQueue", "Unpause"]  # the state is in GroupJoined
    assert hello[0][1]["Participants"] == ["ann", "bob"] and hello[0][1]["State"] == "Playing"
    assert hello[1][1]["StartPositionTicks"] == 12 * TICKS and hello[1][1]["IsPlaying"] is True
    assert hello[1][1]["Playlist"] == [{"ItemId": ITEM, "PlaylistItemId": PLI}]
    unpause = hello[2][1]
    assert (unpause["When"], unpause["PositionTicks"]) == (utc(1000.0), 10 * TICKS)
    assert unpause["EmittedAt"] == utc(1002.0) and unpause["PlaylistItemId"] == PLI and unpause["GroupId"] == G

    # a pause: Pause where the party stopped, at that moment
    out, seek = f.on_message({"type": "state", "party": _party("paused", 14.0, 1004.0), "members": [],
                              "gone": [], "event": {"kind": "pause", "by": 2}}, 1004.1)
    assert not seek and [k for k, _ in _read(out)] == ["StateUpdate", "Pause"]
    assert _read(out)[0][1] == {"State": "Paused", "Reason": "Pause"}
    assert _read(out)[1][1]["PositionTicks"] == 14 * TICKS and _read(out)[1][1]["When"] == utc(1004.0)
    # the same state again (a member's change only): nothing to do
    out, _ = f.on_message({"type": "state", "party": _party("paused", 14.0, 1004.0),
                           "members": [{"id": 3, "name": "cy"}], "gone": [], "event": None}, 1005.0)
    assert _read(out) == [("UserJoined", "cy")]
    # a seek: Seek only (the app says Ready when there; the start follows)
    out, seek = f.on_message({"type": "state", "party": _party("paused", 30.0, 1006.0), "members": [],
                              "gone": [], "event": {"kind": "seek", "by": 2}}, 1006.0)
    assert seek and [(k, d.get("PositionTicks")) for k, d in _read(out)] == [("StateUpdate", None),
                                                                             ("Seek", 30 * TICKS)]
    # someone buffers while playing: Pause; then everyone is ready: Unpause ahead
    f.on_message({"type": "state", "party": _party("playing", 30.0, 1007.3), "members": [], "gone": [],
                  "event": {"kind": "play", "by": 1}}, 1007.0)
    out, _ = f.on_message({"type": "state", "party": _party("waiting", 31.0, 1008.3), "members": [],
                           "gone": [], "event": {"kind": "buffering", "by": 3}}, 1008.3)
    assert [k for k, _ in _read(out)] == ["StateUpdate", "Pause"]
    out, _ = f.on_message({"type": "state", "party": _party("playing", 31.0, 1010.3), "members": [],
                           "gone": [3], "event": {"kind": "resumed"}}, 1010.0)
    assert [(k, d) if k != "Unpause" else (k, d["When"]) for k, d in _read(out)] == [
        ("UserLeft", "cy"), ("StateUpdate", {"State": "Playing", "Reason": "Ready"}), ("Unpause", utc(1010.3))]
    # resend: the current command again, even unchanged
    assert [k for k, _ in _read(f.resend(_party("playing", 31.0, 1010.3), 1011.0))] == ["Unpause"]
    # the party ends: GroupLeft
    out, _ = f.on_message({"type": "ended", "party": _party("ended", 40.0, 1020.0), "members": [], "gone": [],
                           "event": {"kind": "end", "by": 2}}, 1020.0)
    assert _read(out) == [("GroupLeft", G)]


def test_follower_full_member_list_replaces_names() -> None:
    f = Follower(G, "g", 1, one_item(ITEM, PLI, 7, 0.0), 0)
    f.welcome({"party": _party("paused", 0, 1.0), "members": [{"id": 1, "name": "ann"}, {"id": 2, "name": "bob"}]}, 2.0)
    out, _ = f.on_message({"type": "state", "party": _party("paused", 0, 1.0), "full": True, "gone": [],
                           "members": [{"id": 1, "name": "ann"}, {"id": 4, "name": "dee"}], "event": None}, 3.0)
    assert sorted(_read(out)) == [("UserJoined", "dee"), ("UserLeft", "bob")]


def _state(state: str, position: float, at: float, kind: str | None) -> dict[str, Any]:
    return {"type": "state", "party": _party(state, position, at), "members": [], "gone": [],
            "event": {"kind": kind, "by": 2} if kind else None}


def test_follower_stop_and_start_over() -> None:
    """Stop: the group is Idle and the app unloads the item (Stop); the next play
    sends the queue again from 0 (the app loads it) and the app buffers."""
    f = Follower(G, "g", 1, one_item(ITEM, PLI, 7, 0.0), 0)
    f.welcome({"party": _party("playing", 10.0, 1000.0), "members": []}, 1001.0)
    out, loads = f.on_message(_state("idle", 0.0, 1002.0, "stop"), 1002.0)
    assert not loads and [(k, d) if k == "StateUpdate" else (k, d["PositionTicks"]) for k, d in _read(out)] == [
        ("StateUpdate", {"State": "Idle", "Reason": "Stop"}), ("Stop", 0)]
    out, loads = f.on_message(_state("playing", 0.0, 1003.3, "play"), 1003.0)
    got = _read(out)
    assert loads and [k for k, _ in got] == ["PlayQueue", "StateUpdate", "Unpause"]
    assert got[0][1]["Reason"] == "NewPlaylist" and got[0][1]["StartPositionTicks"] == 0
    # a play after a mere pause: no new queue
    f.on_message(_state("paused", 5.0, 1004.0, "pause"), 1004.0)
    out, loads = f.on_message(_state("playing", 5.0, 1005.3, "play"), 1005.0)
    assert not loads and [k for k, _ in _read(out)] == ["StateUpdate", "Unpause"]


def test_follower_another_item() -> None:
    """The queue moved on: its update once per version (NextItem), then Waiting and
    Pause with the new PlaylistItemId until everyone is ready."""
    ids = iter(["p1", "p2", "p3"])
    q = PlayQueue.new([("a", 1), ("b", 2), ("c", 3)], 0, 100.0, lambda: next(ids))
    f = Follower(G, "g", 1, q, 1)
    f.welcome({"party": _party("playing", 10.0, 1000.0), "members": []}, 1001.0)
    nxt = q.next(1002.0)
    assert nxt is not None
    party = _party("waiting", 0.0, 1002.0)
    out = f.set_queue(nxt, 2, party, 1002.0)
    assert f.set_queue(nxt, 2, party, 1002.5) == []  # told already
    update = _read(out)[0][1]
    assert (update["Reason"], update["PlayingItemIndex"], update["IsPlaying"]) == ("NextItem", 1, False)
    assert [e["PlaylistItemId"] for e in update["Playlist"]] == ["p1", "p2", "p3"]
    out, loads = f.on_message(_state("waiting", 0.0, 1002.0, "load"), 1002.0)
    got = _read(out)
    assert not loads and [k for k, _ in got] == ["StateUpdate", "Pause"]
    assert got[0][1] == {"State": "Waiting", "Reason": "NextItem"} and got[1][1]["PlaylistItemId"] == "p2"
    # told again on purpose (an app that reported another item): SetCurrentItem
    again = _read(f.set_queue(nxt, 2, party, 1003.0, "SetCurrentItem"))
    assert again[0][1]["Reason"] == "SetCurrentItem"
    # nothing left to play: commands name no item (Guid.Empty)
    empty = nxt.clear(False, 1004.0)
    f.set_queue(empty, 3, _party("idle", 0.0, 1004.0), 1004.0)
    out, _ = f.on_message(_state("idle", 0.0, 1004.0, "stop"), 1004.0)
    assert _read(out)[-1][1]["PlaylistItemId"] == NO_ITEM
