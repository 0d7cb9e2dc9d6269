"""Users (``/api/users``, admins), API keys (``/api/keys``, admins), the audit log
(``GET /api/audit``, admins) and first-run setup (``POST /api/setup``, only while no
user exists)."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from reelhouse.api.deps import AdminUser, CoreDep, RowId, RowIdQuery, client_address
from reelhouse.api.party_socket import get_live
from reelhouse.api.schemas import LoginOut, UserPublic
from reelhouse.api.schemas.users import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    AuditEventPublic,
    SetupIn,
    UserAdminPublic,
    UserCreate,
    UserUpdate,
)
from reelhouse.api.session_cookie import set_session_cookie
from reelhouse.auth.users import UserChange
from reelhouse.core import Core
from reelhouse.db.models import User
from reelhouse.errors import ReelhouseError
from reelhouse.party.service import PartyInfo

__all__ = ["router", "user_admin_public"]

router = APIRouter(prefix="/api", tags=["users"])


def user_admin_public(core: Core, user: User) -> UserAdminPublic:
    return UserAdminPublic(id=user.id, name=user.name, role="admin" if user.is_admin else "user",
                           is_admin=user.is_admin, disabled=user.disabled,
                           restrict_sources=user.restrict_sources,
                           sources=core.users.granted_sources(user.id), created_at=user.created_at)


@router.get("/users", response_model=list[UserAdminPublic])
def list_users(core: CoreDep, _: AdminUser) -> list[UserAdminPublic]:
    return [user_admin_public(core, u) for u in core.users.list()]


@router.post("/users", response_model=UserAdminPublic, status_code=201)
def create_user(body: UserCreate, request: Request, core: CoreDep, admin: AdminUser) -> UserAdminPublic:
    """Add a user (``role`` admin or user); with ``restrict_sources`` they see only
    ``sources``. 409 if the name is taken, 400 for a password not 8-256 characters or
    an unknown source (and then no user is created)."""
    user = core.users.add(body.name, body.password, is_admin=body.role == "admin",
                          restrict_sources=body.restrict_sources, sources=body.sources)
    core.audit.record("user.create", user=admin, target=f"user:{user.id} {user.name}",
                      address=client_address(request))
    return user_admin_public(core, user)


@router.get("/users/{user_id}", response_model=UserAdminPublic)
def get_user(user_id: RowId, core: CoreDep, _: AdminUser) -> UserAdminPublic:
    return user_admin_public(core, core.users.get_or_404(user_id))


@router.patch("/users/{user_id}", response_model=UserAdminPublic)
def update_user(user_id: RowId, body: UserUpdate, request: Request, core: CoreDep,
                admin: AdminUser) -> UserAdminPublic:
    """Rename, change role, disable/enable, reset the password, set the sources
    allowed. A new password, disabling or losing admin ends the user's sessions at
    once. 409 when it would leave no enabled admin."""
    change = UserChange(name=body.name, disabled=body.disabled, password=body.password,
                        is_admin=None if body.role is None else body.role == "admin",
                        restrict_sources=body.restrict_sources, sources=body.sources)
    user = core.users.update(user_id, change)
    # null leaves a field as it is (UserChange): only the fields given a value are named
    what = ", ".join(sorted(k for k, v in body.model_dump(exclude_unset=True).items()
                            if v is not None)) or "nothing changed"
    core.audit.record("user.update", user=admin, target=f"user:{user_id} {user.name}: {what}",
                      address=client_address(request))
    return user_admin_public(core, user)


@router.delete("/users/{user_id}", status_code=204)
async def delete_user(user_id: RowId, request: Request, core: CoreDep, admin: AdminUser) -> Response:
    """Delete a user: their sessions and API keys end at once; their queued and
    running transfers are cancelled (no ``.part`` left), the ended ones stay without an
    owner; they leave their open watch parties (a host's role passes on), told to the
    other members at once. 409 for the last enabled admin."""
    def before() -> dict[str, PartyInfo]:
        return {code: core.parties.get(code) for code in core.parties.open_codes_of_user(user_id)}

    parties = await run_in_threadpool(before)
    user = await run_in_threadpool(core.users.remove, user_id)  # its hook takes them out of the parties
    live = get_live(request.app)
    for code, was in parties.items():
        with contextlib.suppress(ReelhouseError):
            await live.broadcast(was.party, await run_in_threadpool(core.parties.get, code))
    await run_in_threadpool(lambda: _audit_deletion(core, user, user_id, admin, request))
    return Response(status_code=204)


def _audit_deletion(core: Core, user: User, user_id: int, admin: User, request: Request) -> None:
    # An admin deleting their own account is recorded by name: the row is gone (audit_log.user_id
    # references users), and an event naming it would be refused and lost.
    core.audit.record("user.delete", user=None if user_id == admin.id else admin, user_name=admin.name,
                      target=f"user:{user_id} {user.name}", address=client_address(request))


@router.post("/setup", response_model=LoginOut, status_code=201)
async def setup(body: SetupIn, request: Request, response: Response, core: CoreDep) -> LoginOut:
    """First run: create the first admin and log them in. Only while no user exists
    (409 afterwards), like Jellyfin's start-up wizard."""
    user = await run_in_threadpool(core.users.add_first_admin, body.name, body.password)
    address = client_address(request)
    token, _ = await run_in_threadpool(lambda: core.auth_sessions.create(
        user.id, address=address, device=request.headers.get("user-agent", "")[:128]))
    await run_in_threadpool(core.audit.record, "setup", user=user, target=f"user:{user.id}",
                            address=address)
    set_session_cookie(response, core.settings, token, request.url.scheme)
    return LoginOut(token=token, expires_in=core.settings.session_ttl,
                    user=UserPublic.model_validate(user))


# -- API keys -----------------------------------------------------------------------------
@router.get("/keys", response_model=list[ApiKeyPublic])
def list_keys(core: CoreDep, _: AdminUser) -> list[ApiKeyPublic]:
    return [ApiKeyPublic.model_validate(k) for k in core.api_keys.list()]


@router.post("/keys", response_model=ApiKeyCreated, status_code=201)
def create_key(body: ApiKeyCreate, request: Request, core: CoreDep, admin: AdminUser) -> ApiKeyCreated:
    """A new API key (``Authorization: Bearer rhk_…``) for yourself or ``user_id``;
    the key is in this answer only."""
    key, info = core.api_keys.create(body.user_id or admin.id, body.name)
    core.audit.record("key.create", user=admin, target=f"key:{info.id} {info.name} of user:{info.user_id}",
                      address=client_address(request))
    return ApiKeyCreated(key=key, **ApiKeyPublic.model_validate(info).model_dump())


@router.delete("/keys/{key_id}", status_code=204)
def revoke_key(key_id: RowId, request: Request, core: CoreDep, admin: AdminUser) -> Response:
    info = core.api_keys.revoke(key_id)
    core.audit.record("key.revoke", user=admin, target=f"key:{info.id} {info.name}",
                      address=client_address(request))
    return Response(status_code=204)


# -- audit ---------------------------------------------------------------------------------
@router.get("/audit", response_model=list[AuditEventPublic])
def audit_log(
    core: CoreDep, _: AdminUser,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    before: RowIdQuery = None,
    action: Annotated[str | None, Query(max_length=48)] = None,
    user_id: RowIdQuery = None,
) -> list[AuditEventPublic]:
    """Audit events, newest first: logins (ok and failed), user, key and source
    changes, transfers started; ``before`` (an event id) pages back, ``action``
    filters by prefix (``user`` → ``user.create``, ``user.update``, …)."""
    return [AuditEventPublic.model_validate(e)
            for e in core.audit.recent(limit, before, action, user_id)]
