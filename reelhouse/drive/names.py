"""Names the drive refuses before a server sees them, and names a server may store as
other names: the checks behind ENAMETOOLONG and EINVAL on create, mkdir and rename."""

from __future__ import annotations

import errno
import logging
import secrets

from reelhouse.errors import NotFound, ReelhouseError
from reelhouse.sources.base import NAME_MAX_BYTES, Source, bad_name_characters, join

__all__ = ["NAME_MAX", "keeps_trailing_spaces", "new_name_errno", "risky_name"]

log = logging.getLogger(__name__)

#: the longest name (bytes) most servers' file systems take (ext4, XFS, NTFS: 255)
NAME_MAX = NAME_MAX_BYTES


def risky_name(path: str) -> bool:
    """A name some servers store as another (pure-ftpd turns control characters, the
    ones :func:`~reelhouse.sources.base.bad_name_characters` names, and a trailing space
    into ``_``): checked on the server after it is made."""
    name = path.rpartition("/")[2]
    return name.endswith(" ") or bad_name_characters(name) is not None


def new_name_errno(source: Source, rel: str, names_rewritten: bool) -> tuple[int, str] | None:
    """``(errno, why)`` for a name about to be made that the server cannot take, else
    None: ENAMETOOLONG past :data:`NAME_MAX` bytes of UTF-8 (the kernel leaves this to
    the filesystem); EINVAL for CR/LF (the source's ``name_error``, else
    :func:`~reelhouse.sources.base.bad_name_characters`), a character the server's name
    encoding lacks (``name_error``), or a :func:`risky_name` once the server was seen
    storing one as another name (``names_rewritten``)."""
    name = rel.rpartition("/")[2]
    if len(name.encode("utf-8", "surrogateescape")) > NAME_MAX:
        return errno.ENAMETOOLONG, f"longer than {NAME_MAX} bytes"
    if names_rewritten and risky_name(rel):
        return errno.EINVAL, "the server stores such names as other names"
    check = getattr(source, "name_error", None)
    why = check(rel) if callable(check) else bad_name_characters(rel, line_breaks_only=True)
    return (errno.EINVAL, str(why)) if why else None


def keeps_trailing_spaces(source: Source, folder: str) -> bool | None:
    """Does the server store a name ending with a space as it is? Asked by making a
    hidden folder ``.reelhouse-name-check-<random> `` in ``folder`` and looking it up
    (pure-ftpd stores it as ``…_``, and says nothing; vsftpd and pyftpdlib keep it);
    the folder is removed under whatever name the server gave it. None when that
    cannot be told (the folder refused, the server failing): the upload's own check
    after its rename stays (:class:`~reelhouse.drive.uploader.NameRewritten`)."""
    prefix = f".reelhouse-name-check-{secrets.token_hex(4)}"
    probe = join(folder, prefix + " ")
    try:
        source.mkdir(probe)
    except ReelhouseError as exc:
        log.info("could not check how the server stores names ending with a space: %s", exc.message)
        return None
    try:
        try:
            source.stat(probe)
            kept: bool | None = True
        except NotFound:
            kept = False
        made = [e.name for e in source.list(folder) if e.name.startswith(prefix)]
    except ReelhouseError as exc:
        log.info("could not check how the server stores names ending with a space: %s", exc.message)
        return None
    for name in made:
        try:
            source.delete(join(folder, name))
        except ReelhouseError as exc:
            log.info("could not remove %r: %s", join(folder, name), exc.message)
    if not kept:
        log.info("the server stores names ending with a space as other names (%s): they are refused (EINVAL)",
                 ", ".join(repr(n) for n in made) or "not found")
    return kept
