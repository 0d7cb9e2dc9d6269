"""Two API processes (``reelhouse serve`` under uvicorn, on loopback) share one party
through a real redis-server and one database: members connected to different processes
see every change, and their state messages agree."""

from __future__ import annotations

import shutil
import time
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from party.support import USERS, Member, add_media_file

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.party.clock import ClockEstimate

from helpers import serve_process

pytestmark = [
    pytest.mark.requires_redis,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is missing"),
    pytest.mark.timeout(120),
]

websockets_sync = pytest.importorskip("websockets.sync.client")


def api_process(data_dir: Path, redis_url: str) -> AbstractContextManager[str]:
    """``reelhouse serve`` on ``data_dir`` with its parties on ``redis_url``."""
    return serve_process({"REELHOUSE_DATA_DIR": str(data_dir), "REELHOUSE_PARTY_REDIS_URL": redis_url,
                          "REELHOUSE_LOG_LEVEL": "WARNING"})


def token(base: str, name: str) -> str:
    r = httpx.post(base + "/api/auth/login", json={"username": name, "password": USERS[name]}, timeout=30)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


class ClockedMember(Member):
    """A member with its own server-clock estimate (eight pings) and the party as it
    last heard of it."""

    def __init__(self, base: str, code: str, bearer: str) -> None:
        self.clock = ClockEstimate()
        self.party: dict[str, Any] = {}
        super().__init__(base, code, bearer)
        for _ in range(8):
            t0 = time.time()
            self.send(type="ping", t0=t0)
            pong = self.recv("pong")
            self.clock.add(pong["t0"], pong["server"], time.time())

    def _seen(self, msg: dict[str, Any]) -> None:
        if msg["type"] in ("state", "welcome"):
            self.party = msg["party"]

    def position(self, local: float | None = None) -> float:
        """Where playback should be at local time ``local`` (s; now by default), from
        this member's view of the server clock."""
        p = self.party
        now = self.clock.server_time(time.time() if local is None else local)
        pos = float(p["position"])
        if p["state"] == "playing" and now > p["at"]:
            pos += (now - p["at"]) * p["rate"]
        return pos


def _library(tmp_path: Path) -> tuple[Path, int]:
    """A data dir with the users and a media file row; its id."""
    core = Core(load_settings(data_dir=tmp_path / "data"))
    try:
        for name, password in USERS.items():
            core.users.add(name, password)
        return tmp_path / "data", add_media_file(core)
    finally:
        core.close()


def test_party_across_two_processes(tmp_path: Path, redis_url: str) -> None:
    data_dir, media_id = _library(tmp_path)

    with ExitStack() as stack:
        one = stack.enter_context(api_process(data_dir, redis_url))
        two = stack.enter_context(api_process(data_dir, redis_url))  # started after: migrations are done
        sam, alex = token(one, "sam"), token(two, "alex")
        r = httpx.post(one + "/api/parties", json={"media_file_id": media_id},
                       headers={"Authorization": f"Bearer {sam}"}, timeout=30)
        code = r.json()["code"]
        host = stack.enter_context(ClockedMember(one, code, sam))
        guest = stack.enter_context(ClockedMember(two, code, alex))  # on the other process
        host.recv("state", lambda m: m["event"] and m["event"]["kind"] == "join")  # alex, via redis

        host.send(type="seek", position=5.0)
        host.send(type="play")
        states = [m.recv("state", lambda x: x["party"]["state"] == "playing")["party"] for m in (host, guest)]
        assert states[0] == states[1]  # the very same authoritative message
        assert states[0]["position"] == 5.0
        time.sleep(0.5)
        # both clocks agree (one machine): asked at one instant (two calls apart, a loaded
        # machine may switch threads between them), each estimate off by at most half its
        # best round trip (NTP's bound; a loaded machine's pings can take tens of ms)
        now = time.time()
        slack = (host.clock.best.rtt + guest.clock.best.rtt) / 2  # type: ignore[union-attr]
        assert abs(host.position(now) - guest.position(now)) < 0.02 + slack

        guest.send(type="pause")  # host mode: refused by process two
        assert guest.recv("error")["status"] == 403
        guest.send(type="buffering")  # buffering on process two makes process one's member wait
        assert host.recv("state", lambda m: m["party"]["state"] == "waiting")["event"]["name"] == "alex"
        guest.send(type="ready")
        resumed = host.recv("state", lambda m: m["party"]["state"] == "playing")["party"]
        assert guest.recv("state", lambda m: m["party"]["state"] == "playing")["party"] == resumed

        host.send(type="pause")
        paused = [m.recv("state", lambda x: x["party"]["state"] == "paused")["party"] for m in (host, guest)]
        assert paused[0]["position"] == paused[1]["position"] > 5.0

        r = httpx.post(two + f"/api/parties/{code}/end", headers={"Authorization": f"Bearer {sam}"}, timeout=30)
        assert r.status_code == 200
        assert host.recv("ended")["party"]["state"] == "ended"  # ended on two, heard on one


def test_host_with_a_tab_on_each_process_stays_connected(tmp_path: Path, redis_url: str) -> None:
    """The host's tab on process one closes; its tab on process two keeps the host
    connected (process two joins it again when it hears of the disconnect), so alex
    still cannot play in host mode."""
    data_dir, media_id = _library(tmp_path)

    with ExitStack() as stack:
        one = stack.enter_context(api_process(data_dir, redis_url))
        two = stack.enter_context(api_process(data_dir, redis_url))
        sam, alex = token(one, "sam"), token(two, "alex")
        auth = {"Authorization": f"Bearer {sam}"}
        code = httpx.post(one + "/api/parties", json={"media_file_id": media_id}, headers=auth,
                          timeout=30).json()["code"]
        tab_two = stack.enter_context(ClockedMember(two, code, sam))
        guest = stack.enter_context(ClockedMember(two, code, alex))
        ClockedMember(one, code, sam).close()  # a tab on process one, opened and closed
        # process one marks sam disconnected, process two joins sam again
        tab_two.recv("state", lambda m: any(x["name"] == "sam" and not x["connected"] for x in m["members"]))
        tab_two.recv("state", lambda m: any(x["name"] == "sam" and x["connected"] for x in m["members"]))
        party = httpx.get(one + f"/api/parties/{code}", headers=auth, timeout=30).json()
        host = next(p for p in party["participants"] if p["name"] == "sam")
        assert host["connected"] and party["acting_host_id"] == host["id"]
        guest.send(type="play")
        assert guest.recv("error")["status"] == 403
        tab_two.send(type="play")
        assert guest.recv("state", lambda m: m["party"]["state"] == "playing")["event"]["name"] == "sam"
