"""Pages of logins and people: ``/setup`` (first run: create the first admin, only
while no user exists), ``/account`` (everyone: change password, sessions, sign out
others), ``/settings/users`` and ``/settings/audit`` (admins). The forms talk to the
JSON API (``/api/auth/…``, ``/api/users``) from static scripts; setup is a plain form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from reelhouse.api.deps import client_address
from reelhouse.api.routes.users import user_admin_public
from reelhouse.api.schemas import SourcePublic
from reelhouse.api.session_cookie import set_session_cookie
from reelhouse.auth.users import MAX_PASSWORD, MIN_PASSWORD
from reelhouse.core import Core
from reelhouse.db.models import User
from reelhouse.errors import ReelhouseError
from reelhouse.web.guard import PageUser
from reelhouse.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _core(request: Request) -> Core:
    core: Core = request.app.state.core
    return core


def _forbidden(request: Request, user: User) -> Response:
    return render(request, "error.html", status_code=403, user=user, heading="Not allowed",
                  message="Only an admin may open this page.")


@router.get("/setup", name="setup_page")
def setup_page(request: Request) -> Response:
    """The first-run form; once a user exists, the login page."""
    if _core(request).users.count():
        return RedirectResponse("/login", status_code=303)
    return render(request, "setup.html", admin_name="admin", error=None, min_password=MIN_PASSWORD)


@router.post("/setup")
async def setup_submit(
    request: Request,
    name: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=MAX_PASSWORD)] = "",
    again: Annotated[str, Form(max_length=MAX_PASSWORD)] = "",
) -> Response:
    """Create the first admin (only while no user exists), log them in, go to the library."""
    core = _core(request)
    name = name.strip()
    error = None
    if password != again:
        error = "The two passwords differ."
    else:
        try:
            user = await run_in_threadpool(core.users.add_first_admin, name, password)
        except ReelhouseError as exc:
            if core.users.count():
                return RedirectResponse("/login", status_code=303)
            error = exc.message[:1].upper() + exc.message[1:] + "."
    if error is not None:
        return render(request, "setup.html", status_code=400, admin_name=name, error=error,
                      min_password=MIN_PASSWORD)
    address = client_address(request)
    token, _ = await run_in_threadpool(lambda: core.auth_sessions.create(
        user.id, address=address, device=request.headers.get("user-agent", "")[:128]))
    await run_in_threadpool(core.audit.record, "setup", user=user, target=f"user:{user.id}",
                            address=address)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, core.settings, token, request.url.scheme)
    return response


@router.get("/account", name="account_page")
def account_page(request: Request, user: PageUser) -> Response:
    """Change your password; your sessions (device, address, last seen); sign out others."""
    return render(request, "account.html", user=user, nav="account", min_password=MIN_PASSWORD)


@router.get("/settings/users", name="users_page")
def users_page(request: Request, user: PageUser) -> Response:
    """Admins: add users, change role, disable, reset a password, grant sources."""
    if not user.is_admin:
        return _forbidden(request, user)
    core = _core(request)
    users = [user_admin_public(core, u) for u in core.users.list()]
    sources = [SourcePublic.model_validate(r) for r in core.sources.list()]
    names = {u.id: u.name for u in users}
    keys = [{"id": k.id, "name": k.name, "user": names.get(k.user_id, f"user {k.user_id}"), "prefix": k.prefix,
             "created_at": k.created_at, "last_used_at": k.last_used_at} for k in core.api_keys.list()]
    return render(request, "users.html", user=user, nav="users", users=users, sources=sources,
                  keys=keys, min_password=MIN_PASSWORD)


@router.get("/settings/audit", name="audit_page")
def audit_page(request: Request, user: PageUser, action: str = "") -> Response:
    """Admins: the newest 300 audit events (logins, user, key and source changes,
    transfers), optionally of one kind of action."""
    if not user.is_admin:
        return _forbidden(request, user)
    events = _core(request).audit.recent(300, action=action[:48] or None)
    return render(request, "audit.html", user=user, nav="audit", events=events, action=action[:48])
