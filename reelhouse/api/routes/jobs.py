"""Background jobs (``/api/jobs``, admins only): list the recent ones, follow one, cancel one."""

from __future__ import annotations

from fastapi import APIRouter

from reelhouse.api.deps import AdminUser, CoreDep, RowId
from reelhouse.api.schemas import JobPublic

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["jobs"])


@router.get("/jobs", response_model=list[JobPublic])
def list_jobs(core: CoreDep, _: AdminUser) -> list[JobPublic]:
    return [JobPublic.model_validate(j) for j in core.jobs.recent()]


@router.post("/jobs/{job_id}/cancel", response_model=JobPublic, status_code=202)
def cancel_job(job_id: RowId, core: CoreDep, _: AdminUser) -> JobPublic:
    """Ask a queued or running scan to stop (409 if it has ended already)."""
    return JobPublic.model_validate(core.jobs.cancel(job_id))


@router.get("/jobs/{job_id}", response_model=JobPublic)
def get_job(job_id: RowId, core: CoreDep, _: AdminUser) -> JobPublic:
    return JobPublic.model_validate(core.jobs.get(job_id))
