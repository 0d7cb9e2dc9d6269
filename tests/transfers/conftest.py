"""Fixtures of the transfer tests: a Core whose retries wait 50 ms, and a logged-in
admin client on it that turns server errors into responses (so a 500 would show)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelhouse.core import Core

from helpers import admin_client, admin_core


@pytest.fixture
def tcore(tmp_path: Path) -> Iterator[Core]:
    with admin_core(tmp_path / "data", transfer_retry_delay=0.05) as c:
        yield c


@pytest.fixture
def api(tcore: Core) -> Iterator[TestClient]:
    with admin_client(tcore, raise_server_exceptions=False) as c:
        yield c
