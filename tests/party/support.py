"""Helpers of the party tests: the extra users, a media file row, and a member's
WebSocket to a live server."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from types import TracebackType
from typing import Any

from reelhouse.core import Core
from reelhouse.db.models import MediaFile, SourceRow

USERS = {"sam": "sam-password", "alex": "alex-password"}


def add_media_file(core: Core, duration: float = 30.0) -> int:
    """A media file row (no bytes behind it: enough for the party API)."""
    with core.sessions() as s:
        src = SourceRow(name="disk", kind="local", path="/nowhere")
        s.add(src)
        s.flush()
        mf = MediaFile(source_id=src.id, path="film.mp4", size=1000, kind="movie", duration=duration)
        s.add(mf)
        s.commit()
        return mf.id


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
            self._seen(msg)
            if msg["type"] == kind and (pred is None or pred(msg)):
                return msg

    def _seen(self, msg: dict[str, Any]) -> None:
        """Every message :meth:`recv` reads, for subclasses."""

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Member:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
