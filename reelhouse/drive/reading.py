"""Reads of one open file: a sequential stream with read-ahead, REST preads for random
access, and the block cache underneath.

A file read from its start (or read again where the last read ended) is served from one
``REST``/``RETR`` stream to the end of the file: the read-ahead is the data
connection's TCP window (which the kernel grows as the transfer runs), the kernel's
FUSE read-ahead (up to ``max_readahead``, set by the adapter) and a window of recent
bytes here; nothing is fetched before the first read. Streamed bytes are not copied to
the block cache (the kernel's page cache keeps them while the file is unchanged: the
adapter asks for ``auto_cache``). A read elsewhere (a player seeking, a ``pread``) is
served from the block cache, else with a ``REST`` read of the aligned block(s) on a
pooled connection, kept in the block cache. Reads that fall just behind the stream
(the kernel's read-ahead threads can arrive out of order) come from the window.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator

from reelhouse.drive.cache import BlockCache
from reelhouse.drive.status import Counters
from reelhouse.sources.base import Source

__all__ = ["FileReader"]

#: Bytes kept behind the furthest byte served, for reads that arrive out of order.
WINDOW_KEEP = 8 * 1024 * 1024
#: A read this far ahead of the stream is reached by reading on (cheaper than a new RETR).
SKIP_AHEAD = 4 * 1024 * 1024


class FileReader:
    """Reads of one open file of ``size`` bytes (as listed at open). Thread-safe: the
    FUSE threads of one handle are serialised (a stream is one connection)."""

    def __init__(self, source: Source, path: str, size: int, mtime: float | None,
                 blocks: BlockCache, counters: Counters) -> None:
        self.source = source
        self.path = path
        self.size = size
        self.mtime = mtime
        self.blocks = blocks
        self.counters = counters
        self._lock = threading.Lock()
        self._stream: Iterator[bytes] | None = None
        # recent stream chunks as received (no copying into one buffer): contiguous,
        # from file offset _start to _stream_pos
        self._window: deque[bytes] = deque()
        self._start = 0
        self._stream_pos = 0
        self._last_end = -1  # where the previous read ended (sequential detection)

    def _slice(self, offset: int, end: int) -> bytes:
        """Bytes ``[offset, end)`` of the window (one copy; none for a whole chunk)."""
        parts = []
        pos = self._start
        for chunk in self._window:
            nxt = pos + len(chunk)
            if nxt > offset:
                if pos >= end:
                    break
                parts.append(chunk[max(0, offset - pos):end - pos])
            pos = nxt
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def read(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes from ``offset`` (fewer only at the end of the file).
        Raises reelhouse errors (the caller maps them to errno)."""
        with self._lock:
            end = min(offset + size, self.size)
            if offset >= end:
                return b""
            if self._start <= offset and end <= self._stream_pos:
                data = self._slice(offset, end)
            elif self._stream is not None and self._start <= offset <= self._stream_pos + SKIP_AHEAD:
                data = self._from_stream(offset, end)
            else:
                cached = self._from_blocks(offset, end)
                if cached is not None:
                    data = cached
                elif offset == 0 or offset == self._last_end:
                    self._open_stream(offset)
                    data = self._from_stream(offset, end)
                else:
                    data = self._pread(offset, end)
            self._last_end = offset + len(data)
            self.counters.add_read(len(data))
            return data

    # -- the stream ----------------------------------------------------------------------
    def _open_stream(self, offset: int) -> None:
        self._close_stream()
        self._stream = iter(self.source.read_range(self.path, offset, self.size - offset))
        self._window = deque()
        self._start = self._stream_pos = offset

    def _from_stream(self, offset: int, end: int) -> bytes:
        assert self._stream is not None
        while self._stream_pos < end:
            try:
                chunk = next(self._stream, b"")
            except BaseException:
                # a failed generator is finished: kept, the next read (the kernel retries
                # a failed read-ahead at once) would take its end for the file's end
                self._close_stream()
                raise
            if not chunk:
                self._close_stream()
                break
            self._window.append(chunk)
            self._stream_pos += len(chunk)
        data = self._slice(offset, min(end, self._stream_pos))
        while self._window and self._start + len(self._window[0]) < offset - WINDOW_KEEP:
            self._start += len(self._window.popleft())
        return data

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # aborts the transfer, frees the connection

    # -- random reads -------------------------------------------------------------------
    def _from_blocks(self, offset: int, end: int) -> bytes | None:
        bs = self.blocks.block_size
        parts = []
        for index in range(offset // bs, (end - 1) // bs + 1):
            block = self.blocks.get(self.path, self.size, self.mtime, index)
            if block is None:
                return None
            parts.append(block)
        joined = b"".join(parts)
        base = (offset // bs) * bs
        return joined[offset - base:end - base]

    def _pread(self, offset: int, end: int) -> bytes:
        """A REST read of the aligned blocks holding ``[offset, end)``, cached."""
        bs = self.blocks.block_size if self.blocks.capacity > 0 else 0
        lo = (offset // bs) * bs if bs else offset
        hi = min(((end + bs - 1) // bs) * bs, self.size) if bs else end
        data = b"".join(self.source.read_range(self.path, lo, hi - lo))
        if bs:
            for i in range(0, len(data), bs):
                piece = data[i:i + bs]
                if len(piece) == bs or lo + i + len(piece) == self.size:
                    self.blocks.put(self.path, self.size, self.mtime, (lo + i) // bs, piece)
        return data[offset - lo:end - lo]

    def close(self) -> None:
        """Stop any stream (its connection goes back to the pool); never raises."""
        with self._lock:
            try:
                self._close_stream()
            except Exception:  # noqa: S110 - closing must not fail a release
                pass
            self._window = deque()
