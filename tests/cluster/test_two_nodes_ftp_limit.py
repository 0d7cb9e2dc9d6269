"""One FTP server's connection limit over a cluster (issues 12 and 14): two
``reelhouse serve`` nodes and a worker, each with its own pool of ``ftp_pool_size``
(2) connections, against a server that allows 2 from this address and answers a
third with 421. The worker scans (its connections stay idle in its pool), then both
nodes stream the film at once: every range arrives whole, and the server never had
more than 2 connections nor refused one (without the shared count: up to 6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cluster.support import CLUSTER_MARKS, capped_film_cluster
from in_threads import in_threads

pytestmark = [*CLUSTER_MARKS, pytest.mark.timeout(180)]

CAP = 2


def test_two_nodes_and_a_worker_stay_within_the_servers_limit(pg_url: str, redis_url: str,
                                                              tmp_path: Path) -> None:
    with capped_film_cluster(tmp_path, pg_url, redis_url, cap=CAP, size=3 * 1024 * 1024) as c:
        path = c.stream_path(c.admin)
        results: list[tuple[int, bool]] = []

        def read(i: int) -> None:  # three readers on each node
            node, start = c.nodes[i % 2], i * 100_000
            for _ in range(2):
                r = node.get(path, headers={"range": f"bytes={start}-{start + 999_999}"})
                results.append((r.status_code, r.content == c.film[start:start + 1_000_000]))

        in_threads(read, 6, timeout=120)
        assert results == [(206, True)] * 12
        assert c.capped.refused == 0, f"the server answered {c.capped.refused} connections with 421"
        assert c.capped.peak <= CAP
