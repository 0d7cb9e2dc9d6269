"""``POST /api/auth/login`` (no auth needed), ``POST /api/auth/logout``, ``GET /api/auth/me``."""

from __future__ import annotations

from fastapi import APIRouter, Response

from reelhouse.api.deps import SESSION_COOKIE, CoreDep, CurrentUser
from reelhouse.api.schemas import LoginIn, LoginOut, UserPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/login", response_model=LoginOut)
def login(body: LoginIn, response: Response, core: CoreDep) -> LoginOut:
    """Check a user name and password; returns a bearer token and sets the session cookie."""
    user = core.users.authenticate(body.username, body.password)
    token = core.signer.session(user.id)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=core.settings.session_ttl, httponly=True, samesite="lax"
    )
    return LoginOut(token=token, expires_in=core.settings.session_ttl,
                    user=UserPublic.model_validate(user))


@router.post("/logout", status_code=204)
def logout(response: Response) -> Response:
    response.delete_cookie(SESSION_COOKIE)
    response.status_code = 204
    return response


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
