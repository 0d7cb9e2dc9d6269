"""Fixtures of the FTP layer's tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pool_nodes import CAP, Capped

from helpers import stop_without_leaks


@pytest.fixture
def capped(tmp_path: Path) -> Iterator[Capped]:
    """A real pyftpdlib server allowing CAP connections, serving ``film.mkv`` (64 KiB of
    random bytes)."""
    (tmp_path / "film.mkv").write_bytes(os.urandom(64 * 1024))
    server = Capped(tmp_path, CAP)
    yield server
    stop_without_leaks(server.server)
