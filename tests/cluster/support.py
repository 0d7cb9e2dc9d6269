"""What every two-node test needs: real PostgreSQL (``REELHOUSE_TEST_POSTGRES_URL``),
Redis and nginx; the marks make a missing one a skip here and a failure under CI=true."""

from __future__ import annotations

import json
import os
import shutil
import time
from contextlib import ExitStack
from types import TracebackType
from typing import Any

import pytest

PG_URL = os.environ.get("REELHOUSE_TEST_POSTGRES_URL", "")

CLUSTER_MARKS = [
    pytest.mark.requires_postgres,
    pytest.mark.requires_redis,
    pytest.mark.skipif(not PG_URL, reason="set REELHOUSE_TEST_POSTGRES_URL to run the cluster test"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is missing"),
    pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is missing"),
]


class Member:
    """A party member's WebSocket (the ``websockets`` library) to the node or proxy at
    ``base``, logged in by bearer token; its welcome read. Close it, or use it as a
    context manager."""

    def __init__(self, base: str, code: str, bearer: str) -> None:
        from websockets.sync.client import connect

        url = base.replace("http://", "ws://") + f"/api/parties/{code}/ws"
        self._stack = ExitStack()  # connect() warns unless used as a context manager
        self.ws = self._stack.enter_context(connect(url, additional_headers={"Authorization": f"Bearer {bearer}"}))
        self.welcome = self.recv("welcome")
        self.name: str = self.welcome["you"]["name"]

    def send(self, **msg: Any) -> None:
        self.ws.send(json.dumps({"v": 1, **msg}))

    def recv(self, kind: str, pred: Any = None, timeout: float = 20.0) -> dict[str, Any]:
        """The next message of type ``kind`` (for which ``pred`` holds); others are
        skipped. ``timeout``: seconds for the whole wait."""
        deadline = time.monotonic() + timeout
        while True:
            msg: dict[str, Any] = json.loads(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            if msg["type"] == kind and (pred is None or pred(msg)):
                return msg

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Member:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
