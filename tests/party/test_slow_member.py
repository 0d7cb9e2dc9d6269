"""A member whose connection stops reading (a frozen tab, a phone on a bad network)
loses the oldest of its waiting messages once its queue is full (party/hub.py); a lost
message that carried member changes must not leave its member list stale: the next
message it gets holds every member (``"full": true``). Real server (uvicorn on
loopback), real WebSocket clients (the ``websockets`` library); the slow one has a
small receive buffer and stops reading while the host plays and pauses hundreds of
times and a third member joins."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from party.live_server import connect as _connect
from party.live_server import live_party

from helpers import ADMIN

pytestmark = pytest.mark.timeout(120)
websockets_sync = pytest.importorskip("websockets.sync.client")


def _apply(members: dict[int, dict[str, Any]], msg: dict[str, Any]) -> None:
    """What party.js does with a message's members."""
    if msg["type"] == "welcome" or msg.get("full") is True:
        members.clear()
    for m in msg.get("members") or []:
        members[m["id"]] = m
    for uid in msg.get("gone") or []:
        members.pop(uid, None)


def test_a_slow_member_gets_the_whole_member_list_after_losing_changes(tmp_path: Path) -> None:
    with live_party(tmp_path, ws_messages_per_second=100_000) as lp:
        base, tokens, code = lp.base, lp.tokens, lp.code
        with _connect(base, code, tokens[ADMIN]) as host, \
                _connect(base, code, tokens["sam"], rcvbuf=2048) as slow:
            pongs: list[float] = []

            def drain_host() -> None:  # the host reads everything, as a live tab does
                try:
                    for raw in host:
                        msg = json.loads(raw)
                        if msg["type"] == "pong":
                            pongs.append(msg["t0"])
                except Exception:
                    return

            reader = threading.Thread(target=drain_host, daemon=True)
            reader.start()
            members: dict[int, dict[str, Any]] = {}
            _apply(members, json.loads(slow.recv(timeout=10)))  # welcome; then it stops reading

            def flood(n: int, mark: float) -> None:
                for i in range(n):
                    host.send(json.dumps({"v": 1, "type": "seek", "position": float(i % 600 + 1)}))
                host.send(json.dumps({"v": 1, "type": "ping", "t0": mark}))
                deadline = time.monotonic() + 60
                while mark not in pongs:  # every command before it is handled
                    assert time.monotonic() < deadline, "the host's commands were not handled"
                    time.sleep(0.02)

            flood(400, 1.0)
            # a member change, carried by one message only: alex joins
            j = httpx.post(f"http://{base}/api/parties/{code}/join",
                           headers={"authorization": f"Bearer {tokens['alex']}"}, timeout=30)
            assert j.status_code == 200, j.text
            flood(400, 2.0)
            truth = httpx.get(f"http://{base}/api/parties/{code}",
                              headers={"authorization": f"Bearer {tokens[ADMIN]}"}, timeout=30).json()
            want = {p["id"]: p["connected"] for p in truth["participants"]}
            # the slow member reads again: everything that is left for it (3 s of quiet
            # ends it once its list is right; a loaded machine may be quiet for 3 s
            # before the last messages come, so a wrong list waits up to 60 s for them)
            got = 0
            deadline = time.monotonic() + 60
            while True:
                try:
                    raw = slow.recv(timeout=3)
                except TimeoutError:
                    if {uid: m["connected"] for uid, m in members.items()} == want or time.monotonic() > deadline:
                        break
                    continue
                got += 1
                _apply(members, json.loads(raw))
            assert got < 800, "no message was dropped: the test did not fill the queue"
            assert {uid: m["connected"] for uid, m in members.items()} == want
            assert len(want) == 3  # the host, sam, alex
