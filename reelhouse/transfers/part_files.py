"""The files a transfer writes before the one it makes (transfers/copy.py): the
``.part`` an upload writes on the source and a download beside its destination, and
the signature a download keeps of the source file its ``.part`` is a prefix of. Names
only, and removing a download's: no source is read."""

from __future__ import annotations

import hashlib
from pathlib import Path

from reelhouse.sources.base import TEMP_SUFFIX, temp_name

__all__ = ["PART_SUFFIX", "discard_part", "local_part", "part_name", "part_signature_path"]

#: What a transfer's temporary name adds to the final one (:func:`part_name`).
PART_SUFFIX = TEMP_SUFFIX


def part_name(path: str) -> str:
    """The temporary name an upload writes to on the source: ``NAME.reelhouse.part`` in
    the same folder (sources/base.py ``temp_name``: never a user's ``NAME.part``), or
    ``<hash of NAME>.reelhouse.part`` for a name too long for the suffix (not a
    dot-file: vsftpd's LIST hides those, and the upload reads its size from it)."""
    folder, _, name = path.rpartition("/")
    return f"{folder}/{temp_name(name)}" if folder else temp_name(name)


def local_part(dest: Path) -> Path:
    """The file a download to ``dest`` writes: ``NAME.reelhouse.part`` beside it, or
    for a name too long for the suffix ``.<hash of the name>.reelhouse.part``."""
    return dest.with_name(temp_name(dest.name, hidden=True))


def part_signature_path(dest: Path) -> Path:
    """Where a download's ``.part`` keeps the size and mtime of the source file it is a
    prefix of: a hidden file beside it whose name is a hash of ``dest``'s (fixed length,
    so a 255-byte name still fits NAME_MAX)."""
    digest = hashlib.sha256(dest.name.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return dest.with_name(f".{digest}.partsig")


def discard_part(dest: Path) -> None:
    """Remove a download's ``.part`` and its signature (a cancel; a changed source)."""
    local_part(dest).unlink(missing_ok=True)
    part_signature_path(dest).unlink(missing_ok=True)
