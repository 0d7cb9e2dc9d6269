"""Every route of an app, as (method, path) pairs: FastAPI 0.16x nests included
routers (``_IncludedRouter``), so ``app.routes`` alone does not list them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from starlette.routing import BaseRoute, Mount, WebSocketRoute


def walk(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """("GET", "/api/x/{id}") for HTTP routes, ("WS", path) for WebSockets, ("MOUNT",
    path) for mounted apps (static files)."""
    for route in routes:
        r: Any = route
        original: Any = getattr(route, "original_router", None)
        if original is not None:
            yield from walk(original.routes, prefix + r.include_context.prefix)
        elif isinstance(route, Mount):
            yield "MOUNT", prefix + route.path
        elif isinstance(route, WebSocketRoute) or type(route).__name__ == "APIWebSocketRoute":
            yield "WS", prefix + r.path
        else:
            for method in sorted(getattr(route, "methods", None) or ()):
                yield method, prefix + r.path
