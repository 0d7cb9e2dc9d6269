"""What every two-node test needs: real PostgreSQL (``REELHOUSE_TEST_POSTGRES_URL``),
Redis and nginx; the marks make a missing one a skip here and a failure under CI=true.
And the set-up they share: users and a source written into the cluster's database,
a login, a scan run to its end."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelhouse.core import Core
from reelhouse.demo.cluster import Cluster
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, CappedFtpServer, random_file, stop_without_leaks

PG_URL = os.environ.get("REELHOUSE_TEST_POSTGRES_URL", "")

CLUSTER_MARKS = [
    pytest.mark.requires_postgres,
    pytest.mark.requires_redis,
    pytest.mark.skipif(not PG_URL, reason="set REELHOUSE_TEST_POSTGRES_URL to run the cluster test"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is missing"),
    pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is missing"),
]


ADMIN_PASSWORD = "admin-password"


def ftp_source(port: int) -> SourceSpec:
    """The FTP source "ftp" of the test server on 127.0.0.1:``port`` (the test user)."""
    return SourceSpec(name="ftp", kind="ftp", host="127.0.0.1", port=port, username=FTP_USER,
                      password=FTP_PASSWORD)


def seed(cluster: Cluster, spec: SourceSpec, users: dict[str, str] | None = None) -> int:
    """Write users (name → password, "admin" the admin; default: the admin alone) and
    the source ``spec`` into the cluster's database through a Core of its settings that
    runs no job, closed after; the source's id."""
    core = Core(cluster.settings(), consume_jobs=False)
    try:
        for name, password in (users or {"admin": ADMIN_PASSWORD}).items():
            core.users.add(name, password, is_admin=name == "admin")
        return core.sources.create(spec).id
    finally:
        core.close()


def login(client: httpx.Client, name: str = "admin", password: str = ADMIN_PASSWORD) -> dict[str, str]:
    """The Authorization header of a session of ``name`` made through ``client``."""
    token = client.post("/api/auth/login", json={"username": name, "password": password}).json()["token"]
    return {"authorization": f"Bearer {token}"}


def scan(client: httpx.Client, source: int, auth: dict[str, str], timeout: float = 60) -> dict[str, Any]:
    """Queue a scan of ``source`` through ``client`` and wait (at most ``timeout``
    seconds) until it ran to the end; the job, asserted done."""
    job: dict[str, Any] = client.post(f"/api/sources/{source}/scan", headers=auth).json()
    deadline = time.monotonic() + timeout
    while job["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"the scan did not run: {job}"
        time.sleep(0.2)
        job = client.get(f"/api/jobs/{job['id']}", headers=auth).json()
    assert job["state"] == "done", job
    return job


FILM = "Films/Sintel (2010)/Sintel.2010.mkv"


@dataclass
class FilmCluster:
    """What :func:`capped_film_cluster` yields: the cluster, its FTP server, the film's
    bytes, a client of the proxy and one of each node, the admin's header, the film's
    media-file id."""

    cluster: Cluster
    capped: CappedFtpServer
    film: bytes
    proxy: httpx.Client
    nodes: list[httpx.Client]
    admin: dict[str, str]
    file_id: int

    def stream_path(self, auth: dict[str, str]) -> str:
        """The path (from ``/api/``) of a playback URL of the film for ``auth``."""
        url = self.nodes[0].post(f"/api/library/media-files/{self.file_id}/playback", headers=auth).json()["url"]
        return str(url[url.index("/api/"):])


@contextmanager
def capped_film_cluster(tmp_path: Path, pg_url: str, redis_url: str, *, cap: int, size: int,
                        users: dict[str, str] | None = None,
                        env: dict[str, str] | None = None) -> Iterator[FilmCluster]:
    """Two nodes and a worker with ``ftp_pool_size`` ``cap`` (and ``env``), an FTP
    source on a :class:`CappedFtpServer` allowing ``cap`` connections that holds one
    film of ``size`` random bytes, ``users`` seeded (see :func:`seed`) and the source
    scanned. The clients are closed and the server stopped (the leak guard) after."""
    film = random_file(tmp_path / "ftp", FILM, size)
    capped = CappedFtpServer(tmp_path / "ftp", cap)
    try:
        with Cluster(tmp_path / "cluster", pg_url, redis_url, nodes=2, workers=1,
                     extra_env={"REELHOUSE_FTP_POOL_SIZE": str(cap), **(env or {})}) as cluster:
            source = seed(cluster, ftp_source(capped.port), users)
            proxy = httpx.Client(base_url=cluster.proxy_url, timeout=60)
            nodes = [httpx.Client(base_url=u, timeout=120) for u in cluster.node_urls]
            try:
                admin = login(proxy)
                scan(proxy, source, admin)
                file_id = nodes[0].get("/api/library/media-files", headers=admin).json()["items"][0]["id"]
                yield FilmCluster(cluster, capped, film, proxy, nodes, admin, file_id)
            finally:
                for c in (proxy, *nodes):
                    c.close()
    finally:
        stop_without_leaks(capped.server)
