"""Offline copies (``/api/offline``; keep-offline on movies and seasons): files kept in
the local store so they play when their source is down.

A copy is made once per file and shared by every user who keeps it; each of them holds
a claim. A user sees, keeps and releases only their own claims (someone else's: 404,
and nothing in a user's answers says who else keeps a file); the copy goes with its
last claim. Admins also list every copy with its claims
(``GET /api/offline/copies``), release anyone's claim and remove a copy outright."""

from __future__ import annotations

from fastapi import APIRouter

from reelhouse.api.deps import AdminUser, CoreDep, CurrentUser, RowId
from reelhouse.api.schemas import OfflineClaimPublic, OfflineCopyAdmin, OfflineCopyPublic
from reelhouse.core import Core
from reelhouse.db.models import User
from reelhouse.errors import NotFound
from reelhouse.transfers.offline import ClaimView, CopyClaims

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["offline"])


def _public(view: ClaimView, user: User) -> OfflineCopyPublic:
    out = OfflineCopyPublic.model_validate(view.copy)
    out.claim_id, out.claimed_at = view.claim_id, view.claimed_at
    if not (view.own_download or user.is_admin):
        out.transfer_id = None  # another user's transfer (or none): not theirs to follow
    return out


def _admin(entry: CopyClaims) -> OfflineCopyAdmin:
    base = OfflineCopyPublic.model_validate(entry.copy)
    return OfflineCopyAdmin(**base.model_dump(), claims=[
        OfflineClaimPublic(id=cid, user_id=uid, user_name=name, created_at=at)
        for cid, uid, name, at in entry.claims])


@router.get("/offline", response_model=list[OfflineCopyPublic])
def list_offline(core: CoreDep, user: CurrentUser) -> list[OfflineCopyPublic]:
    """The copies the caller keeps offline (admins too: their own; every copy is
    ``GET /api/offline/copies``)."""
    return [_public(v, user) for v in core.offline.mine(user.id)]


@router.get("/offline/copies", response_model=list[OfflineCopyAdmin])
def list_every_copy(core: CoreDep, admin: AdminUser) -> list[OfflineCopyAdmin]:
    """Every offline copy with who keeps it (admins)."""
    return [_admin(e) for e in core.offline.every_copy()]


@router.delete("/offline/copies/{copy_id}", status_code=204)
def remove_copy(copy_id: RowId, core: CoreDep, admin: AdminUser) -> None:
    """Remove a copy, its file and everyone's claims on it (admins)."""
    core.offline.remove_copy(copy_id)


@router.delete("/offline/claims/{claim_id}", status_code=204)
def release_claim(claim_id: RowId, core: CoreDep, user: CurrentUser) -> None:
    """Release one claim: the caller's own (another user's: 404), any for an admin.
    The copy goes with its last claim."""
    core.offline.release_claim(claim_id, None if user.is_admin else user.id)


def _cap(core: Core, user: User) -> int | None:
    """The open transfers a user may have, offline copies' downloads included
    (``transfer_max_open_per_user``; admins: no limit), as for ``POST /api/transfers``."""
    return None if user.is_admin else core.settings.transfer_max_open_per_user


def _keep(core: Core, scope: str, user: User) -> list[OfflineCopyPublic]:
    copies = core.offline.keep(scope, user.id, core.access.allowed(user), _cap(core, user))
    return [_public(v, user) for v in core.offline.mine(user.id, [c.media_file_id for c in copies])]


def _release(core: Core, scope: str, user: User) -> None:
    """Release the caller's claims in a scope (404 when they kept nothing there)."""
    if not core.offline.release(scope, user.id):
        raise NotFound(f"nothing of yours is kept offline in {scope}")


@router.post("/library/movies/{movie_id}/offline", response_model=list[OfflineCopyPublic],
             status_code=202)
def keep_movie_offline(movie_id: RowId, core: CoreDep, user: CurrentUser) -> list[OfflineCopyPublic]:
    """Keep a film offline: its files (those on sources the user was granted) are
    downloaded to the local store, unless another user keeps them already (the copy is
    shared), and play from there when the source is down; 404 when there is none; 409
    (nothing queued) when its downloads would take a user past
    ``transfer_max_open_per_user`` open transfers."""
    return _keep(core, f"movie:{movie_id}", user)


@router.delete("/library/movies/{movie_id}/offline", status_code=204)
def drop_movie_offline(movie_id: RowId, core: CoreDep, user: CurrentUser) -> None:
    """Stop keeping a film offline for the caller; the copies stay for other users who
    keep it (admins too release only their own: ``DELETE /api/offline/claims/{id}``)."""
    _release(core, f"movie:{movie_id}", user)


@router.post("/library/seasons/{season_id}/offline", response_model=list[OfflineCopyPublic],
             status_code=202)
def keep_season_offline(season_id: RowId, core: CoreDep, user: CurrentUser) -> list[OfflineCopyPublic]:
    """Keep a season offline (every episode file the user may see)."""
    return _keep(core, f"season:{season_id}", user)


@router.delete("/library/seasons/{season_id}/offline", status_code=204)
def drop_season_offline(season_id: RowId, core: CoreDep, user: CurrentUser) -> None:
    """Stop keeping a season offline for the caller."""
    _release(core, f"season:{season_id}", user)
