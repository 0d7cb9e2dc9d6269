"""Bodies of the auth, users, API key and audit routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from reelhouse.api.schemas.common import RequestBody
from reelhouse.auth.users import MAX_PASSWORD
from reelhouse.db.limits import INT_MAX

__all__ = ["ApiKeyCreate", "ApiKeyCreated", "ApiKeyPublic", "AuditEventPublic", "PasswordChange",
           "SessionPublic", "SetupIn", "UserAdminPublic", "UserCreate", "UserUpdate"]

_Password = Field(min_length=1, max_length=MAX_PASSWORD)
#: A source id in a list of grants (ids are 32-bit: reelhouse.db.limits).
_SourceId = Annotated[int, Field(ge=1, le=INT_MAX)]


class PasswordChange(RequestBody):
    old_password: str = Field(min_length=1, max_length=MAX_PASSWORD)
    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD)


class SessionPublic(BaseModel):
    """A login session (never its token); ``current``: the one making this request."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    user_id: int
    kind: str
    device: str
    client: str
    address: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool = False


class UserAdminPublic(BaseModel):
    """A user as admins see it."""

    id: int
    name: str
    role: Literal["admin", "user"]
    is_admin: bool
    disabled: bool
    restrict_sources: bool
    sources: list[int] = Field(description="sources granted (used when restrict_sources)")
    created_at: datetime


class UserCreate(RequestBody):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD)
    role: Literal["admin", "user"] = "user"
    restrict_sources: bool = False
    sources: list[_SourceId] = Field(default_factory=list, max_length=1000)


class UserUpdate(RequestBody):
    name: str | None = Field(default=None, min_length=1, max_length=64)
    role: Literal["admin", "user"] | None = None
    disabled: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=MAX_PASSWORD,
                                 description="a new password (ends the user's sessions)")
    restrict_sources: bool | None = None
    sources: list[_SourceId] | None = Field(default=None, max_length=1000)


class SetupIn(RequestBody):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD)


class ApiKeyCreate(RequestBody):
    name: str = Field(min_length=1, max_length=64)
    user_id: int | None = Field(default=None, ge=1, le=INT_MAX,
                                description="whose key (default: yours)")


class ApiKeyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="the key itself; shown this once")


class AuditEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    user_id: int | None
    user_name: str
    action: str
    target: str
    address: str
    ok: bool
