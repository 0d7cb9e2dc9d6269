"""What every two-node test needs: real PostgreSQL (``REELHOUSE_TEST_POSTGRES_URL``),
Redis and nginx; the marks make a missing one a skip here and a failure under CI=true.
And the set-up they share: users and a source written into the cluster's database,
a login, a scan run to its end."""

from __future__ import annotations

import os
import shutil
import time
from typing import Any

import httpx
import pytest

from reelhouse.core import Core
from reelhouse.demo.cluster import Cluster
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER

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
