"""Where a download may be written: :func:`confine` keeps a client's ``local_path``
inside the library store. Pure apart from resolving symlinks already on disk.

Rules: the path is normalised (``a/./b/../c`` → ``a/c``; backslashes are separators;
an absolute path must start with the store's own path); it must name a
file strictly inside the store — never empty, never the store itself, never outside
it (``..``, an absolute path elsewhere, a symlink out), never ending with ``/`` (a
folder's name); no NUL, CR or LF; at most
4096 bytes; no component over 255 bytes (POSIX NAME_MAX on Linux file systems).

:func:`local_name`: the local path a download or an offline copy of a remote file
gets when reelhouse chooses it — the remote path itself, but on Windows one its file
systems take.
"""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path

from reelhouse.errors import InvalidInput

__all__ = ["confine", "local_name"]

_MAX_PATH = 4096
_MAX_NAME = 255

#: Windows (NTFS, FAT, exFAT and SMB shares as Windows opens them) needs local names mapped.
_WINDOWS = os.name == "nt"
# Microsoft, "Naming Files, Paths, and Namespaces": device names with any extension,
# spaces before it included ("AUX .mkv")
_RESERVED = re.compile(r"^(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]) *(?:\.|$)", re.I)
# the characters Windows refuses in a name → their fullwidth forms, control characters →
# their Control Pictures (U+2400 …), as rclone's "encoding" maps them: still readable
_WINDOWS_CHARS = str.maketrans({**{c: chr(ord(c) + 0xFEE0) for c in '<>:"|?*\\'},
                                **{chr(i): chr(0x2400 + i) for i in range(32)}})


def local_name(rel: str, windows: bool | None = None) -> str:
    """The local form of the ``/``-separated remote path ``rel``: ``rel`` itself, but on
    Windows (``windows``; default: this machine is Windows) each name mapped to one its
    file systems take (Microsoft, "Naming Files, Paths, and Namespaces"): ``<>:"|?*`` and backslash
    and control characters → fullwidth forms and Control Pictures (``What?.mkv`` →
    ``What？.mkv``, rclone's mapping), dots and spaces ending a name → ``．`` and ``␠``
    (Windows drops them: ``Film.`` and ``Film`` would be one folder), a device name
    (``CON``, ``PRN``, ``AUX``, ``NUL``, ``COM1``-``9``, ``LPT1``-``9``, any extension)
    → ``_`` after it (``CON.mkv`` → ``CON_.mkv``: a file, not the console)."""
    if not (_WINDOWS if windows is None else windows):
        return rel
    parts = []
    for part in rel.split("/"):
        part = part.translate(_WINDOWS_CHARS)
        kept = part.rstrip(". ")
        if kept != part:
            part = kept + part[len(kept):].replace(".", "\uff0e").replace(" ", "\u2420")
        if m := _RESERVED.match(part):
            cut = m.end() - (1 if m.group(0).endswith(".") else 0)
            part = f"{part[:cut]}_{part[cut:]}"
        parts.append(part)
    return "/".join(parts)


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
    if text.endswith("/") and text.strip("/"):  # "Films/" names a folder, not a file called Films
        raise InvalidInput(f"local_path must name a file, not a folder: {local_path!r}")
    rel = posixpath.normpath(text) if text else ""
    if rel in ("", ".") or rel == ".." or rel.startswith("../"):
        raise InvalidInput("local_path must name a file inside the library store")
    if any(len(part.encode("utf-8", "surrogatepass")) > _MAX_NAME for part in rel.split("/")):
        raise InvalidInput(f"a name in local_path is longer than {_MAX_NAME} bytes")
    full = (root / rel).resolve()
    if full == root or not full.is_relative_to(root):
        raise InvalidInput("local_path must name a file inside the library store")
    return full
