"""The duration of a Matroska file that does not say it, from the bytes of its tail.

A live recording cut off (OBS, a DVB recorder, ``ffmpeg -f matroska`` to a pipe) has
no ``Duration`` element: the muxer writes it at the end by seeking back to the
``Info``, which a pipe or a crash does not allow, and FFmpeg's demuxer then reports no
duration. The file's last ``Cluster`` still says when it ends: its ``Timestamp`` plus
the relative timestamp of each ``SimpleBlock``/``Block`` in it (and a ``BlockGroup``'s
``BlockDuration``). :func:`last_timestamp` finds the last cluster in a tail read and
returns the latest end it names, in the segment's ``TimestampScale`` ticks (what
FFmpeg's stream ``time_base`` is for Matroska: 1 ms by default).

Sources: RFC 8794 §4-5 (EBML element IDs and variable-size integers), RFC 9559 §5.1.3
(Cluster, Timestamp, SimpleBlock, BlockGroup, Block, BlockDuration) and §10 (the block
header: track number, signed 16-bit relative timestamp, flags). :func:`last_timestamp`
is pure; :func:`tail_duration` reads the tail through a probe's reader, within its
budget (the library's probe and HLS's both use it).
"""

from __future__ import annotations

from collections.abc import Iterator

from reelhouse.errors import ProbeFailed
from reelhouse.sources.reader import SourceReader

__all__ = ["CLUSTER_ID", "TAIL_READS", "last_timestamp", "tail_duration", "vint"]

#: How much of a Matroska file's end is read, try by try, for its last timestamp when
#: the container names no duration (bytes): a cluster of FFmpeg's muxer holds at most
#: 5 s or 5 MiB, of mkvmerge's 5 s (a 40 Mbit/s remux: 25 MB), and each try must hold a
#: whole cluster's start. Bounded by the probe's budget.
TAIL_READS = (1024 * 1024, 4 * 1024 * 1024, 16 * 1024 * 1024, 32 * 1024 * 1024)

CLUSTER_ID = b"\x1f\x43\xb6\x75"
_TIMESTAMP = 0xE7
_CRC32 = 0xBF
_VOID = 0xEC
_SIMPLEBLOCK = 0xA3
_BLOCKGROUP = 0xA0
_BLOCK = 0xA1
_BLOCKDURATION = 0x9B
# Cluster children that may stand between its Timestamp and its blocks (RFC 9559
# §5.1.3): SilentTracks, Position, PrevSize, EncryptedBlock.
_SKIPPABLE = {_CRC32, _VOID, 0x5854, 0xA7, 0xAB, 0xAF}


def vint(data: bytes, pos: int) -> tuple[int, int, bool] | None:
    """An EBML variable-size integer at ``pos``: (value, length in bytes, all ones =
    unknown size), or None where none can be read (RFC 8794 §4)."""
    if pos >= len(data) or data[pos] == 0:
        return None
    first = data[pos]
    length = 8 - first.bit_length() + 1
    if pos + length > len(data):
        return None
    value = first & (0xFF >> length)
    for b in data[pos + 1 : pos + length]:
        value = (value << 8) | b
    return value, length, value == (1 << (7 * length)) - 1


def _element(data: bytes, pos: int) -> tuple[int, int, int, bool] | None:
    """The element header at ``pos``: (ID with its marker bits, body start, body size,
    unknown size), or None. IDs are 1 to 4 bytes (RFC 8794 §5)."""
    if pos >= len(data) or data[pos] < 0x10:
        return None
    id_len = 8 - data[pos].bit_length() + 1
    size = vint(data, pos + id_len)
    if size is None:
        return None
    ident = int.from_bytes(data[pos : pos + id_len], "big")
    return ident, pos + id_len + size[1], size[0], size[2]


def _block_time(data: bytes, pos: int, end: int) -> int | None:
    """The relative timestamp of the (Simple)Block whose body starts at ``pos``: a
    track number (vint), then a signed 16-bit big-endian timestamp (RFC 9559 §10)."""
    track = vint(data, pos)
    if track is None or track[0] == 0 or pos + track[1] + 2 > min(end, len(data)):
        return None
    at = pos + track[1]
    return int.from_bytes(data[at : at + 2], "big", signed=True)


