"""The size a source gives a file it was just sent: FTP ``SIZE`` where the source has
it (a LIST server may hide the name: vsftpd lists no dot-files, such as a hidden
``.part``), pipelined for many names at once (``sizes``), else the file's entry. What
an upload (transfers/copy.py) and the drive's uploader check before and after a
rename."""

from __future__ import annotations

from reelhouse.errors import NotFound
from reelhouse.sources.base import Source

__all__ = ["remote_size", "remote_sizes"]


def remote_size(source: Source, path: str) -> int | None:
    """The size in bytes the server gives ``path`` (SIZE where the source has it, else
    its entry); None when it tells none. Raises NotFound, SourceUnavailable."""
    size = getattr(source, "size", None)
    if callable(size):
        got = size(path)
        return int(got) if got is not None else None
    return source.stat(path).size


def remote_sizes(source: Source, paths: list[str]) -> dict[str, int | None]:
    """The sizes in bytes the server gives ``paths``, in one round trip where the source
    can (FTP: pipelined SIZE), else one by one; a path it has no file of is left out,
    None where it tells no size. Raises SourceUnavailable."""
    sizes = getattr(source, "sizes", None)
    if callable(sizes):
        return dict(sizes(paths))
    out: dict[str, int | None] = {}
    for path in paths:
        try:
            out[path] = remote_size(source, path)
        except NotFound:
            continue
    return out
