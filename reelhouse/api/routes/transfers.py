"""Transfers (``/api/transfers``): queue, upload a browser file, follow, cancel.

Ownership: a user sees, reads and cancels their own transfers; someone else's answers
404 (not 403, so ids do not leak). Admins act on all. Anything that changes a source
is admins' business. Uploads are admins' only and are authenticated before a byte of
the body is read (see api/security.py)."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from reelhouse.api.deps import AdminUser, CoreDep, CurrentUser, RowId, client_address
from reelhouse.api.schemas import (
    TransferCreate,
    TransferPublic,
)
from reelhouse.core import Core
from reelhouse.db.limits import INT_MAX
from reelhouse.db.models import OfflineCopy, Transfer, User
from reelhouse.errors import Conflict, InvalidInput, NotFound, PermissionDenied, StorageFull
from reelhouse.sources.base import check_new_path, join, normalize_path
from reelhouse.transfers.confine import confine
from reelhouse.transfers.queue import check_not_own

__all__ = ["form_file_name", "router", "transfer_public"]

router = APIRouter(prefix="/api", tags=["transfers"])

_UPLOAD_BLOCK = 1024 * 1024


def transfer_public(t: Transfer, user: User | None = None, store: Path | None = None) -> TransferPublic:
    """A transfer for the API; for a non-admin ``local_path`` is shown relative to
    the library store (never a server path)."""
    out = TransferPublic.model_validate(t)
    if user is not None and not user.is_admin and out.local_path:
        out.local_path = _store_relative(out.local_path, store or Path("/"))
    if t.bytes_total:
        out.percent = round(100.0 * t.bytes_done / t.bytes_total, 1)
        if t.state == "running" and t.rate:
            out.eta_seconds = round(max(0.0, (t.bytes_total - t.bytes_done) / t.rate), 1)
    return out


#: What browsers escape in a multipart file name, and how (WHATWG HTML, "multipart/form-data
#: encoding algorithm": LF, CR and ``"`` only; httpx does the same). python-multipart
#: hands the name on as it came (``Film %22Quoted%22.mkv``).
_FORM_ESCAPES = {"%22": '"', "%0a": "\n", "%0d": "\r"}
_FORM_ESCAPED = re.compile("%22|%0a|%0d", re.IGNORECASE)


def form_file_name(sent: str) -> str:
    """The name of a file a browser uploaded, its ``%22``, ``%0A`` and ``%0D`` turned back
    into ``"``, LF and CR (a name with a line break is then refused as such). A name with
    a literal ``%22`` cannot be told apart: browsers do not escape ``%``."""
    return _FORM_ESCAPED.sub(lambda m: _FORM_ESCAPES[m.group(0).lower()], sent)


def _store_relative(local_path: str, store: Path) -> str:
    path, root = Path(local_path), store.resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name


def _refuse_others_file(core: Core, local: Path, user: User) -> None:
    """Conflict when ``local`` is a file written by another user's transfer or is an
    offline copy (which serves everyone)."""
    store = core.settings.store_dir.resolve()
    rel = local.relative_to(store).as_posix()
    with core.sessions() as s:
        copy = s.scalar(select(OfflineCopy.id).where(OfflineCopy.local_path == rel))
        other = s.scalar(select(Transfer.id).where(Transfer.local_path == str(local),
                                                   Transfer.user_id != user.id))
    if copy is not None or (other is not None and not user.is_admin) or \
            (local.exists() and not user.is_admin and other is None and not _wrote(core, local, user)):
        raise Conflict("local_path names a file that belongs to someone else; choose another")


def _wrote(core: Core, local: Path, user: User) -> bool:
    with core.sessions() as s:
        return s.scalar(select(Transfer.id).where(Transfer.local_path == str(local),
                                                  Transfer.user_id == user.id)) is not None


@router.get("/transfers", response_model=list[TransferPublic])
def list_transfers(
    core: CoreDep, user: CurrentUser,
    state: Literal["queued", "running", "done", "failed", "cancelled"] | None = None,
) -> list[TransferPublic]:
    """Running and queued transfers first, then the most recent (200 at most); a
    non-admin sees their own (their 200, however many others' came since)."""
    rows = core.transfers.list(state, user_id=None if user.is_admin else user.id)
    return [transfer_public(t, user, core.settings.store_dir) for t in rows]


def _mine(t: Transfer, user: User) -> bool:
    return user.is_admin or t.user_id == user.id


def _own_transfer(core: Core, transfer_id: int, user: User) -> Transfer:
    t = core.transfers.get(transfer_id)
    if not _mine(t, user):
        raise NotFound(f"no transfer with id {transfer_id}")
    return t


@router.post("/transfers", response_model=TransferPublic, status_code=201)
def create_transfer(body: TransferCreate, request: Request, core: CoreDep,
                    user: CurrentUser) -> TransferPublic:
    """Queue an upload, download, delete, rename or mkdir on a source. Anything that
    changes a source (all but download) needs an admin, as editing sources does.
    ``local_path`` is confined to the library store (reelhouse/transfers/confine.py)
    and may not name a file another user's transfer or offline copy wrote.

    A user who is not an admin may not raise a download's priority above 0 (403: every
    job shares one queue) and may have ``transfer_max_open_per_user`` transfers queued
    or running at once (then 409)."""
    if body.kind != "download" and not user.is_admin:
        raise PermissionDenied("only an admin may change files on a source")
    if not user.is_admin:
        if body.priority > 0:
            raise PermissionDenied("only an admin may give a transfer a priority above 0 "
                                   "(every job shares one queue)")
    core.access.check_source(user, body.source_id)
    local: Path | None = None
    if body.local_path is not None:
        local = confine(core.settings.store_dir, body.local_path)
        if body.kind == "download":
            check_not_own(core.settings.store_dir, local)
            _refuse_others_file(core, local, user)
    if body.kind == "upload" and local is None:
        raise InvalidInput("an upload from the API needs local_path inside the library "
                           "store; send a file with POST /api/transfers/upload")
    t = core.transfers.submit(body.kind, body.source_id, body.remote_path, local_path=local,
                              target_path=body.target_path, priority=body.priority,
                              user_id=user.id,
                              max_open=None if user.is_admin else core.settings.transfer_max_open_per_user)
    core.audit.record("transfer.create", user=user, address=client_address(request),
                      target=f"transfer:{t.id} {t.kind} source:{t.source_id} {t.remote_path}")
    return transfer_public(t, user, core.settings.store_dir)


@router.post("/transfers/upload", response_model=TransferPublic, status_code=201)
async def upload_file(
    request: Request,
    core: CoreDep,
    user: AdminUser,
    file: Annotated[UploadFile, File(description="the file to upload")],
    source_id: Annotated[int, Form(ge=1, le=INT_MAX)],
    folder: Annotated[str, Form(max_length=4096)] = "",
    priority: Annotated[int, Form(ge=-1000, le=1000)] = 0,
) -> TransferPublic:
    """Upload a browser file to a folder of a source (created if missing): the file is
    spooled under the data dir, then queued; the spool copy is removed when done."""
    await run_in_threadpool(core.sources.check_writable, source_id)  # before spooling it
    name = normalize_path(form_file_name(file.filename or ""))
    if not name or "/" in name:
        raise InvalidInput("the uploaded file needs a plain file name")
    remote = check_new_path(join(normalize_path(folder), name))
    spool = core.settings.data_dir / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    dest = spool / f"{uuid.uuid4().hex}.upload"  # not the name: it may be 255 bytes long

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
    await run_in_threadpool(lambda: core.audit.record(
        "transfer.create", user=user, address=client_address(request),
        target=f"transfer:{t.id} upload source:{t.source_id} {t.remote_path}"))
    return transfer_public(t, user, core.settings.store_dir)


@router.get("/transfers/{transfer_id}", response_model=TransferPublic)
def get_transfer(transfer_id: RowId, core: CoreDep, user: CurrentUser) -> TransferPublic:
    return transfer_public(_own_transfer(core, transfer_id, user), user, core.settings.store_dir)


@router.post("/transfers/{transfer_id}/cancel", response_model=TransferPublic, status_code=202)
def cancel_transfer(transfer_id: RowId, core: CoreDep, user: CurrentUser) -> TransferPublic:
    """Cancel a queued or running transfer of yours (409 when it has ended). For a
    non-admin, cancelling the download of an offline copy releases their claim on it
    (the download stops, or goes on for other users who keep the file: they are not
    named, and the answer is the same cancelled transfer either way)."""
    _own_transfer(core, transfer_id, user)
    left = None if user.is_admin else core.offline.leave_download(transfer_id, user.id)
    t = left if left is not None else core.transfers.cancel(transfer_id)
    return transfer_public(t, user, core.settings.store_dir)
