"""A cheap content fingerprint that recognises a file moved or renamed within a source.

Reading a whole film over FTP to hash it would cost minutes; the first and last 64 KiB
(where containers keep their headers, indexes and unique stream data) plus the size
tell files apart in practice, for two range reads. Same idea as Plex's and Jellyfin's
partial-file hashes and OpenSubtitles' hash (size + first and last 64 KiB).
"""

from __future__ import annotations

import hashlib

from reelhouse.sources.base import Source
from reelhouse.sources.reader import SourceReader

__all__ = ["EDGE_BYTES", "content_hash"]

#: Bytes hashed at each end of the file (OpenSubtitles' hash uses the same 64 KiB).
EDGE_BYTES = 64 * 1024


def content_hash(source: Source, path: str, size: int, reader: SourceReader | None = None) -> str:
    """Hex blake2b-256 of ``size``, the first and the last :data:`EDGE_BYTES` of ``path``
    (the whole file when it is at most twice that). With ``reader`` (a SourceReader of
    the same file, e.g. the probe's), blocks it already fetched are not read again.
    Raises what the source raises (SourceUnavailable, NotFound …)."""
    h = hashlib.blake2b(str(size).encode() + b"\0", digest_size=32)
    if size <= 2 * EDGE_BYTES:
        spans = [(0, size)]
    else:
        spans = [(0, EDGE_BYTES), (size - EDGE_BYTES, EDGE_BYTES)]
    for offset, length in spans:
        if reader is not None:
            data = reader.pread(offset, length)
            h.update(data)
            got = len(data)
        else:
            got = 0
            for chunk in source.read_range(path, offset, length):
                h.update(chunk)
                got += len(chunk)
        h.update(got.to_bytes(8, "big"))  # a short read (file shrank) changes the hash
    return h.hexdigest()
