"""Where :class:`reelhouse.config.Settings` come from, and what a failure to read them
says: keyword arguments, then the environment (``REELHOUSE_*``), then the TOML file
named by ``REELHOUSE_CONFIG``, then the defaults; every error a
:class:`~reelhouse.errors.ConfigError` whose message names the setting or the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, TomlConfigSettingsSource

from reelhouse.errors import ConfigError

__all__ = ["ENV_PREFIX", "EnvTomlSettings", "config_file", "settings_error"]

#: What the environment variables of the settings start with.
ENV_PREFIX = "REELHOUSE_"


def config_file() -> str | None:
    """The TOML settings file ``REELHOUSE_CONFIG`` names, or None when unset; raises
    ConfigError when it names a folder or nothing."""
    toml_path = os.environ.get("REELHOUSE_CONFIG")
    if toml_path and Path(toml_path).is_dir():
        raise ConfigError(f"REELHOUSE_CONFIG: {toml_path} is a folder; name the TOML settings file in it")
    if toml_path and not Path(toml_path).is_file():
        raise ConfigError(f"REELHOUSE_CONFIG: no such file: {toml_path}")
    return toml_path


def settings_error(exc: Exception, toml_path: str | None) -> ConfigError:
    """The ConfigError of a failure to build settings: an unreadable file (OSError), a
    value refused (ValidationError: each setting named with its variable), or another
    ValueError (e.g. a TOML syntax error)."""
    if isinstance(exc, OSError):  # the file exists but cannot be read (permissions)
        return ConfigError(f"REELHOUSE_CONFIG: cannot read {toml_path}: {exc.strerror or exc}")
    if isinstance(exc, ValidationError):
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "settings"
            problems.append(f"{loc} ({ENV_PREFIX}{loc.upper()}): {err['msg']}")
        where = f" (settings file {toml_path}, or the environment)" if toml_path else ""
        return ConfigError(f"invalid settings{where}: " + "; ".join(problems))
    where = f"invalid settings file {toml_path}" if toml_path else "invalid settings"
    return ConfigError(f"{where}: {exc}")


class EnvTomlSettings(BaseSettings):
    """Settings read from keyword arguments, then the environment, then the TOML file of
    ``REELHOUSE_CONFIG`` (no ``.env`` file, no secrets folder); a subclass that sets
    :attr:`arguments_only` reads the keyword arguments alone."""

    #: Read neither the environment nor ``REELHOUSE_CONFIG``: the keyword arguments and
    #: the defaults only (the demo's settings, whatever the shell says).
    arguments_only: ClassVar[bool] = False

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        if cls.arguments_only:
            return (init_settings,)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = os.environ.get("REELHOUSE_CONFIG")
        if toml_path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml_path)))
        return tuple(sources)
