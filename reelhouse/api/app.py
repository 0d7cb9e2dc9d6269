"""``create_app(core)``: the FastAPI application (API, OpenAPI docs at ``/docs``, web UI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from reelhouse import __version__
from reelhouse.api import (
    party_socket,
    routes_auth,
    routes_hls,
    routes_library,
    routes_metadata,
    routes_parties,
    routes_sources,
    routes_transfers,
)
from reelhouse.api.deps import CurrentUser
from reelhouse.api.errors import install_error_handlers
from reelhouse.api.metrics import Metrics
from reelhouse.core import Core
from reelhouse.jellyfin.app import create_jellyfin_app
from reelhouse.jellyfin.asgi import JellyfinMount

__all__ = ["create_app"]


def create_app(core: Core, close_core: bool = False) -> FastAPI:
    """Build the app around ``core``; with ``close_core`` the core is closed at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        core.transfers.start()  # transfers and syncs: recovered and run by the server only
        core.syncs.recover()
        yield
        await party_socket.close_hub(app)
        if close_core:
            core.close()

    app = FastAPI(title="reelhouse", version=__version__, lifespan=lifespan)
    app.state.core = core
    app.state.metrics = Metrics(core.sources)
    install_error_handlers(app)

    @app.get("/api/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness: no authentication needed."""
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", tags=["health"], response_class=PlainTextResponse)
    def metrics(_: CurrentUser) -> Response:
        """Prometheus metrics (text exposition format); needs a login like the API
        (scrape with ``Authorization: Bearer <token>``)."""
        return Response(generate_latest(app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(routes_auth.router)
    app.include_router(routes_sources.router)
    app.include_router(routes_library.router)
    app.include_router(routes_metadata.router)
    app.include_router(routes_transfers.router)
    app.include_router(routes_hls.router)
    app.include_router(routes_parties.router)
    from reelhouse.web.routes import install_web

    install_web(app)
    jellyfin = create_jellyfin_app(core)
    jellyfin.state.metrics = app.state.metrics
    app.add_middleware(JellyfinMount, jellyfin=jellyfin)
    return app
