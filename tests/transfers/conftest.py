"""Fixtures of the transfer tests: a Core whose retries wait 50 ms, and a logged-in
admin client on it that turns server errors into responses (so a 500 would show)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.server import create_app

from helpers import ADMIN, ADMIN_PASSWORD, log_in


@pytest.fixture
def tcore(tmp_path: Path) -> Iterator[Core]:
    settings = load_settings(data_dir=tmp_path / "data", transfer_retry_delay=0.05)
    c = Core(settings)
    c.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
    yield c
    c.close()


@pytest.fixture
def api(tcore: Core) -> Iterator[TestClient]:
    with TestClient(create_app(tcore), raise_server_exceptions=False) as c:
        log_in(c)
        yield c
