"""Login and users (``/api/auth``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from reelhouse.api.schemas.common import RequestBody

__all__ = ["LoginIn", "LoginOut", "UserPublic"]


class LoginIn(RequestBody):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    is_admin: bool


class LoginOut(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserPublic
