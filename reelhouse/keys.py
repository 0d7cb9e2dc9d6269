"""The persistent secrets of a server (:meth:`reelhouse.config.Settings.secret`): the
key that signs sessions and playback tokens, the one that encrypts stored FTP
passwords, the Jellyfin server id's. Every node of a cluster needs the same ones, so
each comes from a setting or a file (a Docker/Kubernetes secret) before falling back to
a random key made once in the data dir (one node's own)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr

from reelhouse.errors import ConfigError

__all__ = ["secret_bytes"]


def secret_bytes(name: str, nbytes: int, value: SecretStr | None, file: Path | None,
                 data_dir: Callable[[], Path]) -> bytes:
    """``nbytes`` of the persistent secret ``name`` ("signing" or "fernet").

    From ``value`` (the setting ``<name>_key``, environment ``REELHOUSE_<NAME>_KEY``),
    else the file ``file`` (``<name>_key_file``), else ``<data_dir()>/<name>.key``
    (random, mode 0600, created on first use). A configured key that is url-safe base64
    of exactly ``nbytes`` bytes (a Fernet key) is used as it is; other text (at least 32
    characters) is hashed to ``nbytes`` bytes (SHA-256). Raises ConfigError for a short
    key or an unreadable file.
    """
    text: str | None = value.get_secret_value() if value is not None else None
    if text is None and file is not None:
        try:
            text = file.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{name}_key_file: cannot read {file}: {exc.strerror}") from exc
    if text is not None:
        return _key_bytes(text, nbytes, name)
    path = data_dir() / f"{name}.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(nbytes))
    return path.read_bytes()


def _key_bytes(text: str, nbytes: int, name: str) -> bytes:
    text = text.strip()
    if len(text) < 32:
        raise ConfigError(f"{name}_key (REELHOUSE_{name.upper()}_KEY) must be at least 32 characters")
    try:
        raw = base64.urlsafe_b64decode(text.encode())
        if len(raw) == nbytes:
            return raw
    except (binascii.Error, ValueError):
        pass
    return hashlib.sha256(text.encode()).digest()[:nbytes]
