"""Two nodes behind nginx (issue 14): two ``reelhouse serve`` processes and a worker on
one PostgreSQL and one Redis, each with a data dir of its own (as on two machines),
behind nginx running ``deploy/nginx.conf``. Requests land on both nodes; a scan
queued through one runs on the worker; a session, a playback token and a stored FTP
password made on one node work on the other; a party made on one is seen on the other."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from cluster.support import CLUSTER_MARKS, ftp_source, login, scan, seed

from reelhouse.demo.cluster import Cluster
from reelhouse.demo.ftpd import EmbeddedFtpServer

pytestmark = CLUSTER_MARKS

FILM = "Films/Sintel (2010)/Sintel.2010.mkv"


def test_two_nodes_behind_nginx(pg_url: str, redis_url: str, ftp_server: EmbeddedFtpServer,
                                ftp_root: Path, tmp_path: Path) -> None:
    film = os.urandom(3 * 1024 * 1024)
    (ftp_root / FILM).parent.mkdir(parents=True)
    (ftp_root / FILM).write_bytes(film)
    with Cluster(tmp_path / "cluster", pg_url, redis_url, nodes=2, workers=1) as cluster:
        source = seed(cluster, ftp_source(ftp_server.port))
        proxy = httpx.Client(base_url=cluster.proxy_url, timeout=30)
        node_a, node_b = (httpx.Client(base_url=u, timeout=30) for u in cluster.node_urls)
        try:
            # requests through nginx land on both nodes
            seen = {proxy.get("/api/health").json()["node"] for _ in range(12)}
            assert seen == {"node1", "node2"}
            auth = login(proxy)
            scan(proxy, source, auth)  # a scan queued through the proxy runs on the worker
            # the session works on either node
            for node in (node_a, node_b):
                items = node.get("/api/library/media-files", headers=auth).json()["items"]
                assert [i["path"] for i in items] == [FILM]
            file_id = items[0]["id"]
            # a playback token made on node 1 streams from node 2 (which decrypts the
            # FTP password node 1's client stored) and through the proxy
            url = node_a.post(f"/api/library/media-files/{file_id}/playback", headers=auth).json()["url"]
            path = url[url.index("/api/"):]
            for client in (node_b, node_a, proxy):
                r = client.get(path, headers={"range": "bytes=1000-1099999"})
                assert r.status_code == 206 and r.content == film[1000:1100000]
            # a party made on node 1 is there on node 2
            party = node_a.post("/api/parties", json={"media_file_id": file_id}, headers=auth).json()
            assert node_b.get(f"/api/parties/{party['code']}", headers=auth).json()["code"] == party["code"]
            # a login on node 2 works on node 1
            assert node_a.get("/api/auth/me", headers=login(node_b)).status_code == 200
        finally:
            for c in (proxy, node_a, node_b):
                c.close()
