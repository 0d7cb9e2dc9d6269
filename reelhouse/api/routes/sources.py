"""Sources (``/api/sources``): list, add, edit, remove, test the connection, health,
start a scan (follow it at ``/api/jobs/{id}``).

Scans and jobs are admins' business (they cost the source's time); a non-admin sees
the sources granted to them, without where they live."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from reelhouse.api.deps import AdminUser, CoreDep, CurrentUser, RowId, client_address
from reelhouse.api.party_socket import get_live
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
def list_sources(core: CoreDep, user: CurrentUser) -> list[SourcePublic]:
    """Sources; a non-admin sees only those granted, without host, port, user name,
    root folder or server messages."""
    return [SourcePublic.model_validate(r).for_user(user.is_admin) for r in core.sources.list()
            if core.access.may_see_source(user, r.id)]


@router.post("/sources", response_model=SourcePublic, status_code=201)
def add_source(body: SourceCreate, request: Request, core: CoreDep, admin: AdminUser) -> SourcePublic:
    row = core.sources.create(SourceSpec(**body.model_dump()))
    core.audit.record("source.create", user=admin, target=f"source:{row.id} {row.name}",
                      address=client_address(request))
    return SourcePublic.model_validate(row)


@router.get("/sources/{source_id}", response_model=SourcePublic)
def get_source(source_id: RowId, core: CoreDep, user: CurrentUser) -> SourcePublic:
    core.access.check_source(user, source_id)
    return SourcePublic.model_validate(core.sources.get(source_id)).for_user(user.is_admin)


@router.patch("/sources/{source_id}", response_model=SourcePublic)
def edit_source(source_id: RowId, body: SourceUpdate, request: Request, core: CoreDep,
                admin: AdminUser) -> SourcePublic:
    spec = SourceSpec(**body.model_dump(exclude_unset=True))
    row = core.sources.update(source_id, spec)
    fields = ", ".join(sorted(body.model_dump(exclude_unset=True)))
    core.audit.record("source.update", user=admin, target=f"source:{source_id} {row.name}: {fields}",
                      address=client_address(request))
    return SourcePublic.model_validate(row)


@router.delete("/sources/{source_id}", status_code=204)
async def remove_source(source_id: RowId, request: Request, core: CoreDep, admin: AdminUser) -> Response:
    """Remove a source and its files from the library (never a file on the source):
    the watch parties of its films end first (their sockets close with 4410, on every
    node), its transfers are cancelled (no ``.part`` or spooled upload left), its
    streams and HLS encoders end, its offline copies' files are deleted."""
    await run_in_threadpool(core.sources.get, source_id)  # 404 before ending anything
    await get_live(request.app).end_source(source_id)
    await run_in_threadpool(core.sources.remove, source_id)
    await run_in_threadpool(lambda: core.audit.record("source.delete", user=admin, target=f"source:{source_id}",
                                                      address=client_address(request)))
    return Response(status_code=204)


@router.post("/sources/{source_id}/test", response_model=TestResult)
async def test_source(source_id: RowId, core: CoreDep, _: AdminUser) -> TestResult:
    """Connect with the stored settings and list the root folder (a fresh connection,
    not the pool's, so the result reflects the settings as they are now). Admins only:
    it makes the server connect out, and its messages name hosts."""
    row = core.sources.get(source_id)

    def _test() -> TestResult:
        start = time.perf_counter()
        src = core.sources.build(row)
        try:
            entries = src.list("")
        except ReelhouseError as exc:
            return TestResult(ok=False, message=core.redactor(exc.message))
        finally:
            src.close()
        ms = (time.perf_counter() - start) * 1000
        noun = "entry" if len(entries) == 1 else "entries"
        return TestResult(ok=True, message=f"connected; {len(entries)} {noun} in the root folder",
                          latency_ms=round(ms, 1), entries=len(entries))

    return await run_in_threadpool(_test)


@router.get("/sources/{source_id}/health", response_model=SourceHealth)
async def source_health(source_id: RowId, core: CoreDep, user: CurrentUser) -> SourceHealth:
    """Is the source reachable now, how fast, and how busy is its connection pool
    (non-admins: of a granted source, without the server's error text)."""
    await run_in_threadpool(core.access.check_source, user, source_id)
    health = SourceHealth(**await run_in_threadpool(core.sources.health, source_id))
    if not user.is_admin and health.error:
        health.error = "the source cannot be reached now"
    elif health.error:
        health.error = core.redactor(health.error)
    return health


@router.post("/sources/{source_id}/scan", response_model=JobPublic, status_code=202)
def scan_source(source_id: RowId, core: CoreDep, _: AdminUser) -> JobPublic:
    """Start a background scan (or return the one already running)."""
    return JobPublic.model_validate(core.jobs.submit_scan(source_id))

