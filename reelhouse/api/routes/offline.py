"""Offline copies (``/api/offline``; keep-offline on movies and seasons): files kept in
the local store so they play when their source is down."""

from __future__ import annotations

from fastapi import APIRouter

from reelhouse.api.deps import CoreDep, CurrentUser, RowId
from reelhouse.api.schemas import OfflineCopyPublic

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["offline"])


@router.get("/offline", response_model=list[OfflineCopyPublic])
def list_offline(core: CoreDep, _: CurrentUser) -> list[OfflineCopyPublic]:
    return [OfflineCopyPublic.model_validate(c) for c in core.offline.copies()]


@router.post("/library/movies/{movie_id}/offline", response_model=list[OfflineCopyPublic],
             status_code=202)
def keep_movie_offline(movie_id: RowId, core: CoreDep, user: CurrentUser) -> list[OfflineCopyPublic]:
    """Keep a film offline: its files are downloaded to the local store and play from
    there when the source is down."""
    return [OfflineCopyPublic.model_validate(c) for c in core.offline.keep(f"movie:{movie_id}", user.id)]


@router.delete("/library/movies/{movie_id}/offline", status_code=204)
def drop_movie_offline(movie_id: RowId, core: CoreDep, _: CurrentUser) -> None:
    core.offline.drop(f"movie:{movie_id}")


@router.post("/library/seasons/{season_id}/offline", response_model=list[OfflineCopyPublic],
             status_code=202)
def keep_season_offline(season_id: RowId, core: CoreDep, user: CurrentUser) -> list[OfflineCopyPublic]:
    """Keep a season offline (every episode file)."""
    return [OfflineCopyPublic.model_validate(c)
            for c in core.offline.keep(f"season:{season_id}", user.id)]


@router.delete("/library/seasons/{season_id}/offline", status_code=204)
def drop_season_offline(season_id: RowId, core: CoreDep, _: CurrentUser) -> None:
    core.offline.drop(f"season:{season_id}")
