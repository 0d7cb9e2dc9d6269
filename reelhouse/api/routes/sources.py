"""Sources (``/api/sources``): list, add, edit, remove, test the connection, health,
start a scan (follow it at ``/api/jobs/{id}``)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from reelhouse.api.deps import AdminUser, CoreDep, CurrentUser, RowId
from reelhouse.api.schemas import (
    JobPublic,
    SourceCreate,
    SourceHealth,
    SourcePublic,
    SourceUpdate,
    TestResult,
)
from reelhouse.errors import ReelhouseError
from reelhouse.sources.registry import SourceSpec

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["sources"])


@router.get("/sources", response_model=list[SourcePublic])
def list_sources(core: CoreDep, _: CurrentUser) -> list[SourcePublic]:
    return [SourcePublic.model_validate(r) for r in core.sources.list()]


@router.post("/sources", response_model=SourcePublic, status_code=201)
def add_source(body: SourceCreate, core: CoreDep, _: AdminUser) -> SourcePublic:
    return SourcePublic.model_validate(core.sources.create(SourceSpec(**body.model_dump())))


@router.get("/sources/{source_id}", response_model=SourcePublic)
def get_source(source_id: RowId, core: CoreDep, _: CurrentUser) -> SourcePublic:
    return SourcePublic.model_validate(core.sources.get(source_id))


@router.patch("/sources/{source_id}", response_model=SourcePublic)
def edit_source(source_id: RowId, body: SourceUpdate, core: CoreDep, _: AdminUser) -> SourcePublic:
    spec = SourceSpec(**body.model_dump(exclude_unset=True))
    return SourcePublic.model_validate(core.sources.update(source_id, spec))


@router.delete("/sources/{source_id}", status_code=204)
def remove_source(source_id: RowId, core: CoreDep, _: AdminUser) -> Response:
    core.sources.remove(source_id)
    return Response(status_code=204)


@router.post("/sources/{source_id}/test", response_model=TestResult)
async def test_source(source_id: RowId, core: CoreDep, _: CurrentUser) -> TestResult:
    """Connect with the stored settings and list the root folder (a fresh connection,
    not the pool's, so the result reflects the settings as they are now)."""
    row = core.sources.get(source_id)

    def _test() -> TestResult:
        start = time.perf_counter()
        src = core.sources.build(row)
        try:
            entries = src.list("")
        except ReelhouseError as exc:
            return TestResult(ok=False, message=exc.message)
        finally:
            src.close()
        ms = (time.perf_counter() - start) * 1000
        noun = "entry" if len(entries) == 1 else "entries"
        return TestResult(ok=True, message=f"connected; {len(entries)} {noun} in the root folder",
                          latency_ms=round(ms, 1), entries=len(entries))

    return await run_in_threadpool(_test)


@router.get("/sources/{source_id}/health", response_model=SourceHealth)
async def source_health(source_id: RowId, core: CoreDep, _: CurrentUser) -> SourceHealth:
    """Is the source reachable now, how fast, and how busy is its connection pool."""
    return SourceHealth(**await run_in_threadpool(core.sources.health, source_id))


@router.post("/sources/{source_id}/scan", response_model=JobPublic, status_code=202)
def scan_source(source_id: RowId, core: CoreDep, _: CurrentUser) -> JobPublic:
    """Start a background scan (or return the one already running)."""
    return JobPublic.model_validate(core.jobs.submit_scan(source_id))
