"""Offline copies (``/api/offline``; keep-offline on movies and seasons): files kept in
the local store so they play when their source is down. A user lists and drops their
own (someone else's: 404); admins all."""

from __future__ import annotations

from fastapi import APIRouter

from reelhouse.api.deps import CoreDep, CurrentUser, RowId
from reelhouse.api.schemas import OfflineCopyPublic
from reelhouse.core import Core
from reelhouse.db.models import User
from reelhouse.errors import NotFound

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["offline"])


@router.get("/offline", response_model=list[OfflineCopyPublic])
def list_offline(core: CoreDep, user: CurrentUser) -> list[OfflineCopyPublic]:
    """Offline copies (a non-admin: their own)."""
    return [OfflineCopyPublic.model_validate(c) for c in core.offline.copies()
            if user.is_admin or c.user_id == user.id]


def _cap(core: Core, user: User) -> int | None:
    """The open transfers a user may have, offline copies' downloads included
    (``transfer_max_open_per_user``; admins: no limit), as for ``POST /api/transfers``."""
    return None if user.is_admin else core.settings.transfer_max_open_per_user


def _drop(core: Core, scope: str, user: User) -> None:
    """Drop a scope's copies; a non-admin only their own (else 404)."""
    copies = core.offline.copies(scope)
    if not copies or not (user.is_admin or all(c.user_id == user.id for c in copies)):
        raise NotFound(f"nothing of yours is kept offline in {scope}")
    core.offline.drop(scope)


@router.post("/library/movies/{movie_id}/offline", response_model=list[OfflineCopyPublic],
             status_code=202)
def keep_movie_offline(movie_id: RowId, core: CoreDep, user: CurrentUser) -> list[OfflineCopyPublic]:
    """Keep a film offline: its files (those on sources the user was granted) are
    downloaded to the local store and play from there when the source is down; 404 when
    there is none; 409 (nothing queued) when its downloads would take a user past
    ``transfer_max_open_per_user`` open transfers."""
    return [OfflineCopyPublic.model_validate(c)
            for c in core.offline.keep(f"movie:{movie_id}", user.id, core.access.allowed(user), _cap(core, user))]


@router.delete("/library/movies/{movie_id}/offline", status_code=204)
def drop_movie_offline(movie_id: RowId, core: CoreDep, user: CurrentUser) -> None:
    _drop(core, f"movie:{movie_id}", user)


@router.post("/library/seasons/{season_id}/offline", response_model=list[OfflineCopyPublic],
             status_code=202)
def keep_season_offline(season_id: RowId, core: CoreDep, user: CurrentUser) -> list[OfflineCopyPublic]:
    """Keep a season offline (every episode file the user may see)."""
    return [OfflineCopyPublic.model_validate(c)
            for c in core.offline.keep(f"season:{season_id}", user.id, core.access.allowed(user), _cap(core, user))]


@router.delete("/library/seasons/{season_id}/offline", status_code=204)
def drop_season_offline(season_id: RowId, core: CoreDep, user: CurrentUser) -> None:
    _drop(core, f"season:{season_id}", user)
