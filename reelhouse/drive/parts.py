"""The ``.part`` names uploads go to before their rename, and removing one an upload
left on the server (the server killed or full mid-upload, a mount killed mid-file, a
conflict) once the file will not be sent through it.

A ``.part`` is ours when it is no larger than the file it was uploading: a larger file
of that name is someone else's and stays (the spool never picks a name the user has:
:meth:`Spool._part_of <reelhouse.drive.spool.Spool._part_of>`).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Literal

from reelhouse.drive.names import NAME_MAX
from reelhouse.errors import NotFound
from reelhouse.sources.base import Source
from reelhouse.sources.sizes import remote_size

__all__ = ["part_name", "remove_part"]

log = logging.getLogger(__name__)


def part_name(path: str, n: int = 0) -> str:
    """``name.part`` beside ``path``; for a name too long for the suffix (251–255 bytes),
    or ``n`` > 0 (the ``n``-th spare, where ``name.part`` is taken), ``.<hash of the name
    and n>.part`` instead (the server's NAME_MAX is 255 bytes)."""
    folder, _, name = path.rpartition("/")
    part = f"{name}.part"
    if n or len(part.encode("utf-8", "surrogateescape")) > NAME_MAX:
        key = name.encode("utf-8", "surrogateescape") + (f"\0{n}".encode() if n > 1 else b"")
        part = f".{hashlib.sha256(key).hexdigest()[:32]}.part"
    return f"{folder}/{part}" if folder else part


def remove_part(source: Source, part: str, size: int, path: str) -> Literal["removed", "none", "larger"]:
    """Delete ``part`` (an earlier try's upload of ``path``, ``size`` bytes in the spool)
    from the server when it is no larger than ``size`` (SIZE, then DELE): ``removed``;
    ``none`` when the server has no such file; ``larger`` when the file there is larger
    (not ours: left alone). Raises SourceUnavailable (server away), PermissionDenied
    and other refusals of the DELE."""
    try:
        got = remote_size(source, part)
    except NotFound:
        return "none"
    if got is not None and got > size:
        return "larger"
    try:
        source.delete(part)
    except NotFound:
        return "none"
    log.warning("removed %r, a partial upload of %r, from the server", part, path)
    return "removed"
