"""The ``/socket`` WebSocket: clients keep it open for server messages.

On connect the server sends ``{"MessageType": "ForceKeepAlive", "Data": 60}`` (seconds,
a number: clients parse it as one) and answers every ``KeepAlive`` with a
``KeepAlive``; other messages (``SessionsStart``, ``SyncPlay…``) are read and ignored
for now. A missing or bad token (``api_key`` in the query, or a header) is refused:
the handshake is closed with 1008 (policy violation) before it is accepted.
"""

from __future__ import annotations

import json
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketDisconnect

from reelhouse.errors import ReelhouseError
from reelhouse.jellyfin.deps import caller_of

__all__ = ["KEEPALIVE_SECONDS", "endpoint"]

KEEPALIVE_SECONDS = 60
_MAX_MESSAGE = 64 * 1024


def _message(kind: str, data: object = None) -> str:
    out: dict[str, object] = {"MessageId": secrets.token_hex(16), "MessageType": kind}
    if data is not None:
        out["Data"] = data
    return json.dumps(out)


async def endpoint(ws: WebSocket) -> None:
    try:
        await run_in_threadpool(caller_of, ws)
    except ReelhouseError:
        await ws.close(code=1008, reason="invalid or missing access token")
        return
    await ws.accept()
    await ws.send_text(_message("ForceKeepAlive", KEEPALIVE_SECONDS))
    try:
        while True:
            text = await ws.receive_text()
            if len(text) > _MAX_MESSAGE:
                await ws.close(code=1009, reason="message too big")
                return
            try:
                msg = json.loads(text)
            except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested too deep
                continue
            if isinstance(msg, dict) and str(msg.get("MessageType", "")).lower() == "keepalive":
                await ws.send_text(_message("KeepAlive"))
    except WebSocketDisconnect:
        return
