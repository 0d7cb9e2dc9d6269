"""A scan started through one node and cancelled through the other (issue 14): two
``reelhouse serve`` nodes and a ``reelhouse worker`` on one PostgreSQL and one Redis.
The cancel is a flag in the database that the worker running the scan reads (every
``CANCEL_POLL`` s): the scan ends ``cancelled`` soon, whichever node was asked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cluster.support import CLUSTER_MARKS, PG_URL, ftp_source, login, seed
from pyftpdlib.handlers import FTPHandler

from reelhouse.demo.cluster import Cluster
from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER, postgres_schema

pytestmark = [*CLUSTER_MARKS, pytest.mark.timeout(120)]

FOLDERS = 60
LISTING_DELAY = 0.3  # seconds each listing takes: a whole scan takes ~FOLDERS * 0.3 s


def _slow_listings(self: Any, line: str, cmd: str, arg: str) -> None:
    if cmd in ("MLSD", "LIST", "NLST", "STAT", "MLST"):
        time.sleep(LISTING_DELAY)  # blocks this test server's loop: every listing waits
    FTPHandler.pre_process_command(self, line, cmd, arg)


@pytest.fixture
def slow_ftp(ftp_root: Path) -> Iterator[EmbeddedFtpServer]:
    for i in range(FOLDERS):
        folder = ftp_root / "Films" / f"Film {i:02d} (2001)"
        folder.mkdir(parents=True)
        (folder / f"Film.{i:02d}.2001.mkv").write_bytes(b"\0" * 1024)
    with EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD,
                           handler_overrides={"pre_process_command": _slow_listings}) as server:
        yield server


def test_scan_started_on_one_node_is_cancelled_through_the_other(
        redis_url: str, slow_ftp: EmbeddedFtpServer, tmp_path: Path) -> None:
    with postgres_schema(PG_URL, "rh_cluster_cancel") as pg_url, \
            Cluster(tmp_path / "cluster", pg_url, redis_url, nodes=2, workers=1) as cluster:
        source = seed(cluster, ftp_source(slow_ftp.port))
        node_a, node_b = (httpx.Client(base_url=u, timeout=30) for u in cluster.node_urls)
        try:
            auth = login(node_a)
            job = node_a.post(f"/api/sources/{source}/scan", headers=auth).json()
            deadline = time.monotonic() + 30
            while job["state"] != "running":
                assert job["state"] == "queued" and time.monotonic() < deadline, job
                time.sleep(0.1)
                job = node_b.get(f"/api/jobs/{job['id']}", headers=auth).json()
            r = node_b.post(f"/api/jobs/{job['id']}/cancel", headers=auth)
            assert r.status_code == 202, r.text
            asked = time.monotonic()
            while job["state"] == "running":
                assert time.monotonic() - asked < 15, f"the cancel did not reach the worker: {job}"
                time.sleep(0.1)
                job = node_a.get(f"/api/jobs/{job['id']}", headers=auth).json()
            assert job["state"] == "cancelled", job
            # a second cancel, through either node, is a clear 409
            again = node_a.post(f"/api/jobs/{job['id']}/cancel", headers=auth)
            assert again.status_code == 409 and "detail" in again.json(), again.text
        finally:
            node_a.close()
            node_b.close()
