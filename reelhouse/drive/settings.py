"""Drive settings: defaults, the ``--config`` file (INI or TOML), command-line overrides.

The file has the sections ``[ftp]``, ``[mount]``, ``[cache]``, ``[connection]`` and
``[logging]`` (keys in :data:`KEYS`); an INI ``[DEFAULT]`` section is refused by name.
A ``.toml`` file is read as TOML, an ``.ini``, ``.cfg`` or ``.conf`` file as INI,
anything else as TOML, then INI. An unknown section
or key, or a bad value, raises :class:`~reelhouse.errors.ConfigError` with one line
naming it (``cache.directory_ttl_seconds: must be a finite number >= 0, got 'soon'``) before
anything is mounted.
"""

from __future__ import annotations

import configparser
import dataclasses
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reelhouse.errors import ConfigError

__all__ = ["KEYS", "DriveSettings", "load_file"]


@dataclass
class DriveSettings:
    """Everything a mount needs. Times are seconds, sizes bytes (``data_cache_mb`` MiB)."""

    host: str | None = None
    port: int = 21
    username: str | None = None
    password: str | None = None
    passive_mode: bool = True
    tls: str = "none"
    tls_cert: str | None = None
    verify_tls: bool = True
    root: str = ""
    source: str | None = None
    mount_point: str | None = None
    volume_label: str = "reelhouse"
    read_only: bool = False
    view: str = "files"
    cache_enabled: bool = True
    directory_ttl_seconds: float = 30.0
    metadata_ttl_seconds: float = 60.0
    data_cache_mb: int = 512
    cache_directory: str | None = None
    spool_directory: str | None = None
    timeout_seconds: float = 30.0
    retry_attempts: int = 3
    retry_delay_seconds: float = 1.0
    keepalive_interval_seconds: float = 60.0
    max_connections: int = 6
    log_level: str = "WARNING"
    log_file: str | None = None
    log_console: bool = True

    def override(self, **values: Any) -> DriveSettings:
        """A copy with the given (non-``None``) values: command-line options win."""
        return dataclasses.replace(self, **{k: v for k, v in values.items() if v is not None})


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(v, str) and v.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _number(minimum: float) -> Any:
    def check(v: Any) -> float:
        if isinstance(v, bool):
            raise ValueError(f"must be a finite number >= {minimum:g}")
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"must be a finite number >= {minimum:g}") from None
        if not minimum <= x < math.inf:  # also refuses nan
            raise ValueError(f"must be a finite number >= {minimum:g}")
        return x
    return check


def _int(minimum: int, maximum: int) -> Any:
    def check(v: Any) -> int:
        if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
            raise ValueError(f"must be a whole number from {minimum} to {maximum}")
        try:
            x = int(v)
        except (TypeError, ValueError):
            raise ValueError(f"must be a whole number from {minimum} to {maximum}") from None
        if not minimum <= x <= maximum:
            raise ValueError(f"must be a whole number from {minimum} to {maximum}")
        return x
    return check


def _text(v: Any) -> str:
    if not isinstance(v, str | int) or isinstance(v, bool):
        raise ValueError("must be text")
    return str(v)


def _host(v: Any) -> str:
    if not isinstance(v, str) or not v.strip() or any(c.isspace() for c in v.strip()):
        raise ValueError("must be a host name or address")
    return v.strip()


def _choice(*options: str) -> Any:
    def check(v: Any) -> str:
        if not isinstance(v, str) or v.strip().lower() not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return v.strip().lower()
    return check


def _passive(v: Any) -> bool:
    if not _bool(v):
        raise ValueError("active mode (false) is not supported; reelhouse always uses passive mode")
    return True


_LEVELS = ("debug", "info", "warning", "error", "critical")

