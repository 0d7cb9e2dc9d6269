"""A seekable, read-only file object over any Source, built on range reads.

PyAV (and anything else that wants ``read``/``seek``/``tell``) can open an FTP file
through it: it fetches only the blocks the reader asks for. Blocks are ``block_size``
bytes (64 KiB by default), kept in an LRU so the back-and-forth of a demuxer reading
headers costs one range read per new block.

Read-ahead adapts, as the kernel's page-cache read-ahead does: a miss right after the
previous fetch (sequential reading) doubles the next fetch, up to ``max_fetch`` bytes
in one range read; a miss elsewhere (a seek, e.g. to an MP4 ``moov`` at the end) fetches
one block. So a demuxer that jumps to the file's tail costs a 64 KiB read there, not a
megabyte, while one that reads packets in a row costs few round trips (on FTP each range
read is a REST + RETR, about one RTT plus a new data connection).

``bytes_read`` counts what came over the wire and ``range_reads`` the reads; past
``budget`` bytes a read raises :class:`~reelhouse.errors.ProbeFailed`.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Callable

from reelhouse.errors import ProbeFailed, SeekRefused
from reelhouse.sources.base import Source
from reelhouse.sources.skipping import SkipAllowance, skip_allowance

__all__ = ["FirstErrorOnly", "SourceReader"]


class SourceReader(io.RawIOBase):
    """``SourceReader(source, path, size)``: a seekable binary reader of ``size`` bytes."""

    def __init__(
        self,
        source: Source,
        path: str,
        size: int,
        block_size: int = 64 * 1024,
        cache_blocks: int = 64,
        budget: int | None = None,
        max_fetch: int = 1024 * 1024,
        on_fetch: Callable[[int, bytes], None] | None = None,
        slow_start: int = 0,
    ) -> None:
        """``block_size``, ``max_fetch`` and ``budget`` are bytes; ``cache_blocks`` the
        LRU size in blocks; ``on_fetch(offset, data)`` sees every range that arrives.
        ``slow_start`` (bytes): until a sequential run is that long, one fetch is at
        most two blocks — a prober that needs a few hundred KiB of packets does not pay
        for a read-ahead of a megabyte, while a long run (a big MP4 ``moov``) still gets
        it."""
        super().__init__()
        self.source = source
        self.path = path
        self.size = size
        self.block_size = block_size
        self.cache_blocks = cache_blocks
        self.budget = budget
        self.bytes_read = 0
        self.range_reads = 0
        self.max_fetch_blocks = max(1, max_fetch // block_size)
        self.on_fetch = on_fetch
        self._pos = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._window = 1  # blocks fetched by the next sequential miss
        self._next_block = -1  # the block after the previous fetch
        self.slow_start = slow_start
        self._run = 0  # bytes fetched in the current sequential run

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.size + offset
        else:
            raise ValueError(f"bad whence {whence}")
        if pos < 0:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos

    def _block(self, index: int) -> bytes:
        block = self._blocks.get(index)
        if block is not None:
            self._blocks.move_to_end(index)
            return block
        self._fetch(index)
        return self._blocks[index]

    def _fetch(self, index: int) -> None:
        """One range read from block ``index``: one block after a seek, twice the last
        fetch after a sequential miss; never past a cached block, the end, the budget."""
        if index == self._next_block:
            limit = self.max_fetch_blocks if self._run >= self.slow_start else min(2, self.max_fetch_blocks)
            self._window = min(self._window * 2, limit)
        else:
            self._window, self._run = 1, 0
        last_block = max(0, (self.size - 1) // self.block_size)
        count = 1
        while (count < self._window and index + count <= last_block
               and index + count not in self._blocks):
            count += 1
        start = index * self.block_size
        length = min(count * self.block_size, self.size - start)
        if self.budget is not None:
            room = self.budget - self.bytes_read
            if length > room:
                length = min(self.block_size, self.size - start)  # fall back to one block
                count = 1
                if length > room:
                    raise ProbeFailed(
                        f"reading {self.path!r} would exceed the budget of {self.budget} bytes"
                    )
        data = self._read(start, length)
        self.bytes_read += len(data)
        self._run += len(data)
        self.range_reads += 1
        if self.on_fetch is not None:
            self.on_fetch(start, data)
        for i in range(count):
            self._blocks[index + i] = data[i * self.block_size : (i + 1) * self.block_size]
            self._blocks.move_to_end(index + i)
        while len(self._blocks) > self.cache_blocks:
            self._blocks.popitem(last=False)
        self._next_block = index + count

    def _read(self, start: int, length: int) -> bytes:
        """One range read. Within a budget, what the source reads and throws away to
        reach ``start`` (an FTP server without REST: sources/skipping.py) counts in
        :attr:`bytes_read` too, and may not pass what is left of the budget."""
        if self.budget is None:
            return b"".join(self.source.read_range(self.path, start, length))
        allowance = SkipAllowance(self.budget - self.bytes_read - length)
        token = skip_allowance.set(allowance)
        try:
            room = allowance.left
            return b"".join(self.source.read_range(self.path, start, length))
        except SeekRefused as exc:
            raise ProbeFailed(f"cannot read {self.path!r}: {exc}") from exc
        finally:
            skip_allowance.reset(token)
            self.bytes_read += room - allowance.left

    def pread(self, offset: int, length: int) -> bytes:
        """``length`` bytes at ``offset`` (fewer at the end), without moving the
        position: what the cached blocks hold comes from them, the rest in one range
        read per gap, of exactly the missing bytes (not cached). For readers that share
        this one's fetches, e.g. the scan's fingerprint after the probe
        (library/fingerprint.py)."""
        end = min(offset + max(0, length), self.size)
        parts: list[bytes] = []
        pos = offset
        while pos < end:
            index, within = divmod(pos, self.block_size)
            block = self._blocks.get(index)
            if block is not None:
                piece = block[within : within + end - pos]
                if not piece:
                    break
            else:
                gap_end = pos
                while gap_end < end and (gap_end // self.block_size) not in self._blocks:
                    gap_end = min(end, (gap_end // self.block_size + 1) * self.block_size)
                piece = self._read(pos, gap_end - pos)
                self.bytes_read += len(piece)
                self.range_reads += 1
                if self.on_fetch is not None and piece:
                    self.on_fetch(pos, piece)
                if len(piece) < gap_end - pos:  # the file is shorter than it was
                    parts.append(piece)
                    break
            parts.append(piece)
            pos += len(piece)
        return b"".join(parts)

    def read(self, n: int = -1) -> bytes:
        if self._pos >= self.size:
            return b""
        if n is None or n < 0:
            n = self.size - self._pos
        n = min(n, self.size - self._pos)
        out = bytearray()
        while n > 0:
            index, within = divmod(self._pos, self.block_size)
            block = self._block(index)
            piece = block[within : within + n]
            if not piece:
                break
            out += piece
            self._pos += len(piece)
            n -= len(piece)
        return bytes(out)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class FirstErrorOnly(io.RawIOBase):
    """A demuxer's view of a binary file (for PyAV's ``av.open``): once a read or seek
    of ``file`` raised, reads are at the end and seeks stay where they are, so the
    demuxer stops there; :attr:`error` is that first error, for the caller to raise.

    FFmpeg reads again after a read failed (it retries, probes other formats), and PyAV
    keeps one error raised in its read callback and prints the one before to stderr
    ("PyAV library exception being dropped:" and a traceback: three per file in a scan
    of an FTP server refusing ``REST``)."""

    def __init__(self, file: io.RawIOBase) -> None:
        super().__init__()
        self.file = file
        self.error: Exception | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self.file.seekable()

    def tell(self) -> int:
        return self.file.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if self.error is not None:
            return self.file.tell()
        try:
            return self.file.seek(offset, whence)
        except Exception as exc:
            self.error = exc
            raise

    def read(self, n: int = -1) -> bytes:
        if self.error is not None:
            return b""
        try:
            return self.file.read(n) or b""
        except Exception as exc:
            self.error = exc
            raise

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
