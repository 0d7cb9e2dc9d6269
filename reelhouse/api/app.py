"""``install_api(app, core)``: the JSON API on an app — error handlers, health, metrics
and every resource router (:mod:`reelhouse.api.routes`). ``reelhouse.server`` builds
the app and joins the web UI; the API knows nothing of the UI."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from reelhouse import __version__
from reelhouse.api.deps import CurrentUser
from reelhouse.api.errors import install_error_handlers
from reelhouse.api.metrics import Metrics
from reelhouse.api.read_lane import ReadLane
from reelhouse.api.read_processes import ReadProcesses
from reelhouse.api.routes import ROUTERS
from reelhouse.core import Core

__all__ = ["install_api"]


def install_api(app: FastAPI, core: Core) -> None:
    """Put ``core`` on ``app.state`` and mount the API (``/api/…``, ``/metrics``)."""
    app.state.core = core
    app.state.metrics = Metrics(core.sources)
    app.state.read_lane = ReadLane()
    app.state.read_processes = _read_processes(core)
    install_error_handlers(app)

    node = core.settings.node_name or f"{core.settings.host}:{core.settings.port}"

    @app.get("/api/health", tags=["health"])
    async def health() -> dict[str, str]:
        """Liveness: no authentication needed. Async: answered on the event loop, never
        behind a thread pool that streams or jobs could fill. ``node``: which process
        answered (``node_name``; several nodes behind a proxy)."""
        return {"status": "ok", "version": __version__, "node": node}

    @app.get("/metrics", tags=["health"], response_class=PlainTextResponse)
    def metrics(_: CurrentUser) -> Response:
        """Prometheus metrics (text exposition format); needs a login like the API
        (scrape with ``Authorization: Bearer <token>``)."""
        return Response(generate_latest(app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    for router in ROUTERS:
        app.include_router(router)
    _document_errors(app)


def _read_processes(core: Core) -> ReadProcesses | None:
    """The app's read processes (``read_processes`` setting), or None: the read lane's
    threads compute the pages (also for an in-memory SQLite database, which no other
    process can open)."""
    n, url = core.settings.read_process_count, core.settings.db_url
    in_memory = url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") in ("sqlite:", "sqlite+pysqlite:"))
    if n < 1 or in_memory:
        return None
    return ReadProcesses(url, n)


def _document_errors(app: FastAPI) -> None:
    """Make the OpenAPI document say what a 422 is here: ``{"detail": "<field>: <why>"}``
    (:mod:`reelhouse.api.errors`), not FastAPI's default list of error objects, so
    clients and schema checkers (tests/api/test_schemathesis.py) read the real shape."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = build()
            schemas = doc.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = {
                    "title": "HTTPValidationError", "type": "object", "required": ["detail"],
                    "properties": {"detail": {"type": "string", "title": "Detail",
                                              "description": "every problem, as 'field: why', joined by '; '"}}}
                schemas.pop("ValidationError", None)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