#: ``section → key → (settings field, validator)``.
KEYS: dict[str, dict[str, tuple[str, Any]]] = {
    "ftp": {
        "host": ("host", _host), "port": ("port", _int(1, 65535)),
        "username": ("username", _text), "password": ("password", _text),
        "passive_mode": ("passive_mode", _passive),
        "tls": ("tls", _choice("none", "explicit", "implicit")),
        "tls_cert": ("tls_cert", _text), "verify_tls": ("verify_tls", _bool),
        "root": ("root", _text),
    },
    "mount": {
        "mount_point": ("mount_point", _text), "volume_label": ("volume_label", _text),
        "read_only": ("read_only", _bool), "view": ("view", _choice("files", "library")),
        "source": ("source", _text),
    },
    "cache": {
        "enabled": ("cache_enabled", _bool),
        "directory_ttl_seconds": ("directory_ttl_seconds", _number(0)),
        "metadata_ttl_seconds": ("metadata_ttl_seconds", _number(0)),
        "data_cache_mb": ("data_cache_mb", _int(0, 1 << 24)),
        "directory": ("cache_directory", _text),
        "spool_directory": ("spool_directory", _text),
    },
    "connection": {
        "timeout_seconds": ("timeout_seconds", _number(0.1)),
        "retry_attempts": ("retry_attempts", _int(1, 100)),
        "retry_delay_seconds": ("retry_delay_seconds", _number(0)),
        "keepalive_interval_seconds": ("keepalive_interval_seconds", _number(1)),
        "max_connections": ("max_connections", _int(1, 64)),
    },
    "logging": {
        "level": ("log_level", _choice(*_LEVELS)), "file": ("log_file", _text),
        "console": ("log_console", _bool),
    },
}


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the config file {str(path)!r}: {exc}") from exc
    toml_error: str | None = None
    if path.suffix.lower() not in (".ini", ".cfg", ".conf"):
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            toml_error = str(exc)
            if path.suffix.lower() == ".toml":
                raise ConfigError(f"{path.name}: not valid TOML: {exc}") from exc
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"{path.name}: not valid INI{' or TOML (' + toml_error + ')' if toml_error else ''}: "
                          f"{first}") from exc
    defaults = parser.defaults()
    if defaults:
        # configparser copies [DEFAULT] into every section: refused by its own name, not
        # as a key of whichever section comes first
        key = next(iter(defaults))
        raise ConfigError(f"DEFAULT.{key}: the [DEFAULT] section is not read ({_home(key)})")
    return {name: dict(parser[name]) for name in parser.sections()}


def _home(key: str) -> str:
    """Where ``key`` belongs: "put the key under [ftp]", else the sections there are."""
    homes = [name for name, known in KEYS.items() if key in known]
    return f"put the key under [{homes[0]}]" if homes else f"sections: {', '.join(KEYS)}"


def load_file(path: str | Path, base: DriveSettings | None = None) -> DriveSettings:
    """Settings from the file at ``path`` over ``base`` (defaults). Raises ConfigError."""
    raw = _read(Path(path))
    values: dict[str, Any] = {}
    for section, body in raw.items():
        keys = KEYS.get(section)
        if not isinstance(body, dict) and keys is not None:
            raise ConfigError(f"{section}: must be a section, not a value")
        if not isinstance(body, dict):  # a TOML key above every [section]
            homes = [name for name, known in KEYS.items() if section in known]
            raise ConfigError(f"{section}: a key outside any section"
                              + (f" (it belongs under [{homes[0]}])" if homes else
                                 f" (sections: {', '.join(KEYS)})"))
        if keys is None:
            raise ConfigError(f"unknown section {section!r} (known: {', '.join(KEYS)})")
        for key, value in body.items():
            if key not in keys:
                raise ConfigError(f"{section}.{key}: unknown key (known: {', '.join(keys)})")
            field, check = keys[key]
            try:
                values[field] = check(value)
            except ValueError as exc:
                raise ConfigError(f"{section}.{key}: {exc}, got {value!r}") from exc
    return dataclasses.replace(base or DriveSettings(), **values)
