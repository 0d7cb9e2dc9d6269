"""Users' fair shares of one FTP server over two ``reelhouse serve`` nodes (issue 14,
"nobody starves anybody"): the server allows 2 connections, so each user holds at
most 1 (``ftp_pool_size - 1``), counted over the cluster. The admin streams through
node 1 and stops reading (the stream holds its connection); asking node 2 for a
second stream, she waits there instead of taking the last connection, which bob,
asking node 2 after her, gets at once. Per process (before), node 2 gave her the
second connection and bob waited behind her."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cluster.support import ADMIN_PASSWORD, CLUSTER_MARKS, PG_URL, ftp_source, login, scan, seed

from reelhouse.demo.cluster import Cluster

from helpers import FTP_USER, CappedFtpServer, postgres_schema, stop_without_leaks

pytestmark = [*CLUSTER_MARKS, pytest.mark.timeout(180)]

FILM = "Films/Sintel (2010)/Sintel.2010.mkv"
CAP = 2
SIZE = 48 * 1024 * 1024  # more than loopback socket buffers hold: a stalled reader holds its connection


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_schema(PG_URL, "rh_cluster_ftpfair") as url:
        yield url


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
    root = tmp_path / "ftp"
    (root / FILM).parent.mkdir(parents=True)
    film = os.urandom(SIZE)
    (root / FILM).write_bytes(film)
    capped = CappedFtpServer(root, CAP)
    try:
        with Cluster(tmp_path / "cluster", pg_url, redis_url, nodes=2, workers=1,
                     extra_env={"REELHOUSE_FTP_POOL_SIZE": str(CAP)}) as cluster:
            source = seed(cluster, ftp_source(capped.port), {"admin": ADMIN_PASSWORD, "bob": "bob-password"})
            proxy = httpx.Client(base_url=cluster.proxy_url, timeout=60)
            one, two = (httpx.Client(base_url=u, timeout=120) for u in cluster.node_urls)
            try:
                admin = login(proxy)
                scan(proxy, source, admin)
                file_id = one.get("/api/library/media-files", headers=admin).json()["items"][0]["id"]

                def stream_path(auth: dict[str, str]) -> str:
                    url = one.post(f"/api/library/media-files/{file_id}/playback", headers=auth).json()["url"]
                    return str(url[url.index("/api/"):])

                with httpx.Client(base_url=cluster.proxy_url, timeout=60) as fresh:  # no admin cookie
                    bob = login(fresh, "bob", "bob-password")
                mine, bobs = stream_path(admin), stream_path(bob)
                with one.stream("GET", mine) as stalled:  # read nothing more: it holds its connection
                    assert stalled.status_code == 200
                    second: list[Any] = []
                    waiter = threading.Thread(target=lambda: second.append(
                        two.get(mine, headers={"range": "bytes=0-999"})))
                    waiter.start()
                    deadline = threading.Event()
                    for _ in range(400):  # a state, not a duration: her second request is registered
                        if _waiting(redis_url, capped.port) or second:
                            break
                        deadline.wait(0.05)
                    assert not second, "a second connection for her while she held one on the other node"
                    assert len(_waiting(redis_url, capped.port)) == 1
                    r = two.get(bobs, headers={"range": "bytes=1000-1999"})
                    assert r.status_code == 206 and r.content == film[1000:2000]
                    assert not second  # she still waits
                # her first stream closed: her turn
                waiter.join(60)
                assert second and second[0].status_code == 206 and second[0].content == film[:1000]
                assert capped.refused == 0 and capped.peak <= CAP
            finally:
                for c in (proxy, one, two):
                    c.close()
    finally:
        stop_without_leaks(capped.server)
