"""``GET/POST /login`` (a plain HTML form) and ``POST /logout``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from reelhouse.api.deps import request_token, user_from_request
from reelhouse.api.routes.auth import perform_login, set_login_cookies
from reelhouse.api.session_cookie import clear_session_cookie
from reelhouse.auth.users import MAX_PASSWORD
from reelhouse.core import Core
from reelhouse.errors import AuthenticationFailed, TooManyRequests
from reelhouse.web.guard import safe_next
from reelhouse.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/login", name="login_page")
def login_page(request: Request, next: str = "/") -> Response:
    """The login form; a visitor who is logged in already goes straight to ``next``;
    while no user exists, the first-run setup page."""
    core: Core = request.app.state.core
    target = safe_next(next)
    if core.users.count() == 0:
        return RedirectResponse("/setup", status_code=303)
    try:
        user_from_request(request, core)
    except AuthenticationFailed:
        return render(request, "login.html", next=target, username="", error=None)
    return RedirectResponse(target, status_code=303)


@router.post("/login")
async def login_submit(
    request: Request,
    username: Annotated[str, Form(max_length=256)] = "",
    password: Annotated[str, Form(max_length=4096)] = "",
    next: Annotated[str, Form(max_length=4096)] = "/",
) -> Response:
    """Check the password (throttled, argon2 off the event loop); on success start a
    session, set its cookie and 303 to ``next``; else 401 (429 while throttled) and
    the form."""
    core: Core = request.app.state.core
    target = safe_next(next)
    username = username.strip()[:64]
    if not username or not password:
        return render(request, "login.html", status_code=400, next=target, username=username,
                      error="Enter your user name and password.")
    try:
        if len(password) > MAX_PASSWORD:
            raise AuthenticationFailed("wrong user name or password")
        _, token, device = await perform_login(core, request, username, password)
    except TooManyRequests as exc:
        page = render(request, "login.html", status_code=429, next=target, username=username,
                      error=exc.message[:1].upper() + exc.message[1:] + ".")
        page.headers["retry-after"] = str(exc.retry_after)
        return page
    except AuthenticationFailed as exc:
        return render(request, "login.html", status_code=401, next=target, username=username,
                      error=exc.message[:1].upper() + exc.message[1:] + ".")
    response = RedirectResponse(target, status_code=303)
    set_login_cookies(response, core, request, token, device)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End this session (server-side, at once), forget the cookie, back to the login page."""
    core: Core = request.app.state.core
    token, _ = request_token(request)
    if token:
        await run_in_threadpool(core.auth_sessions.revoke_token, token)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, core.settings, request.url.scheme)
    return response