def _children(data: bytes, pos: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(ID, body start, body size) of each element from ``pos`` until ``end`` or an
    element header that cannot be read."""
    while pos < end:
        head = _element(data, pos)
        if head is None:
            return
        ident, body, size, _ = head
        yield ident, body, size
        pos = body + size


def _group_end(data: bytes, pos: int, end: int) -> int | None:
    """The relative end of a BlockGroup's Block (its timestamp + BlockDuration)."""
    time: int | None = None
    duration = 0
    for ident, body, size in _children(data, pos, end):
        if ident == _BLOCK:
            time = _block_time(data, body, end)
        elif ident == _BLOCKDURATION and 0 < size <= 8 and body + size <= len(data):
            duration = int.from_bytes(data[body : body + size], "big")
    return None if time is None else time + duration


def _cluster_end(data: bytes, pos: int) -> int | None:
    """The latest block end of the cluster at ``pos`` (absolute ticks), or None when the
    bytes there are not a cluster that starts with its Timestamp or it has no block."""
    head = _element(data, pos)
    if head is None:
        return None
    _, body, size, unknown = head
    end = len(data) if unknown else min(len(data), body + size)
    first = _element(data, body)
    if first is not None and first[0] == _CRC32:
        body = first[1] + first[2]
        first = _element(data, body)
    if first is None or first[0] != _TIMESTAMP or not 0 < first[2] <= 8 or first[1] + first[2] > end:
        return None
    base = int.from_bytes(data[first[1] : first[1] + first[2]], "big")
    latest: int | None = None
    for ident, start, length in _children(data, first[1] + first[2], end):
        if ident == _SIMPLEBLOCK:
            rel = _block_time(data, start, start + length)
        elif ident == _BLOCKGROUP:
            rel = _group_end(data, start, min(end, start + length))
        elif ident in _SKIPPABLE:
            rel = None
        else:
            break  # the next top-level element (Cues, Tags, Cluster) or damage
        if rel is not None and base + rel >= 0:
            latest = base + rel if latest is None else max(latest, base + rel)
    return latest


def last_timestamp(tail: bytes) -> int | None:
    """The latest block end named by the last cluster in ``tail`` (bytes from the end
    of a Matroska file) that has one, in TimestampScale ticks; None when ``tail`` holds
    no whole cluster start (a cluster longer than the tail: read more). A match of the
    Cluster ID inside a block's data is told apart by the Timestamp a cluster begins
    with; a cluster cut off mid-block counts the blocks whose headers arrived."""
    pos = len(tail)
    while True:
        pos = tail.rfind(CLUSTER_ID, 0, pos)
        if pos < 0:
            return None
        found = _cluster_end(tail, pos)
        if found is not None:
            return found


def tail_duration(reader: SourceReader, tick: float, start: float) -> float | None:
    """The duration (seconds) of a Matroska file without a ``Duration`` element, from
    the last cluster in its tail: the last :data:`TAIL_READS`
    bytes, each try reading the part before the last (one range read: on FTP a ``REST``
    near the end), within what is left of the probe's budget. ``tick``: seconds per
    TimestampScale tick (the stream time base); ``start``: the first timestamp (s).
    None when no cluster is found or the source refuses the read."""
    tail = b""
    for want in TAIL_READS:
        want = min(want, reader.size)
        room = (reader.budget - reader.bytes_read) if reader.budget is not None else want
        more = min(want - len(tail), room)
        if more <= 0:
            return None
        try:
            tail = reader.pread(reader.size - len(tail) - more, more) + tail
        except ProbeFailed:  # no REST and too far to skip (sources/skipping.py)
            return None
        last = last_timestamp(tail)
        if last is not None:
            seconds = last * tick - start
            return seconds if seconds > 0 else None
        if len(tail) >= reader.size:
            return None
    return None
