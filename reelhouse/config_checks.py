"""The checked types of :class:`reelhouse.config.Settings`' fields: each validates (and
normalises) one kind of setting and raises ``ValueError`` with a message that completes
"<setting>: …" (pydantic turns it into the settings error naming the key). The URL
rules themselves: :mod:`reelhouse.config_urls`. Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator
from pydantic_settings import NoDecode

from reelhouse.config_urls import (
    check_database_url,
    check_http_base_url,
    check_public_urls,
    check_redis_url,
    split_urls,
)

__all__ = ["X264_PRESETS", "DatabaseUrl", "HttpBaseUrl", "LogLevel", "ProxyAddresses", "PublicUrls",
           "RedisUrl", "X264Preset"]

#: x264's presets, fastest first (x264 ``x264_preset_names``, common/base.h); ffmpeg's
#: libx264 refuses any other name, so a typo failed every HLS transcode (502) instead of
#: the start.
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                "slower", "veryslow", "placebo")


def _check_level(value: str) -> str:
    value = value.upper()
    if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return value


def _check_preset(value: str) -> str:
    value = value.lower()
    if value not in X264_PRESETS:
        raise ValueError(f"must be one of {', '.join(X264_PRESETS)} (x264's presets)")
    return value


def _split_addresses(value: object) -> object:
    """The environment's text of a list of addresses: a JSON list, or separated by commas."""
    if isinstance(value, str) and not value.lstrip().startswith("["):
        return [a.strip() for a in value.split(",") if a.strip()]
    return split_urls(value)


def _check_proxies(value: list[str]) -> list[str]:
    """Each an IP address or network (``10.0.0.0/8``, ``fd00::/8``), or ``*`` (any peer):
    what uvicorn's ``forwarded_allow_ips`` takes. A name or a typo would be trusted by no
    peer, and every client behind the proxy would share its address without a word."""
    for entry in value:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network (e.g. 10.0.0.5, 10.0.0.0/24) "
                             "nor '*'") from None
    return value


#: A Python logging level name, any case; kept upper case.
LogLevel = Annotated[str, AfterValidator(_check_level)]
#: One of :data:`X264_PRESETS`, any case; kept lower case.
X264Preset = Annotated[str, AfterValidator(_check_preset)]
#: An ``http(s)://host[:port][/path]`` URL, trailing ``/`` dropped (:func:`check_http_base_url`).
HttpBaseUrl = Annotated[str, AfterValidator(check_http_base_url)]
#: A Redis URL, or None; empty is None (:func:`check_redis_url`).
RedisUrl = Annotated[str | None, AfterValidator(check_redis_url)]
#: A SQLAlchemy URL of SQLite or PostgreSQL, or None (:func:`check_database_url`).
DatabaseUrl = Annotated[str | None, AfterValidator(check_database_url)]
#: Origins (``http(s)://host[:port]``); in the environment a JSON list or URLs separated
#: by commas (:func:`split_urls`, :func:`check_public_urls`).
PublicUrls = Annotated[list[str], NoDecode, BeforeValidator(split_urls), AfterValidator(check_public_urls)]
#: Peers whose ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are believed: IP addresses,
#: networks or ``*``; in the environment a JSON list or separated by commas.
ProxyAddresses = Annotated[list[str], NoDecode, BeforeValidator(_split_addresses), AfterValidator(_check_proxies)]
