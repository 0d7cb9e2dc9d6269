"""Files of a source written at once (``PUT /api/sources/{id}/files?path=…``): the
request body is stored under its final name with its size verified before the answer."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from reelhouse.api.deps import AdminUser, CoreDep, RowId, client_address
from reelhouse.errors import InvalidInput, ReelhouseError, StorageFull
from reelhouse.sources.base import Source, check_new_path
from reelhouse.transfers.copy import upload
from reelhouse.transfers.part_files import part_name

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["transfers"])


@router.put("/sources/{source_id}/files", status_code=201)
async def put_file(
    source_id: RowId,
    request: Request,
    core: CoreDep,
    admin: AdminUser,
    path: Annotated[str, Query(min_length=1, max_length=4096)],
) -> dict[str, object]:
    """Upload the request body to ``path`` on the source now (``curl -T film.mkv``) and
    answer once it is stored under its final name with its size verified: 201
    ``{"path", "size"}``, or 507 when the source is full, 400 for a name it refuses,
    502 when it refuses our login (never 401: that is the user's session) or is down,
    504 when it does not answer in time, 503 when its connections are busy, 409
    while another upload to that name runs (on any node). The body is
    spooled first; on the source it is written as ``NAME.part`` (from byte 0: a
    ``.part`` left by an earlier upload holds another body) and renamed when
    complete; a 507 deletes it (no later ``PUT`` would resume it)."""
    await run_in_threadpool(core.sources.check_writable, source_id)  # before spooling the body
    _check_utf8_query(request)
    remote = check_new_path(path)
    if not remote or path.endswith("/"):  # "New/" names a folder, not a file called New
        raise InvalidInput(f"path must name a file, not a folder: {path!r}")
    spool = core.settings.data_dir / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    dest = spool / f"{uuid.uuid4().hex}.put"
    try:
        with open(dest, "wb") as out:
            async for block in request.stream():
                await run_in_threadpool(out.write, block)
        source = await run_in_threadpool(core.sources.source, source_id)
        slot = await run_in_threadpool(core.transfers.claim_upload, source_id, remote)
        signature = core.transfers.claims.signature(source_id, remote)
        try:
            # the signature of this spool file: a .part an earlier, cut-short upload
            # left (another body) is started over, never resumed by its size
            size = await run_in_threadpool(upload, source, dest, remote, None, None, signature)
        except StorageFull:
            # no later PUT resumes this .part (each starts over), and on a full disk the
            # space it holds would refuse every other upload too
            await run_in_threadpool(_drop_part, source, remote, signature)
            raise
        finally:
            await run_in_threadpool(core.transfers.release_upload, slot)
    except OSError as exc:
        raise StorageFull(f"cannot keep the upload on this machine: {exc.strerror}") from exc
    finally:
        dest.unlink(missing_ok=True)
    await run_in_threadpool(lambda: core.audit.record(
        "file.upload", user=admin, address=client_address(request),
        target=f"source:{source_id} {remote} ({size} bytes)"))
    return {"path": remote, "size": size}


def _check_utf8_query(request: Request) -> None:
    """InvalidInput when the query's percent-escapes are not UTF-8 (``path=%E9t%E9.bin``,
    latin-1): Starlette decodes them with U+FFFD in place of each byte, and the file was
    stored as ``�t�.bin``, a name nobody typed (RFC 3986 §2.5: new URI schemes encode
    text as UTF-8)."""
    try:
        parse_qs(request.scope.get("query_string", b"").decode("latin-1"), errors="strict")
    except UnicodeDecodeError:
        raise InvalidInput("path is not UTF-8: percent-encode the UTF-8 bytes of its name "
                           "(é is %C3%A9)") from None


def _drop_part(source: Source, remote: str, signature: Path) -> None:
    """Delete the ``.part`` of a failed ``PUT`` to ``remote`` and its signature (best
    effort: a source that refuses is left as it is)."""
    with contextlib.suppress(OSError):
        signature.unlink(missing_ok=True)
    with contextlib.suppress(ReelhouseError):
        source.delete(part_name(remote))
