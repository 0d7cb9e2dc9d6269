"""Watch parties: create, read, join, leave, end, list mine; and the party WebSocket.

Every endpoint needs a login (the WebSocket too: cookie or bearer token on the
handshake). A party is named by its 6-character invite code, in any case.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, WebSocket
from starlette.concurrency import run_in_threadpool

from reelhouse.api.deps import CoreDep, CurrentUser, client_address
from reelhouse.api.party_lookup import find_party, may_see_party
from reelhouse.api.party_socket import get_live, serve_socket
from reelhouse.api.schemas import PartyCreate, PartyPublic
from reelhouse.party import protocol
from reelhouse.party import state as st
from reelhouse.party.clock import server_now
from reelhouse.party.service import PartyInfo

__all__ = ["router"]

router = APIRouter(prefix="/api/parties", tags=["parties"])

Code = Annotated[str, Path(min_length=1, max_length=16, description="invite code, any case")]


def party_public(info: PartyInfo) -> PartyPublic:
    now = server_now()
    snap = protocol.snapshot(info.code, info.media_file_id, info.party, now, info.version)
    return PartyPublic(**snap, invite_path=f"/party/{info.code}", server_time=now)


@router.post("", response_model=PartyPublic, status_code=201)
async def create_party(body: PartyCreate, core: CoreDep, user: CurrentUser) -> PartyPublic:
    """Start a party on a media file with you as host (404 if the file does not exist;
    409 if you already host ``party_max_open`` parties that have not ended)."""
    await run_in_threadpool(core.access.check_file, user, body.media_file_id)
    info = await run_in_threadpool(core.parties.create, user, body.media_file_id, body.mode)
    return party_public(info)


@router.get("", response_model=list[PartyPublic])
async def my_parties(core: CoreDep, user: CurrentUser) -> list[PartyPublic]:
    """The parties you are a member of that have not ended, newest first; not those
    with a file (playing or queued) on a source taken from you since you joined (as
    the /party page)."""
    def visible() -> list[PartyInfo]:
        return [i for i in core.parties.list_for(user.id) if may_see_party(core, user, i)]

    return [party_public(i) for i in await run_in_threadpool(visible)]


@router.get("/{code}", response_model=PartyPublic)
async def get_party(code: Code, request: Request, core: CoreDep, user: CurrentUser) -> PartyPublic:
    """A party by its invite code (404 if there is none, or its file is on a source
    you were not granted; 429 after repeated unknown codes: api/party_lookup.py)."""
    info = await run_in_threadpool(find_party, core, code, user, client_address(request))
    return party_public(info)


@router.post("/{code}/join", response_model=PartyPublic)
async def join_party(code: Code, request: Request, core: CoreDep, user: CurrentUser) -> PartyPublic:
    """Become a member (idempotent); opening the WebSocket joins too. 409 if it ended."""
    await run_in_threadpool(find_party, core, code, user, client_address(request))
    before, info = await run_in_threadpool(
        core.parties.apply, code, lambda now: st.Join(user.id, user.name, now, connected=False))
    await get_live(request.app).broadcast(before, info)
    return party_public(info)


@router.post("/{code}/leave", response_model=PartyPublic)
async def leave_party(code: Code, request: Request, core: CoreDep, user: CurrentUser) -> PartyPublic:
    """Stop being a member; if you were the host, the longest-present member takes over.
    403 if you are not a member."""
    await run_in_threadpool(find_party, core, code, user, client_address(request))  # misses are throttled
    before, info = await run_in_threadpool(core.parties.apply, code, lambda now: st.Leave(user.id, now))
    await get_live(request.app).broadcast(before, info)
    return party_public(info)


@router.post("/{code}/end", response_model=PartyPublic)
async def end_party(code: Code, request: Request, core: CoreDep, user: CurrentUser) -> PartyPublic:
    """End the party for everyone (host only: 403 otherwise); sockets close with 4410."""
    await run_in_threadpool(find_party, core, code, user, client_address(request))
    before, info = await run_in_threadpool(core.parties.apply, code, lambda now: st.End(user.id, now))
    await get_live(request.app).broadcast(before, info)
    return party_public(info)


@router.websocket("/{code}/ws")
async def party_ws(websocket: WebSocket, code: str) -> None:
    """The party's live channel (messages: reelhouse/party/protocol.py)."""
    await serve_socket(websocket, code)
