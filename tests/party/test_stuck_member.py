"""A member whose socket takes nothing at all (a phone locked with the tab open, a
hostile client keeping its TCP window shut) must not stay in the party for ever: its
messages are skipped while it lags (hub.PartyQueue), and once one message cannot be
handed to its socket for ``party_socket.SEND_TIMEOUT`` seconds it is dropped and shown
disconnected. The others never wait for it. Real server (uvicorn on loopback), real
WebSocket clients."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from party.live_server import connect, live_party, party

from reelhouse.api import party_socket

from helpers import ADMIN

pytestmark = pytest.mark.timeout(90)
pytest.importorskip("websockets.sync.client")


def _drain(ws: Any, seen: list[tuple[float, dict[str, Any]]]) -> threading.Thread:
    """Read everything ``ws`` gets, as a live tab does, noting when each message came."""
    def run() -> None:
        try:
            for raw in ws:
                seen.append((time.monotonic(), json.loads(raw)))
        except Exception:
            return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _wait(what: str, check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_a_member_that_reads_nothing_is_dropped_and_never_holds_the_others(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the send timeout sets the bug's delay apart from a loaded machine's (8 s vs < 5 s)
    monkeypatch.setattr(party_socket, "SEND_TIMEOUT", 8.0, raising=False)
    with live_party(tmp_path, ws_messages_per_second=100_000) as lp:
        base, tokens, code = lp.base, lp.tokens, lp.code
        with connect(base, code, tokens[ADMIN]) as host, connect(base, code, tokens["alex"]) as alex, \
                connect(base, code, tokens["sam"], rcvbuf=2048) as stuck:
            host_seen: list[tuple[float, dict[str, Any]]] = []
            alex_seen: list[tuple[float, dict[str, Any]]] = []
            _drain(host, host_seen)
            _drain(alex, alex_seen)
            stuck.recv(timeout=10)  # welcome; then it reads nothing more
            for i in range(400):  # enough to fill every buffer between the server and it
                host.send(json.dumps({"v": 1, "type": "seek", "position": float(i % 600 + 1)}))
            host.send(json.dumps({"v": 1, "type": "ping", "t0": 1.0}))
            _wait("the host's commands were not handled",
                  lambda: any(m["type"] == "pong" for _, m in host_seen), 60)

            # the others never wait for it: a command reaches alex at once
            sent = time.monotonic()
            host.send(json.dumps({"v": 1, "type": "seek", "position": 1234.0}))
            _wait("alex did not get the seek", lambda: any(
                m.get("party", {}).get("position") == 1234.0 for _, m in alex_seen), 10)
            arrived = next(t for t, m in alex_seen if m.get("party", {}).get("position") == 1234.0)
            assert arrived - sent < 5.0  # not behind the stuck member's 8 s send timeout

            # and the stuck member is dropped: shown disconnected, its socket's work ended
            def sam() -> dict[str, Any]:
                return next(p for p in party(base, tokens[ADMIN], code)["participants"] if p["name"] == "sam")

            _wait("the member that reads nothing still counts as connected",
                  lambda: not sam()["connected"], 40)
            assert any(m.get("event") and m["event"]["kind"] == "disconnect" and m["event"]["name"] == "sam"
                       for _, m in alex_seen)

            with connect(base, code, tokens["sam"]) as again:  # back, reading: it joins as usual
                welcome = json.loads(again.recv(timeout=10))
                assert welcome["type"] == "welcome" and welcome["party"]["position"] == 1234.0
                _wait("sam is not connected again", lambda: sam()["connected"], 10)
