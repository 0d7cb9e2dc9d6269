"""Transfers (``/api/transfers``): queue, upload a browser file, follow, cancel."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from starlette.concurrency import run_in_threadpool

from reelhouse.api.deps import AdminUser, CoreDep, CurrentUser, RowId
from reelhouse.api.schemas import (
    TransferCreate,
    TransferPublic,
)
from reelhouse.db.models import Transfer
from reelhouse.errors import InvalidInput, PermissionDenied, StorageFull
from reelhouse.sources.base import join, normalize_path

__all__ = ["router", "transfer_public"]

router = APIRouter(prefix="/api", tags=["transfers"])

_UPLOAD_BLOCK = 1024 * 1024


def transfer_public(t: Transfer) -> TransferPublic:
    out = TransferPublic.model_validate(t)
    if t.bytes_total:
        out.percent = round(100.0 * t.bytes_done / t.bytes_total, 1)
        if t.state == "running" and t.rate:
            out.eta_seconds = round(max(0.0, (t.bytes_total - t.bytes_done) / t.rate), 1)
    return out


@router.get("/transfers", response_model=list[TransferPublic])
def list_transfers(
    core: CoreDep, _: CurrentUser,
    state: Literal["queued", "running", "done", "failed", "cancelled"] | None = None,
) -> list[TransferPublic]:
    """Running and queued transfers first, then the most recent (200 at most)."""
    return [transfer_public(t) for t in core.transfers.list(state)]


@router.post("/transfers", response_model=TransferPublic, status_code=201)
def create_transfer(body: TransferCreate, core: CoreDep, user: CurrentUser) -> TransferPublic:
    """Queue an upload, download, delete, rename or mkdir on a source. Anything that
    changes a source (all but download) needs an admin, as editing sources does."""
    if body.kind != "download" and not user.is_admin:
        raise PermissionDenied("only an admin may change files on a source")
    local: str | Path | None = body.local_path
    if body.kind == "upload":
        if not body.local_path:
            raise InvalidInput("an upload from the API needs local_path inside the library "
                               "store; send a file with POST /api/transfers/upload")
        local = core.transfers.local_target("", "", body.local_path)  # refuses outside paths
    t = core.transfers.submit(body.kind, body.source_id, body.remote_path, local_path=local,
                              target_path=body.target_path, priority=body.priority,
                              user_id=user.id)
    return transfer_public(t)


@router.post("/transfers/upload", response_model=TransferPublic, status_code=201)
async def upload_file(
    core: CoreDep,
    user: AdminUser,
    file: Annotated[UploadFile, File(description="the file to upload")],
    source_id: Annotated[int, Form(ge=1, le=2**63 - 1)],
    folder: Annotated[str, Form(max_length=4096)] = "",
    priority: Annotated[int, Form(ge=-1000, le=1000)] = 0,
) -> TransferPublic:
    """Upload a browser file to a folder of a source (created if missing): the file is
    spooled under the data dir, then queued; the spool copy is removed when done."""
    name = normalize_path(file.filename or "")
    if not name or "/" in name:
        raise InvalidInput("the uploaded file needs a plain file name")
    remote = join(normalize_path(folder), name)
    spool = core.settings.data_dir / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    dest = spool / f"{uuid.uuid4().hex}-{name}"

    def _spool() -> None:
        try:
            with open(dest, "wb") as out:
                shutil.copyfileobj(file.file, out, _UPLOAD_BLOCK)
        except OSError as exc:
            dest.unlink(missing_ok=True)
            raise StorageFull(f"cannot keep the upload on this machine: {exc.strerror}") from exc

    await run_in_threadpool(_spool)
    try:
        t = await run_in_threadpool(core.transfers.submit, "upload", source_id, remote, dest,
                                    None, priority, user.id, True)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return transfer_public(t)


@router.get("/transfers/{transfer_id}", response_model=TransferPublic)
def get_transfer(transfer_id: RowId, core: CoreDep, _: CurrentUser) -> TransferPublic:
    return transfer_public(core.transfers.get(transfer_id))


@router.post("/transfers/{transfer_id}/cancel", response_model=TransferPublic, status_code=202)
def cancel_transfer(transfer_id: RowId, core: CoreDep, _: CurrentUser) -> TransferPublic:
    """Cancel a queued or running transfer (409 when it has ended)."""
    return transfer_public(core.transfers.cancel(transfer_id))
