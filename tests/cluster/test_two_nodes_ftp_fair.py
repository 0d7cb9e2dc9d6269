"""Users' fair shares of one FTP server over two ``reelhouse serve`` nodes (issue 14,
"nobody starves anybody"): the server allows 2 connections, so each user holds at
most 1 (``ftp_pool_size - 1``), counted over the cluster. The admin streams through
node 1 and stops reading (the stream holds its connection); asking node 2 for a
second stream, she waits there instead of taking the last connection, which bob,
asking node 2 after her, gets at once. Per process (before), node 2 gave her the
second connection and bob waited behind her."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from cluster.support import ADMIN_PASSWORD, CLUSTER_MARKS, capped_film_cluster, login

from helpers import FTP_USER

pytestmark = [*CLUSTER_MARKS, pytest.mark.timeout(180)]

CAP = 2
SIZE = 48 * 1024 * 1024  # more than loopback socket buffers hold: a stalled reader holds its connection


def _waiting(redis_url: str, port: int) -> list[str]:
    import redis

    r = redis.Redis.from_url(redis_url)
    try:
        infos = r.hgetall(f"reelhouse:waitinfo:ftp:127.0.0.1:{port}:{FTP_USER}").values()
        return sorted(v.decode().split("|", 2)[2] for v in infos)
    finally:
        r.close()


def test_a_user_streaming_on_one_node_waits_on_the_other_while_bob_is_served(
        pg_url: str, redis_url: str, tmp_path: Path) -> None:
    with capped_film_cluster(tmp_path, pg_url, redis_url, cap=CAP, size=SIZE,
                             users={"admin": ADMIN_PASSWORD, "bob": "bob-password"}) as c:
        one, two = c.nodes
        with httpx.Client(base_url=c.cluster.proxy_url, timeout=60) as fresh:  # no admin cookie
            bob = login(fresh, "bob", "bob-password")
        mine, bobs = c.stream_path(c.admin), c.stream_path(bob)
        with one.stream("GET", mine) as stalled:  # read nothing more: it holds its connection
            assert stalled.status_code == 200
            second: list[Any] = []
            waiter = threading.Thread(target=lambda: second.append(
                two.get(mine, headers={"range": "bytes=0-999"})))
            waiter.start()
            deadline = threading.Event()
            for _ in range(400):  # a state, not a duration: her second request is registered
                if _waiting(redis_url, c.capped.port) or second:
                    break
                deadline.wait(0.05)
            assert not second, "a second connection for her while she held one on the other node"
            assert len(_waiting(redis_url, c.capped.port)) == 1
            r = two.get(bobs, headers={"range": "bytes=1000-1999"})
            assert r.status_code == 206 and r.content == c.film[1000:2000]
            assert not second  # she still waits
        # her first stream closed: her turn
        waiter.join(60)
        assert second and second[0].status_code == 206 and second[0].content == c.film[:1000]
        assert c.capped.refused == 0 and c.capped.peak <= CAP
