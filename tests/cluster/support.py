"""What every two-node test needs: real PostgreSQL (``REELHOUSE_TEST_POSTGRES_URL``),
Redis and nginx; the marks make a missing one a skip here and a failure under CI=true."""

from __future__ import annotations

import os
import shutil

import pytest

PG_URL = os.environ.get("REELHOUSE_TEST_POSTGRES_URL", "")

CLUSTER_MARKS = [
    pytest.mark.requires_postgres,
    pytest.mark.requires_redis,
    pytest.mark.skipif(not PG_URL, reason="set REELHOUSE_TEST_POSTGRES_URL to run the cluster test"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is missing"),
    pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is missing"),
]

