"""The party's play queue for browser members: ``GET`` / ``POST /api/parties/{code}/queue``.

The queue is the SyncPlay one Jellyfin apps edit (:mod:`.party_queue`,
:mod:`.routes_syncplay_queue`), so these routes live beside it, above ``api``
(whose dependencies, schemas and party lookup they use), and ``reelhouse.server``
mounts them on the site's app.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from reelhouse.api.deps import CoreDep, CurrentUser, client_address
from reelhouse.api.party_lookup import find_party
from reelhouse.api.schemas import PartyQueuePublic, QueueEdit
from reelhouse.errors import InvalidInput, PermissionDenied
from reelhouse.jellyfin.party_queue import check_edit_rate, edit_of, read_queue
from reelhouse.jellyfin.routes_syncplay_queue import change_queue

__all__ = ["router"]

router = APIRouter(prefix="/api/parties", tags=["parties"])

Code = Annotated[str, Path(min_length=1, max_length=16, description="invite code, any case")]


@router.get("/{code}/queue", response_model=PartyQueuePublic)
async def get_queue(code: Code, request: Request, core: CoreDep, user: CurrentUser) -> PartyQueuePublic:
    """The party's play queue in play order, the playing entry marked (the SyncPlay queue
    Jellyfin apps edit; a party without one plays its one file). 404 as ``GET /{code}``;
    403 for a user who has not joined."""
    info = await run_in_threadpool(find_party, core, code, user, client_address(request))
    return await run_in_threadpool(read_queue, core, info, user.id)


@router.post("/{code}/queue", response_model=PartyQueuePublic)
async def edit_queue(code: Code, body: Annotated[dict[str, object], Body()], request: Request, core: CoreDep,
                     user: CurrentUser) -> PartyQueuePublic:
    """Change the party's play queue (see QueueEdit; ``repeat`` and ``shuffle`` are
    SyncPlay's SetRepeatMode and SetShuffleMode); the Jellyfin apps in the party get
    the PlayQueue update, the members' party sockets a ``queue`` message, and a new
    playing entry loads its file for everyone (stops the party when none is left).
    Returns the queue after. 404: unknown party, a file you may
    not see or an unknown entry; 403: not a member, a guest of a host-mode party, or a
    file another member may not see; 400: a bad body or a full queue (1,000); 429: more than 20 changes at once or 5 a
    second on average (jellyfin/party_queue.py). The body is
    read after the membership check, so a non-member learns nothing from it (403)."""
    info = await run_in_threadpool(find_party, core, code, user, client_address(request))
    if info.party.member(user.id) is None:
        raise PermissionDenied("join the party first")
    await run_in_threadpool(check_edit_rate, core, user.id)
    try:
        edit = QueueEdit.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput(f"bad queue change: {exc.errors()[0]['msg']}") from None
    change = await run_in_threadpool(edit_of, core, info, user, edit)
    await change_queue(request, user.id, info, change)
    return await run_in_threadpool(read_queue, core, info, user.id)
