"""A watch party across two nodes when one of them dies or is used to dodge a limit
(issue 14): two ``reelhouse serve`` nodes on one PostgreSQL and one Redis, behind the
shipped ``deploy/nginx.conf``.

- A node killed with SIGKILL renews no presence lease: the members connected to it are
  shown as gone to everyone else once their leases run out, and a wait for one of them
  (which the dead node's timer would have ended) ends with it.
- A user's cap on party sockets counts the sockets on every node.
- A party whose every member was on the killed node (nobody left to see it) stops
  waiting too, shows nobody connected and leaves no presence lease in Redis: the other
  node sweeps them.
- Redis restarted mid-party (nothing persisted): a command through one node still
  reaches the members on the other (a publish tries again on a fresh connection), and
  nobody is marked gone.
- A member's hold budget (the party's wait timeout per HOLD_WINDOW) is one for the
  whole cluster: reconnecting through the other node does not buy a fresh one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from cluster.support import CLUSTER_MARKS, PG_URL
from party.support import Member, add_media_file

from reelhouse.core import Core
from reelhouse.demo.cluster import Cluster

from helpers import postgres_schema

pytestmark = [
    *CLUSTER_MARKS,
    pytest.mark.timeout(120),
]

websockets_sync = pytest.importorskip("websockets.sync.client")
ConnectionClosed = pytest.importorskip("websockets.exceptions").ConnectionClosed

USERS = {"admin": "admin-password", "bob": "bob-password"}
TTL, WAIT = 2.0, 2.0  # presence lease and party wait timeout, seconds
SOCKETS = 4  # party sockets per user (ws_connections_per_user)



def _bob(msg: dict[str, Any], **want: Any) -> bool:
    return any(m["name"] == "bob" and all(m[k] == v for k, v in want.items()) for m in msg["members"])


@pytest.fixture
def cluster(redis_url: str, tmp_path: Path) -> Iterator[tuple[Cluster, int, dict[str, str]]]:
    with ExitStack() as stack:
        pg_url = stack.enter_context(postgres_schema(PG_URL, "rh_cluster_crash"))
        c = stack.enter_context(Cluster(tmp_path / "cluster", pg_url, redis_url, nodes=2, workers=0, extra_env={
            "REELHOUSE_PARTY_PRESENCE_TTL": str(TTL), "REELHOUSE_PARTY_WAIT_TIMEOUT": str(WAIT),
            "REELHOUSE_WS_CONNECTIONS_PER_USER": str(SOCKETS)}))
        core = Core(c.settings())
        try:
            for name, password in USERS.items():
                core.users.add(name, password, is_admin=name == "admin")
            file_id = add_media_file(core, duration=600.0)
        finally:
            core.close()
        tokens = {name: httpx.post(c.proxy_url + "/api/auth/login", json={"username": name, "password": pw},
                                   timeout=30).json()["token"] for name, pw in USERS.items()}
        yield c, file_id, tokens


def _party(base: str, file_id: int, token: str) -> str:
    r = httpx.post(base + "/api/parties", json={"media_file_id": file_id},
                   headers={"authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code in (200, 201), r.text
    return str(r.json()["code"])


def test_members_of_a_killed_node_leave_the_party(cluster: tuple[Cluster, int, dict[str, str]]) -> None:
    c, file_id, tokens = cluster
    node_a, node_b = c.node_urls
    code = _party(node_b, file_id, tokens["admin"])
    host = Member(node_b, code, tokens["admin"])
    guest = Member(node_a, code, tokens["bob"])
    try:
        host.recv("state", lambda m: _bob(m, connected=True))
        host.send(type="play")
        host.recv("state", lambda m: m["party"]["state"] == "playing")
        guest.send(type="buffering")  # node 1 applies the wait and would end it on time
        host.recv("state", lambda m: m["party"]["state"] == "waiting")
        os.killpg(c.procs[0].pid, signal.SIGKILL)  # node 1: no clean shutdown
        killed = time.monotonic()
        gone = host.recv("state", lambda m: _bob(m, connected=False), timeout=TTL * 4 + 5)
        took = time.monotonic() - killed
        assert took <= TTL * 2 + 3, took
        msg = gone if gone["party"]["state"] == "playing" else \
            host.recv("state", lambda m: m["party"]["state"] == "playing", timeout=10)
        assert msg["party"]["state"] == "playing"  # the wait for bob ended with him
        view = httpx.get(node_b + f"/api/parties/{code}", headers={"authorization": f"Bearer {tokens['admin']}"},
                         timeout=30).json()
        bob = next(p for p in view["participants"] if p["name"] == "bob")
        assert bob["connected"] is False and view["state"] == "playing"
        # the survivor stays: its own lease is renewed, nobody marks the host gone
        time.sleep(TTL * 2)
        view = httpx.get(node_b + f"/api/parties/{code}", headers={"authorization": f"Bearer {tokens['admin']}"},
                         timeout=30).json()
        assert next(p for p in view["participants"] if p["name"] == "admin")["connected"] is True
    finally:
        host.close()
        guest.close()


def test_hold_budget_is_one_for_the_cluster(cluster: tuple[Cluster, int, dict[str, str]]) -> None:
    c, file_id, tokens = cluster
    node_a, node_b = c.node_urls
    code = _party(node_a, file_id, tokens["admin"])
    host = Member(node_a, code, tokens["admin"])
    try:
        host.send(type="play")
        host.recv("state", lambda m: m["party"]["state"] == "playing")
        guest = Member(node_a, code, tokens["bob"])
        guest.send(type="buffering")  # holds the party for its whole budget (the wait timeout)
        host.recv("state", lambda m: m["party"]["state"] == "waiting")
        host.recv("state", lambda m: m["party"]["state"] == "playing", timeout=WAIT + 10)
        guest.send(type="ready")
        host.recv("state", lambda m: _bob(m, buffering=False))
        guest.close()
        host.recv("state", lambda m: _bob(m, connected=False))
        # the same member through the other node: its budget is spent there too
        guest = Member(node_b, code, tokens["bob"])
        host.recv("state", lambda m: _bob(m, connected=True))
        guest.send(type="buffering")
        msg = host.recv("state", lambda m: _bob(m, buffering=True))
        assert msg["party"]["state"] == "playing", msg  # shown buffering, not waited for
        guest.close()
    finally:
        host.close()


def _refused(base: str, code: str, token: str) -> int | None:
    """The close code of a socket refused at once, or None if it was welcomed."""
    try:
        Member(base, code, token).close()
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd is not None else None
    return None


def test_socket_cap_per_user_holds_across_nodes(cluster: tuple[Cluster, int, dict[str, str]]) -> None:
    """``ws_connections_per_user`` (SOCKETS here) counts the user's sockets on every
    node: spread over two nodes (directly and through nginx) they get no more; the
    ones a killed node held free themselves when their leases run out."""
    c, file_id, tokens = cluster
    node_a, node_b = c.node_urls
    code = _party(node_b, file_id, tokens["admin"])
    held = [Member(node_a, code, tokens["bob"]), Member(node_a, code, tokens["bob"]),
            Member(node_b, code, tokens["bob"]), Member(c.proxy_url, code, tokens["bob"])]
    try:
        assert len(held) == SOCKETS
        for base in (node_b, node_a, c.proxy_url):
            assert _refused(base, code, tokens["bob"]) == 1008, base
        assert _refused(node_b, code, tokens["admin"]) is None  # another user is not starved
        held.pop().close()  # one closed: one more may open, on either node
        time.sleep(0.3)
        held.append(Member(node_b, code, tokens["bob"]))
        assert _refused(node_b, code, tokens["bob"]) == 1008
        os.killpg(c.procs[0].pid, signal.SIGKILL)  # node 1 held two of them
        deadline = time.monotonic() + TTL * 3 + 5
        while _refused(node_b, code, tokens["bob"]) == 1008:
            assert time.monotonic() < deadline, "the dead node's sockets still count"
            time.sleep(0.3)
    finally:
        for m in held:
            with contextlib.suppress(Exception):
                m.close()


def test_a_party_whose_every_member_was_on_the_killed_node(cluster: tuple[Cluster, int, dict[str, str]],
                                                           redis_url: str) -> None:
    """Nobody is left to see it: the other node still sweeps the dead node's leases,
    so the party stops waiting, shows nobody connected, and leaves nothing in Redis."""
    import redis

    c, file_id, tokens = cluster
    node_a, node_b = c.node_urls
    code = _party(node_a, file_id, tokens["admin"])
    host = Member(node_a, code, tokens["admin"])
    try:
        host.send(type="play")
        host.recv("state", lambda m: m["party"]["state"] == "playing")
        host.send(type="buffering")  # the wait node 1 would have ended on time
        host.recv("state", lambda m: m["party"]["state"] == "waiting")
        os.killpg(c.procs[0].pid, signal.SIGKILL)
    finally:
        host.close()
    deadline = time.monotonic() + TTL * 2 + 5
    while True:
        view = httpx.get(node_b + f"/api/parties/{code}", headers={"authorization": f"Bearer {tokens['admin']}"},
                         timeout=30).json()
        if not any(p["connected"] for p in view["participants"]) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [p["connected"] for p in view["participants"]] == [False]
    assert view["state"] == "playing"  # the wait for the gone host ended with it
    r = redis.Redis.from_url(redis_url)
    try:
        assert not r.exists(f"reelhouse:presence:{code}")
        assert not r.sismember("reelhouse:presence:parties", code)
    finally:
        r.close()


def test_redis_restarted_mid_party(cluster: tuple[Cluster, int, dict[str, str]], redis_url: str) -> None:
    """Redis killed and started afresh (nothing persisted: leases, hold budgets and
    subscriptions lost) while members on both nodes watch: the party goes on, a command
    through one node reaches the member on the other, and nobody is marked gone."""
    from helpers import daemon, daemon_of

    c, file_id, tokens = cluster
    node_a, node_b = c.node_urls
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    code = _party(node_b, file_id, tokens["admin"])
    with Member(node_b, code, tokens["admin"]) as host, Member(node_a, code, tokens["bob"]) as guest:
        host.recv("state", lambda m: _bob(m, connected=True))
        host.send(type="play")
        guest.recv("state", lambda m: m["party"]["state"] == "playing")
        os.kill(daemon_of(port), signal.SIGKILL)
        with daemon(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no"], port):
            time.sleep(TTL * 2)  # a lease sweep or two on each node, on the empty Redis
            host.send(type="pause")
            # lost before the fix: the publish used the pool's dead connection
            guest.recv("state", lambda m: m["party"]["state"] == "paused", timeout=20)
            guest.send(type="play")
            host.recv("state", lambda m: m["party"]["state"] == "playing", timeout=20)
            time.sleep(TTL * 2)
            view = httpx.get(node_a + f"/api/parties/{code}", headers={"authorization": f"Bearer {tokens['admin']}"},
                             timeout=30).json()
            assert all(p["connected"] for p in view["participants"]), view
