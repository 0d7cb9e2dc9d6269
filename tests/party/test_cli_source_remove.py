"""``reelhouse source remove`` (another process than the server's) ends the watch
parties of the source's films as the API's removal does: their members are told at
once, not at their next command. With a Redis hub the CLI broadcasts the end to every
server (sockets close 4410 at once); without one the server's sockets find the party
gone within ``RECHECK_SECONDS`` and close 4410 too. Real server processes, real
WebSocket clients, the real CLI in a child process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from party.support import USERS, Member, add_media_file
from websockets.exceptions import ConnectionClosed

from reelhouse.config import load_settings
from reelhouse.core import Core

from helpers import serve_process

pytestmark = pytest.mark.timeout(180)


def _library(data_dir: Path) -> str:
    """Users, a film on source "disk" and sam's party of it; the party's code."""
    core = Core(load_settings(data_dir=data_dir))
    try:
        for name, password in USERS.items():
            core.users.add(name, password)
        sam = core.users.by_name("sam")
        assert sam is not None
        return core.parties.create(sam, add_media_file(core)).code
    finally:
        core.close()


def _token(base: str, name: str) -> str:
    r = httpx.post(base + "/api/auth/login", json={"username": name, "password": USERS[name]}, timeout=30)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def _remove_source(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", "from reelhouse.cli import main; main()", "source", "remove", "disk"],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _close_code(member: Member, deadline_s: float = 45.0) -> tuple[int, str]:
    """Read ``member``'s socket until the server closes it (a generous deadline: the
    recheck is every 10 s on a loaded machine); its close code and reason."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            member.ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        except ConnectionClosed as exc:
            assert exc.rcvd is not None, exc
            return exc.rcvd.code, exc.rcvd.reason
    raise AssertionError(f"the socket stayed open {deadline_s} s after the source was removed")


def test_cli_removal_closes_the_party_sockets_of_a_running_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    code = _library(data_dir)
    env = {"REELHOUSE_DATA_DIR": str(data_dir), "REELHOUSE_LOG_LEVEL": "WARNING"}
    with serve_process(env) as base:
        with Member(base, code, _token(base, "sam")) as sam, Member(base, code, _token(base, "alex")) as alex:
            out = _remove_source(env)
            assert "1 watch parties ended" in out, out
            for member in (sam, alex):
                assert _close_code(member)[0] == 4410
        r = httpx.get(base + f"/api/parties/{code}", headers={"Authorization": f"Bearer {_token(base, 'sam')}"},
                      timeout=30)
        assert r.status_code == 404


@pytest.mark.requires_redis
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is missing")
def test_cli_removal_tells_every_node_through_redis(tmp_path: Path, redis_url: str) -> None:
    import redis

    data_dir = tmp_path / "data"
    code = _library(data_dir)
    env = {"REELHOUSE_DATA_DIR": str(data_dir), "REELHOUSE_PARTY_REDIS_URL": redis_url,
           "REELHOUSE_LOG_LEVEL": "WARNING"}
    with serve_process(env) as one, serve_process(env) as two:
        with Member(one, code, _token(one, "sam")) as sam, Member(two, code, _token(two, "alex")) as alex:
            listener = redis.Redis.from_url(redis_url).pubsub()
            listener.subscribe(f"reelhouse:party:{code}")
            try:
                _remove_source(env)
                deadline, told = time.monotonic() + 30, None
                while told is None and time.monotonic() < deadline:
                    msg = listener.get_message(timeout=1.0)
                    if msg is not None and msg["type"] == "message":
                        body = json.loads(msg["data"])
                        if body.get("type") == "ended" and body["party"]["state"] == "ended":
                            told = body
                assert told is not None, "the CLI published no end on the party's channel"
            finally:
                listener.close()
            for member in (sam, alex):
                assert _close_code(member)[0] == 4410
