"""The ASGI application and its server: ``create_app(core)`` joins the JSON API
(:mod:`reelhouse.api`), the browser UI (:mod:`reelhouse.web`) and the Jellyfin API
(:mod:`reelhouse.jellyfin`, under ``/jellyfin``) into one FastAPI app (OpenAPI docs at
``/docs``), guarded by :class:`~reelhouse.api.security.SecurityMiddleware` (the Jellyfin
API has its own rules: tokens in headers, open CORS), and owns its lifespan;
``make_server`` wraps it in uvicorn."""

from __future__ import annotations

import gc
import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
import uvicorn
from fastapi import FastAPI

from reelhouse import __version__
from reelhouse.api import party_socket
from reelhouse.api.app import install_api
from reelhouse.api.head import HeadAsGet
from reelhouse.api.http_protocol import bounded_protocol
from reelhouse.api.page_cache import PageCache, PageCacheMiddleware
from reelhouse.api.security import SecurityMiddleware
from reelhouse.core import Core
from reelhouse.jellyfin.app import create_jellyfin_app
from reelhouse.jellyfin.asgi import JellyfinMount
from reelhouse.jellyfin.routes_party_queue import router as party_queue_router
from reelhouse.playback import ended
from reelhouse.web.routes import install_web

_HTTPTOOLS = importlib.util.find_spec("httptools") is not None

__all__ = ["create_app", "freeze_startup_objects", "make_server", "run_server"]


def create_app(core: Core, close_core: bool = False) -> FastAPI:
    """Build the app around ``core``; with ``close_core`` the core is closed at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        party_socket.start_live(app)
        yield
        await party_socket.close_live(app)
        procs = app.state.read_processes
        if procs is not None:
            procs.detach()
            await anyio.to_thread.run_sync(procs.close)
        if close_core:
            core.close()

    # /docs is served from vendored files by reelhouse.web.docs (no CDN, no inline script)
    app = FastAPI(title="reelhouse", version=__version__, lifespan=lifespan, docs_url=None,
                  redoc_url=None)
    page_cache = PageCache()
    page_cache.watch(core.engine)
    # with Redis other nodes may write watch progress: continue watching is not kept
    page_cache.user_state = not core.settings.redis_url
    app.state.page_cache = page_cache
    app.add_middleware(HeadAsGet)  # HEAD of every GET route (RFC 9110 §9.1), next to the routes
    # inside SecurityMiddleware: its headers still apply; the hot reads skip FastAPI (api/fast_reads.py)
    app.add_middleware(PageCacheMiddleware, cache=page_cache, fast_reads=True)
    app.add_middleware(SecurityMiddleware)
    install_api(app, core)
    app.include_router(party_queue_router)  # the browser's view of the SyncPlay queue
    install_web(app)
    jellyfin = create_jellyfin_app(core)
    jellyfin.state.metrics = app.state.metrics
    jellyfin.state.live_owner = app  # one party runtime: SyncPlay groups are the site's parties
    app.add_middleware(JellyfinMount, jellyfin=jellyfin)
    # outermost: a stream ended short on purpose logs its own line, not uvicorn's ERROR
    app.add_middleware(ended.TrackEnded)
    ended.install_filter()
    return app


def make_server(core: Core, host: str, port: int, close_core: bool = True) -> uvicorn.Server:
    """A uvicorn server for the app (httptools + uvloop when installed). WebSocket
    messages over ``ws_message_limit`` bytes are refused by the protocol layer (close
    1009) before they are buffered; pings keep idle sockets honest."""
    settings = core.settings
    config = uvicorn.Config(
        create_app(core, close_core=close_core),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        # httptools bounds no request head (h11, the fallback, stops at 16 KiB)
        http=bounded_protocol(settings.head_limit, settings.head_timeout) if _HTTPTOOLS else "h11",
        loop="auto",
        lifespan="on",
        ws_max_size=core.settings.ws_message_limit,
        # the client's address and scheme from these proxies' X-Forwarded-For/-Proto only
        # (uvicorn's ProxyHeadersMiddleware: the right-most address no trusted proxy added)
        proxy_headers=True,
        forwarded_allow_ips=list(settings.trusted_proxies),
    )
    return uvicorn.Server(config)


def freeze_startup_objects() -> None:
    """Move every object alive now (modules, the app, its routes and schemas, SQLAlchemy's
    metadata: ~200,000) out of the garbage collector's reach (``gc.freeze``, Python docs
    "gc — Garbage Collector interface"). Without it a full collection walks them all
    every thousand requests or so, a pause of 100-300 ms for every request in flight
    (issue 14: the p99 of the big-library API); they live as long as the process."""
    gc.collect()
    gc.freeze()


def run_server(core: Core, host: str, port: int) -> None:
    """Serve until interrupted; closes the core on the way out. A server without a
    party Redis is the only one: no party member can be connected as it starts
    (:meth:`~reelhouse.party.service.PartyService.disconnect_everyone`)."""
    if not (core.settings.party_redis_url or core.settings.redis_url):
        core.parties.disconnect_everyone()
    server = make_server(core, host, port)
    freeze_startup_objects()
    server.run()
