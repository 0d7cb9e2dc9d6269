"""A seekable, read-only file object over any Source, built on range reads.

PyAV (and anything else that wants ``read``/``seek``/``tell``) can open an FTP file
through it: it fetches only the blocks the reader asks for. Blocks are ``block_size``
bytes (256 KiB by default), kept in a small LRU so the back-and-forth of a demuxer
reading headers costs one range read per new block. ``bytes_read`` counts what came over
the wire; past ``budget`` bytes a read raises :class:`~reelhouse.errors.ProbeFailed`.
"""

from __future__ import annotations

import io
from collections import OrderedDict

from reelhouse.errors import ProbeFailed
from reelhouse.sources.base import Source

__all__ = ["SourceReader"]


class SourceReader(io.RawIOBase):
    """``SourceReader(source, path, size)``: a seekable binary reader of ``size`` bytes."""

    def __init__(
        self,
        source: Source,
        path: str,
        size: int,
        block_size: int = 256 * 1024,
        cache_blocks: int = 16,
        budget: int | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.path = path
        self.size = size
        self.block_size = block_size
        self.cache_blocks = cache_blocks
        self.budget = budget
        self.bytes_read = 0
        self.range_reads = 0
        self._pos = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()

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
        start = index * self.block_size
        length = min(self.block_size, self.size - start)
        if self.budget is not None and self.bytes_read + length > self.budget:
            raise ProbeFailed(
                f"reading {self.path!r} would exceed the budget of {self.budget} bytes"
            )
        block = b"".join(self.source.read_range(self.path, start, length))
        self.bytes_read += len(block)
        self.range_reads += 1
        self._blocks[index] = block
        if len(self._blocks) > self.cache_blocks:
            self._blocks.popitem(last=False)
        return block

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
