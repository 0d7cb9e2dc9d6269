"""Sync runs (``/api/sources/{id}/sync``, ``/api/syncs``): compare a source with the
library in the background and keep the report."""

from __future__ import annotations

from fastapi import APIRouter

from reelhouse.api.deps import AdminUser, CoreDep, RowId
from reelhouse.api.schemas import SyncRunPublic

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["syncs"])


@router.post("/sources/{source_id}/sync", response_model=SyncRunPublic, status_code=202)
def start_sync(source_id: RowId, core: CoreDep, _: AdminUser) -> SyncRunPublic:
    """Compare the source with the library in the background (or return the sync
    already running); follow it at ``GET /api/syncs/{id}``."""
    return SyncRunPublic.model_validate(core.syncs.start(source_id))


@router.get("/sources/{source_id}/syncs", response_model=list[SyncRunPublic])
def source_syncs(source_id: RowId, core: CoreDep, _: AdminUser) -> list[SyncRunPublic]:
    core.sources.get(source_id)  # 404 for an unknown source
    return [SyncRunPublic.model_validate(r) for r in core.syncs.history(source_id)]


@router.get("/syncs", response_model=list[SyncRunPublic])
def list_syncs(core: CoreDep, _: AdminUser) -> list[SyncRunPublic]:
    """Sync history of every source, most recent first."""
    return [SyncRunPublic.model_validate(r) for r in core.syncs.history()]


@router.get("/syncs/{run_id}", response_model=SyncRunPublic)
def get_sync(run_id: RowId, core: CoreDep, _: AdminUser) -> SyncRunPublic:
    return SyncRunPublic.model_validate(core.syncs.get(run_id))
