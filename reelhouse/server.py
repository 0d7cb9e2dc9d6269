"""Run the web server (uvicorn) around a Core."""

from __future__ import annotations

import uvicorn

from reelhouse.api.app import create_app
from reelhouse.core import Core

__all__ = ["make_server", "run_server"]


def make_server(core: Core, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for the app (httptools + uvloop when installed)."""
    config = uvicorn.Config(
        create_app(core, close_core=True),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        http="auto",
        loop="auto",
        lifespan="on",
    )
    return uvicorn.Server(config)


def run_server(core: Core, host: str, port: int) -> None:
    """Serve until interrupted; closes the core on the way out."""
    make_server(core, host, port).run()
