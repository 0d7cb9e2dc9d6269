"""What the URL settings of :mod:`reelhouse.config` accept: ``redis_url`` and
``party_redis_url``, ``database_url``, ``public_urls``, ``tmdb_base_url`` and
``tmdb_image_base_url``. Each check returns the value
to keep or raises ``ValueError`` with a message that completes "<setting>: …" (pydantic
turns it into the settings error naming the key); a message never repeats a URL that
may hold a password. Pure: no I/O."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

__all__ = ["check_database_url", "check_http_base_url", "check_public_urls", "check_redis_url",
           "split_urls"]


def check_redis_url(value: str | None) -> str | None:
    """What redis-py's ``from_url`` takes (redis-py ``connection.parse_url``): a
    ``redis://``, ``rediss://`` or ``unix://`` URL whose port fits 16 bits. Empty: unset."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ValueError("must be a redis://host:port/db, rediss:// or unix:// URL")
    try:
        parts.port  # noqa: B018 (urllib checks the port when it is read)
    except ValueError:
        raise ValueError("its port must be a number from 0 to 65535") from None
    return value


def check_database_url(value: str | None) -> str | None:
    """A ``sqlite…`` or ``postgresql…`` SQLAlchemy URL whose host and port urllib reads
    (libpq's several hosts, ``host1,host2``, are left to libpq)."""
    if value is not None and not value.startswith(("sqlite", "postgresql")):
        raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
    if value is not None and value.startswith("postgresql"):
        try:
            parts = urlsplit(value)
            if "," not in parts.netloc:
                parts.port  # noqa: B018 (urllib checks the host and port when read)
        except ValueError:
            raise ValueError("its host or port is not valid") from None
    return value


def check_http_base_url(value: str) -> str:
    """An ``http(s)://host[:port][/path]`` URL that requests are made under (TMDB's API
    and images; a trailing ``/`` is dropped): one without a scheme or a host failed every
    lookup later, as an "unsupported protocol" in each scan's errors."""
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError("must be an http:// or https:// URL with a host (e.g. https://api.themoviedb.org/3)")
    try:
        parts.port  # noqa: B018 (urllib checks the port when it is read)
    except ValueError:
        raise ValueError("its port must be a number from 0 to 65535") from None
    return value.rstrip("/")


def split_urls(value: Any) -> Any:
    """The environment's text of a list of URLs: a JSON list, or URLs separated by
    commas (pydantic-settings reads only JSON, and said "error parsing value" of a
    plain URL); other values as they are."""
    if not isinstance(value, str):
        return value
    if value.lstrip().startswith("["):
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError("is not a JSON list of URLs (or write the URLs separated by commas)") from None
    return [u.strip() for u in value.split(",") if u.strip()]


def check_public_urls(value: list[str]) -> list[str]:
    """Each an origin as browsers send it (RFC 6454 §6.1: scheme, host, port; a trailing
    ``/`` is dropped): a bad one was ignored, so every cookie-authenticated change from
    that address was refused as cross-site (403) with nothing pointing at the setting."""
    for url in value:
        if problem := _public_url_problem(url):
            raise ValueError(f"{url!r} {problem}")
    return [url.rstrip("/") for url in value]


def _public_url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as a public URL, or None for ``http(s)://host[:port]``."""
    if not url or any(c.isspace() for c in url):
        return "has a space in it" if url else "is empty"
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return "must start with http:// or https:// (e.g. https://media.example.org)"
    try:
        parts.port  # noqa: B018 (urllib checks the port when it is read)
    except ValueError:
        return "has a port that is not a number from 0 to 65535"
    if not parts.hostname or "@" in parts.netloc:
        return "needs a host name and nothing else before it (e.g. https://media.example.org)"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "must be scheme://host[:port] without a path: browsers send only that as the origin"
    return None
