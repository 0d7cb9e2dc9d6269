"""Sources (``/api/sources``): create, update, the public view, test and health."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reelhouse.api.schemas.common import RequestBody

__all__ = ["SourceCreate", "SourceHealth", "SourcePublic", "SourceUpdate", "TestResult"]


class SourceCreate(RequestBody):
    name: str = Field(min_length=1, max_length=128)
    kind: Literal["local", "ftp", "jellyfin"]
    path: str | None = Field(default=None, max_length=4096,
                             description="local folder, FTP root folder, or a Jellyfin server's address")
    host: str | None = Field(default=None, max_length=255)
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, max_length=1024)
    tls: Literal["none", "explicit", "implicit"] = "none"
    verify_tls: bool = True
    scan_interval: int | None = Field(
        default=None, ge=0, le=525600,
        description="minutes between scheduled rescans (0: never; unset: the server's scan_interval_minutes)",
    )
    tls_cert: str | None = Field(default=None, max_length=65536,
                                 description="PEM certificate to trust (a self-signed server's)")


class SourceUpdate(RequestBody):
    name: str | None = Field(default=None, min_length=1, max_length=128)
    path: str | None = Field(default=None, max_length=4096)
    host: str | None = Field(default=None, max_length=255)
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, max_length=1024, description="empty string clears it")
    tls: Literal["none", "explicit", "implicit"] | None = None
    verify_tls: bool | None = None
    scan_interval: int | None = Field(default=None, ge=0, le=525600, description="minutes; 0: never")
    tls_cert: str | None = Field(default=None, max_length=65536,
                                 description="PEM certificate to trust; empty string clears it")


class SourcePublic(BaseModel):
    """A source as the API shows it (read from its row): never the password, only
    whether one is set; likewise for a trusted certificate."""

    model_config = ConfigDict(from_attributes=True, populate_by_name=True)
    id: int
    name: str
    kind: str
    path: str
    host: str | None
    port: int | None
    username: str | None
    has_password: bool = Field(validation_alias="password_enc")
    tls: str
    verify_tls: bool
    scan_interval: int | None
    has_tls_cert: bool = Field(default=False, validation_alias="tls_cert_pem")
    last_scan_at: datetime | None
    last_error: str | None


    @field_validator("has_password", "has_tls_cert", mode="before")
    @classmethod
    def _is_set(cls, value: object) -> bool:
        return bool(value)

    def for_user(self, is_admin: bool) -> SourcePublic:
        """What a user may see: admins everything; others not where the source lives
        (host, port, user name, root folder, the server's error text)."""
        if is_admin:
            return self
        return self.model_copy(update={
            "path": "", "host": None, "port": None, "username": None, "has_password": False,
            "last_error": "unavailable" if self.last_error else None})


class TestResult(BaseModel):
    ok: bool
    message: str
    latency_ms: float | None = None
    entries: int | None = None


class SourceHealth(BaseModel):
    state: Literal["up", "degraded", "down"]
    latency_ms: float | None = Field(description="time to list the root folder, ms")
    error: str | None
    pool: dict[str, int] | None = Field(description="FTP connections: live, idle, in_use, size")
