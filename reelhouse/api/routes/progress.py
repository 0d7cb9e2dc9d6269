"""Watch progress (``/api/library``): a user's resume point per file, watched marks and
"continue watching"."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import Response

from reelhouse.api.deps import CoreDep, CurrentUser, RowId, VisibleFile
from reelhouse.api.library_json import orjson_response, resume_item
from reelhouse.api.read_lane import ReadLaneDep
from reelhouse.api.schemas import ProgressIn, ProgressPublic, ResumePublic, WatchedIn
from reelhouse.auth.access import sees_all
from reelhouse.core import Core
from reelhouse.db.models import User
from reelhouse.library import queries
from reelhouse.library.progress import ProgressService

if TYPE_CHECKING:  # page_cache imports this module (api/fast_reads.py)
    from reelhouse.api.page_cache import PageCache

__all__ = ["continue_answer", "continue_body", "router"]

router = APIRouter(prefix="/api/library", tags=["library"])


@router.get("/continue", response_model=list[ResumePublic])
async def continue_watching(request: Request, core: CoreDep, user: CurrentUser, lane: ReadLaneDep) -> Response:
    """What the current user stopped in the middle of, most recent first (files of
    sources the user is granted only). Runs in the app's read lane; a user who sees
    every source gets the answer kept since their progress and the library last
    changed (:meth:`~reelhouse.api.page_cache.PageCache.resume_get`, issue 14)."""
    return await continue_answer(getattr(request.app.state, "page_cache", None), user,
                                 lambda: lane.run(_continue_watching, core, user))


async def continue_answer(cache: PageCache | None, user: User, compute: Callable[[], Awaitable[Response]],
                          ) -> Response:
    """The continue-watching answer of ``user`` (see :func:`continue_watching`):
    the one kept in ``cache``, else what ``compute()`` answers (in the read lane's
    threads, or its processes: :func:`continue_body`)."""
    if cache is None or not sees_all(user):
        return await compute()
    body = cache.resume_get(user.id)
    if body is not None:
        return Response(body, media_type="application/json")
    versions, seen = cache.versions(), time.monotonic()
    response = await compute()
    cache.resume_put(user.id, versions, seen, bytes(response.body))
    return response


def _continue_watching(core: Core, user: User) -> Response:
    return continue_body(core.read_sessions, core.access.allowed(user), user.id)


def continue_body(reads: sessionmaker[Session], allowed: set[int] | None, user_id: int) -> Response:
    """User ``user_id``'s continue watching, read through ``reads``, on the sources
    ``allowed`` (None: all); plain arguments, so that another process can compute it
    (api/read_processes.py)."""
    return orjson_response([resume_item(i) for i in ProgressService(reads).continue_watching(
        user_id, sources=allowed)])


@router.get("/media-files/{file_id}/progress", response_model=ProgressPublic)
def get_progress(file_id: RowId, core: CoreDep, user: CurrentUser, _: VisibleFile) -> ProgressPublic:
    """The current user's resume point in a file (position 0 if never played)."""
    row = core.progress.get(user.id, file_id)
    if row is None:
        with core.sessions() as s:
            queries.get_media_file(s, file_id)  # 404 for unknown files
        return ProgressPublic(media_file_id=file_id, position=0.0, duration=None, watched=False,
                              updated_at=None)
    return ProgressPublic.model_validate(row)


@router.put("/media-files/{file_id}/progress", response_model=ProgressPublic)
def put_progress(file_id: RowId, body: ProgressIn, core: CoreDep, user: CurrentUser,
                 _: VisibleFile) -> ProgressPublic:
    """Report the playing position (the player does every 10 s and on pause); under 5 %
    is stored as 0, past 90 % marks the file watched (Jellyfin's rule)."""
    return ProgressPublic.model_validate(core.progress.save(user.id, file_id, body.position, body.duration))


@router.put("/media-files/{file_id}/watched", response_model=ProgressPublic)
def put_watched(file_id: RowId, body: WatchedIn, core: CoreDep, user: CurrentUser,
                _: VisibleFile) -> ProgressPublic:
    """Mark a file watched or unwatched by hand."""
    return ProgressPublic.model_validate(core.progress.save(user.id, file_id, 0.0, None, body.watched))
