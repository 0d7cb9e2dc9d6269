"""Fixtures of the job tests: a real Redis on a free port."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from helpers import daemon, free_port


@pytest.fixture
def redis_url() -> Iterator[str]:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    with daemon([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], port):
        yield f"redis://127.0.0.1:{port}/0"
