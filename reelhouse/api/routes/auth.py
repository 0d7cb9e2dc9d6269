"""``POST /api/auth/login`` (no auth needed), ``POST /api/auth/logout``,
``GET /api/auth/me``, ``POST /api/auth/password`` (own password) and the sessions of
``/api/auth/sessions`` (own; admins: anyone's)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from reelhouse.api.deps import (
    CoreDep,
    CurrentIdentity,
    CurrentUser,
    RowId,
    client_address,
    request_token,
)
from reelhouse.api.schemas import LoginIn, LoginOut, UserPublic
from reelhouse.api.schemas.users import PasswordChange, SessionPublic
from reelhouse.api.session_cookie import clear_session_cookie, set_device_cookie, set_session_cookie
from reelhouse.auth.devices import DEVICE_COOKIE
from reelhouse.auth.sessions import SessionInfo
from reelhouse.core import Core
from reelhouse.db.models import User
from reelhouse.errors import AuthenticationFailed

__all__ = ["perform_login", "router", "set_login_cookies"]


router = APIRouter(prefix="/api/auth", tags=["auth"])


async def perform_login(core: Core, request: Request, username: str, password: str,
                        kind: str = "web") -> tuple[User, str, str]:
    """Throttle, check the password (argon2, off the event loop), audit, and start a
    session; returns ``(user, token, device cookie)``: the caller sets both cookies
    (:func:`set_login_cookies`). A request with the device cookie of an earlier login
    to this account counts its failures under that device, not the account
    (auth/devices.py). Raises TooManyRequests (429) while the account (or device) or
    address must wait, AuthenticationFailed for a wrong name or password."""
    address = client_address(request)
    # the stored spelling: "Alice" and "alice" are one account for the throttle and the audit
    username = await run_in_threadpool(core.users.login_name, username[:256])
    device = core.device_cookies.device_of(request.cookies.get(DEVICE_COOKIE), username)
    await run_in_threadpool(core.login_throttle.check, username, address, device)  # Redis, when shared
    try:
        user = await run_in_threadpool(core.users.authenticate, username, password)
    except AuthenticationFailed:
        await run_in_threadpool(core.login_throttle.failed, username, address, device)
        await run_in_threadpool(core.audit.record, "login", user_name=username[:64],
                                address=address, ok=False)
        raise
    await run_in_threadpool(core.login_throttle.succeeded, username, address, device)
    token, _ = await run_in_threadpool(
        lambda: core.auth_sessions.create(user.id, kind=kind, address=address,
                                          device=request.headers.get("user-agent", "")[:128]))
    await run_in_threadpool(core.audit.record, "login", user=user, address=address)
    return user, token, core.device_cookies.issue(username)


def set_login_cookies(response: Response, core: Core, request: Request, token: str, device: str) -> None:
    """Set the session cookie and the device cookie of a successful login."""
    set_session_cookie(response, core.settings, token, request.url.scheme)
    set_device_cookie(response, core.settings, device, request.url.scheme)


def session_public(info: SessionInfo, current: int | None) -> SessionPublic:
    out = SessionPublic.model_validate(info)
    out.current = info.id == current
    return out


@router.post("/login", response_model=LoginOut)
async def login(body: LoginIn, request: Request, response: Response, core: CoreDep) -> LoginOut:
    """Check a user name and password; returns a bearer token and sets the session
    cookie (both the same server-side session) and the device cookie. 429 with
    ``Retry-After`` after repeated failures."""
    user, token, device = await perform_login(core, request, body.username, body.password)
    set_login_cookies(response, core, request, token, device)
    return LoginOut(token=token, expires_in=core.settings.session_ttl,
                    user=UserPublic.model_validate(user))


@router.post("/logout", status_code=204)
def logout(request: Request, core: CoreDep) -> Response:
    """End the session of this request (bearer or cookie) at once and forget the cookie."""
    token, _ = request_token(request)
    if token:
        core.auth_sessions.revoke_token(token)
    response = Response(status_code=204)
    clear_session_cookie(response, core.settings, request.url.scheme)
    return response


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)


@router.post("/password", status_code=204)
def change_password(body: PasswordChange, request: Request, core: CoreDep,
                    identity: CurrentIdentity) -> Response:
    """Change your own password (the old one must be right); every other session of
    yours ends, this one stays. A wrong old password counts as a failed login of the
    account (the old password guards it against a session left open): 429 with
    ``Retry-After`` after repeated failures, as for logins."""
    name, address = identity.user.name, client_address(request)
    core.login_throttle.check(name, address)
    try:
        core.users.change_own_password(identity.user.id, body.old_password, body.new_password,
                                       keep_session=identity.session_id)
    except AuthenticationFailed:
        core.login_throttle.failed(name, address)
        core.audit.record("user.password", user=identity.user, target=f"user:{identity.user.id}",
                          address=address, ok=False)
        raise
    core.login_throttle.succeeded(name, address)
    core.audit.record("user.password", user=identity.user, target=f"user:{identity.user.id}",
                      address=address)
    return Response(status_code=204)


@router.get("/sessions", response_model=list[SessionPublic])
def list_sessions(core: CoreDep, identity: CurrentIdentity, all: bool = False) -> list[SessionPublic]:
    """Your sessions (device, address, last seen), most recent first; an admin may ask
    for everyone's with ``?all=true``."""
    uid = None if all and identity.user.is_admin else identity.user.id
    return [session_public(i, identity.session_id) for i in core.auth_sessions.list(uid)]


@router.delete("/sessions/{session_id}", status_code=204)
def end_session(session_id: RowId, core: CoreDep, identity: CurrentIdentity) -> Response:
    """End one of your sessions (admins: anyone's); someone else's is 404."""
    core.auth_sessions.revoke(session_id, None if identity.user.is_admin else identity.user.id)
    return Response(status_code=204)


@router.post("/sessions/revoke-others", status_code=200)
def end_other_sessions(core: CoreDep, identity: CurrentIdentity) -> dict[str, int]:
    """Sign out everywhere else: end all your sessions but this one."""
    return {"ended": core.auth_sessions.revoke_user(identity.user.id, keep=identity.session_id)}
