"""One user's waiting requests for an FTP server, bounded over two ``reelhouse serve``
nodes (issue 14, "pool waiters are bounded per user": ``ftp_user_waiters``, here 1).
The server allows 2 connections, so the admin holds at most 1 (``ftp_pool_size - 1``,
over the cluster). She streams through node 1 and stops reading (the stream holds her
connection); her second request waits on node 2; a third, on node 1, is refused at once
with 503, though no request of hers waits on node 1 (per process, before, it queued
there too). Her first stream closed, the second is served."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from cluster.support import CLUSTER_MARKS, capped_film_cluster

pytestmark = [*CLUSTER_MARKS, pytest.mark.timeout(180)]

CAP = 2
SIZE = 48 * 1024 * 1024  # more than loopback socket buffers hold: a stalled reader holds its connection


def _queued(redis_url: str) -> int:
    """Requests counted as waiting for an FTP connection, every user and server."""
    import redis

    r: Any = redis.Redis.from_url(redis_url)
    try:
        return sum(int(r.zcard(k)) for k in r.scan_iter("reelhouse:queued:*"))
    finally:
        r.close()


def test_a_users_waiting_requests_are_bounded_over_two_nodes(pg_url: str, redis_url: str, tmp_path: Path) -> None:
    with capped_film_cluster(tmp_path, pg_url, redis_url, cap=CAP, size=SIZE,
                             env={"REELHOUSE_FTP_USER_WAITERS": "1"}) as c:
        one, two = c.nodes
        mine = c.stream_path(c.admin)
        with one.stream("GET", mine) as stalled:  # read nothing more: it holds her connection
            assert stalled.status_code == 200
            second: list[Any] = []
            waiter = threading.Thread(target=lambda: second.append(
                two.get(mine, headers={"range": "bytes=0-999"})))
            waiter.start()
            pause = threading.Event()
            for _ in range(400):  # a state, not a duration: her second request is counted
                if _queued(redis_url) or second:
                    break
                pause.wait(0.05)
            assert not second, "a second connection for her while she held one on the other node"
            assert _queued(redis_url) == 1
            third = one.get(mine, headers={"range": "bytes=1000-1999"})
            # the pool's refusal (QueueFull), as past the bound within one node: a user
            # reads it as it is (it names no server), with its reason (api/errors.py)
            assert third.status_code == 503, third.text
            assert third.headers["retry-after"] == "5"
            assert third.json()["reason"] == "queue_full"
            assert "1 requests of yours wait for this FTP server already" in third.json()["detail"]
            assert not second  # still waiting
        # her first stream closed: the second request's turn
        waiter.join(60)
        assert second and second[0].status_code == 206 and second[0].content == c.film[:1000]
        assert c.capped.refused == 0 and c.capped.peak <= CAP
        for _ in range(200):  # its count given back once served
            if not _queued(redis_url):
                break
            pause.wait(0.05)
        assert _queued(redis_url) == 0
