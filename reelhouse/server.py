"""Run the web server (uvicorn) around a Core."""

from __future__ import annotations

import uvicorn

from reelhouse.api.app import create_app
from reelhouse.core import Core

__all__ = ["make_server", "run_server"]


def make_server(core: Core, host: str, port: int, close_core: bool = True) -> uvicorn.Server:
    """A uvicorn server for the app (httptools + uvloop when installed). WebSocket
    messages over ``ws_message_limit`` bytes are refused by the protocol layer (close
    1009) before they are buffered; pings keep idle sockets honest."""
    config = uvicorn.Config(
        create_app(core, close_core=close_core),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        http="auto",
        loop="auto",
        lifespan="on",
        ws_max_size=core.settings.ws_message_limit,
    )
    return uvicorn.Server(config)


def run_server(core: Core, host: str, port: int) -> None:
    """Serve until interrupted; closes the core on the way out."""
    make_server(core, host, port).run()
