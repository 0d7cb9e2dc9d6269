"""Where a download may be written: :func:`confine` keeps a client's ``local_path``
inside the library store. Pure apart from resolving symlinks already on disk.

Rules: the path is normalised (``a/./b/../c`` → ``a/c``; backslashes are separators;
an absolute path must start with the store's own path); it must name a
file strictly inside the store — never empty, never the store itself, never outside
it (``..``, an absolute path elsewhere, a symlink out); no NUL, CR or LF; at most
4096 bytes; no component over 255 bytes (POSIX NAME_MAX on Linux file systems).
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from reelhouse.errors import InvalidInput

__all__ = ["confine"]

_MAX_PATH = 4096
_MAX_NAME = 255


def confine(store: Path, local_path: str) -> Path:
    """The absolute path under ``store`` that ``local_path`` names; raises InvalidInput
    naming the rule it breaks."""
    if any(c in local_path for c in "\x00\r\n"):
        raise InvalidInput("local_path must not contain NUL, CR or LF")
    if len(local_path.encode("utf-8", "surrogatepass")) > _MAX_PATH:
        raise InvalidInput(f"local_path is longer than {_MAX_PATH} bytes")
    root = store.resolve()
    text = local_path.replace("\\", "/")
    if text.startswith("/"):  # absolute: only a path inside the store
        rootstr = root.as_posix().rstrip("/") + "/"
        if not text.startswith(rootstr):
            raise InvalidInput(f"local_path must be inside the library store ({root})")
        text = text[len(rootstr):]
    rel = posixpath.normpath(text) if text else ""
    if rel in ("", ".") or rel == ".." or rel.startswith("../"):
        raise InvalidInput("local_path must name a file inside the library store")
    if any(len(part.encode("utf-8", "surrogatepass")) > _MAX_NAME for part in rel.split("/")):
        raise InvalidInput(f"a name in local_path is longer than {_MAX_NAME} bytes")
    full = (root / rel).resolve()
    if full == root or not full.is_relative_to(root):
        raise InvalidInput("local_path must name a file inside the library store")
    return full
