"""A cheap content fingerprint that recognises a file moved or renamed within a source.

Reading a whole film over FTP to hash it would cost minutes; the first and last 64 KiB
(where containers keep their headers, indexes and unique stream data) plus the size
tell files apart in practice, for two range reads. Same idea as Plex's and Jellyfin's
partial-file hashes and OpenSubtitles' hash (size + first and last 64 KiB).
"""

from __future__ import annotations

import hashlib

from reelhouse.errors import SeekRefused
from reelhouse.sources.base import Source
from reelhouse.sources.reader import SourceReader
from reelhouse.sources.skipping import SkipAllowance, skip_allowance

__all__ = ["EDGE_BYTES", "content_hash"]

#: Bytes hashed at each end of the file (OpenSubtitles' hash uses the same 64 KiB).
EDGE_BYTES = 64 * 1024


def content_hash(source: Source, path: str, size: int, reader: SourceReader | None = None) -> str:
    """Hex blake2b-256 of ``size``, the first and the last :data:`EDGE_BYTES` of ``path``
    (the whole file when it is at most twice that). With ``reader`` (a SourceReader of
    the same file, e.g. the probe's), blocks it already fetched are not read again.

    A source that cannot start a read at the tail without reading the whole file first
    (an FTP server refusing REST: sources/skipping.py) is not made to: the hash is then
    of ``size`` and the first ``2 × EDGE_BYTES``, marked as such (always so for a file
    of that server, so its moves are still recognised). Raises what the source raises
    (SourceUnavailable, NotFound …)."""
    if size <= 2 * EDGE_BYTES:
        return _hash(source, path, size, reader, [(0, size)], b"")
    token = skip_allowance.set(SkipAllowance(0))  # two cheap reads, never a whole film
    try:
        return _hash(source, path, size, reader, [(0, EDGE_BYTES), (size - EDGE_BYTES, EDGE_BYTES)], b"")
    except SeekRefused:
        # one read from byte 0 (a reader's cached blocks would leave gaps read from
        # their offsets, which such a server cannot start at either)
        return _hash(source, path, size, None, [(0, 2 * EDGE_BYTES)], b"head\0")
    finally:
        skip_allowance.reset(token)


def _hash(source: Source, path: str, size: int, reader: SourceReader | None,
          spans: list[tuple[int, int]], mark: bytes) -> str:
    h = hashlib.blake2b(mark + str(size).encode() + b"\0", digest_size=32)
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
