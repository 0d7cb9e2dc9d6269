"""One router per resource, each ``APIRouter`` named ``router``; :data:`ROUTERS` lists
them in the order they are mounted (``api/app.py``)."""

from __future__ import annotations

from fastapi import APIRouter

from reelhouse.api.routes import (
    auth,
    files,
    hls,
    jobs,
    library,
    metadata,
    offline,
    parties,
    playback,
    progress,
    sources,
    syncs,
    transfers,
    users,
)

__all__ = ["ROUTERS"]

#: auth · sources · files (PUT on a source) · jobs · library · progress · playback (URL,
#: plan, stream) · hls · metadata · transfers · offline copies · syncs · parties · users
#: (users, API keys, audit, setup)
ROUTERS: list[APIRouter] = [
    auth.router,
    sources.router,
    files.router,
    jobs.router,
    library.router,
    progress.router,
    playback.router,
    hls.router,
    metadata.router,
    transfers.router,
    offline.router,
    syncs.router,
    parties.router,
    users.router,
]
