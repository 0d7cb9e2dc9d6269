"""The ASGI application and its server: ``create_app(core)`` joins the JSON API
(:mod:`reelhouse.api`), the browser UI (:mod:`reelhouse.web`) and the Jellyfin API
(:mod:`reelhouse.jellyfin`, under ``/jellyfin``) into one FastAPI app (OpenAPI docs at
``/docs``) and owns its lifespan; ``make_server`` wraps it in uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from reelhouse import __version__
from reelhouse.api import party_socket
from reelhouse.api.app import install_api
from reelhouse.core import Core
from reelhouse.jellyfin.app import create_jellyfin_app
from reelhouse.jellyfin.asgi import JellyfinMount
from reelhouse.web.routes import install_web

__all__ = ["create_app", "make_server", "run_server"]


def create_app(core: Core, close_core: bool = False) -> FastAPI:
    """Build the app around ``core``; with ``close_core`` the core is closed at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        core.transfers.start()  # transfers and syncs: recovered and run by the server only
        core.syncs.recover()
        yield
        await party_socket.close_live(app)
        if close_core:
            core.close()

    app = FastAPI(title="reelhouse", version=__version__, lifespan=lifespan)
    install_api(app, core)
    install_web(app)
    jellyfin = create_jellyfin_app(core)
    jellyfin.state.metrics = app.state.metrics
    app.add_middleware(JellyfinMount, jellyfin=jellyfin)
    return app


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
