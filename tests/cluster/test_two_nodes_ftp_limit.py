"""One FTP server's connection limit over a cluster (issues 12 and 14): two
``reelhouse serve`` nodes and a worker, each with its own pool of ``ftp_pool_size``
(2) connections, against a server that allows 2 from this address and answers a
third with 421. The worker scans (its connections stay idle in its pool), then both
nodes stream the film at once: every range arrives whole, and the server never had
more than 2 connections nor refused one (without the shared count: up to 6)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cluster.support import ADMIN_PASSWORD, CLUSTER_MARKS, PG_URL, ftp_source, login, scan, seed
from in_threads import in_threads

from reelhouse.demo.cluster import Cluster

from helpers import CappedFtpServer, postgres_schema, stop_without_leaks

pytestmark = [*CLUSTER_MARKS, pytest.mark.timeout(180)]

FILM = "Films/Sintel (2010)/Sintel.2010.mkv"
CAP = 2


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_schema(PG_URL, "rh_cluster_ftpcap") as url:
        yield url


def test_two_nodes_and_a_worker_stay_within_the_servers_limit(pg_url: str, redis_url: str,
                                                              tmp_path: Path) -> None:
    root = tmp_path / "ftp"
    film = os.urandom(3 * 1024 * 1024)
    (root / FILM).parent.mkdir(parents=True)
    (root / FILM).write_bytes(film)
    capped = CappedFtpServer(root, CAP)
    try:
        with Cluster(tmp_path / "cluster", pg_url, redis_url, nodes=2, workers=1,
                     extra_env={"REELHOUSE_FTP_POOL_SIZE": str(CAP)}) as cluster:
            source = seed(cluster, ftp_source(capped.port), {"admin": ADMIN_PASSWORD, "bob": "bob-password"})
            proxy = httpx.Client(base_url=cluster.proxy_url, timeout=60)
            nodes = [httpx.Client(base_url=u, timeout=90) for u in cluster.node_urls]
            try:
                auth = login(proxy)
                scan(proxy, source, auth)
                file_id = nodes[0].get("/api/library/media-files", headers=auth).json()["items"][0]["id"]
                url = nodes[0].post(f"/api/library/media-files/{file_id}/playback", headers=auth).json()["url"]
                path = url[url.index("/api/"):]
                results: list[tuple[int, bool]] = []

                def read(i: int) -> None:  # three readers on each node
                    node, start = nodes[i % 2], i * 100_000
                    for _ in range(2):
                        r = node.get(path, headers={"range": f"bytes={start}-{start + 999_999}"})
                        results.append((r.status_code, r.content == film[start:start + 1_000_000]))

                in_threads(read, 6, timeout=120)
                assert results == [(206, True)] * 12
                assert capped.refused == 0, f"the server answered {capped.refused} connections with 421"
                assert capped.peak <= CAP
            finally:
                for c in (proxy, *nodes):
                    c.close()
    finally:
        stop_without_leaks(capped.server)
