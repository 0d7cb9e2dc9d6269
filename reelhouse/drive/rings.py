"""The memory of :class:`~reelhouse.drive.tee.Tee`'s ring buffers: anonymous mappings,
aligned on and backed by transparent huge pages where the platform has them, faulted in
at once, and one kept (:data:`IDLE_RINGS`) for the next streamed file."""

from __future__ import annotations

import ctypes
import logging
import mmap
import threading

__all__ = ["HUGE", "IDLE_RINGS", "Ring", "address", "drop_ring", "new_ring", "take_ring"]

log = logging.getLogger(__name__)

#: A transparent huge page, bytes (x86-64 and arm64 with 4 KiB pages): the ring's
#: alignment where the platform backs it with huge pages (:func:`new_ring`).
HUGE = 2 * 1024 * 1024
#: ``madvise(2)``: fault the range in, writable (Linux 5.14; Python's ``mmap`` names it
#: from 3.13 on). Older kernels answer EINVAL.
_MADV_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)
#: Rings kept for the next streamed file once their file is done (each ``tee.RING``
#: bytes, plus up to :data:`HUGE` of alignment slack, of resident memory). A new ring
#: is mapped and faulted in (:func:`new_ring`) inside the write request that reaches
#: ``STREAM_AFTER``, while the writer waits: 2–99 ms on the benchmark machine, whose
#: host hands out fresh memory slowly (benchmarks/README.md, 29 Nov 2026); one kept
#: ring makes that a list pop for every file but the first of a copy.
IDLE_RINGS = 1

#: ``(mapping, its view, the ring's view)``: see :func:`new_ring`.
Ring = tuple[mmap.mmap, memoryview, memoryview]
_idle: list[Ring] = []
_idle_lock = threading.Lock()


def address(buf: mmap.mmap) -> int:
    """The address of ``buf``'s first byte."""
    probe = ctypes.c_char.from_buffer(buf)
    try:
        return ctypes.addressof(probe)
    finally:
        del probe  # the export ends here: ``buf`` can be closed later


def new_ring(size: int) -> Ring:
    """``size`` bytes of anonymous memory: ``(mapping, its view, the ring's view)``.

    Where the platform has transparent huge pages (Linux ``MADV_HUGEPAGE``, honoured
    in the default ``madvise`` mode), the ring is :data:`HUGE`-aligned (inside a
    mapping one :data:`HUGE` larger where the kernel did not align it) and backed by
    2 MiB pages: a direct write of the spool file then pins a few huge pages and
    reaches the disk as a few large requests instead of one segment per 4 KiB page
    (the benchmark machine's virtio disk takes 254 segments a request: ~1 MiB). In an
    A/B of paired 1 GiB writes the median ratio to ``STOR`` went from 0.78 to 0.86–0.87
    (benchmarks/README.md). The pages are faulted in at once: ``MADV_POPULATE_WRITE``
    (Linux 5.14), else a write of zeros; elsewhere ``MAP_POPULATE`` where it exists."""
    huge = getattr(mmap, "MADV_HUGEPAGE", None)
    if huge is None:
        populate = getattr(mmap, "MAP_POPULATE", 0)
        if populate:
            buf = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | populate)
        else:
            buf = mmap.mmap(-1, size)
        whole = memoryview(buf)
        return buf, whole, whole[:]
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
    buf = mmap.mmap(-1, size, flags=flags)
    if address(buf) % HUGE:  # Linux aligns big mappings itself since 6.7; else make room
        buf.close()
        buf = mmap.mmap(-1, size + HUGE, flags=flags)
    try:
        buf.madvise(huge)
    except OSError as exc:
        log.debug("no huge pages for the ring: %s", exc)
    try:
        buf.madvise(_MADV_POPULATE_WRITE)
    except OSError:
        buf.write(bytes(len(buf)))  # older kernels: touch every page
    whole = memoryview(buf)
    skip = -address(buf) % HUGE
    return buf, whole, whole[skip:skip + size]


def take_ring(size: int) -> Ring:
    """A kept ring of ``size`` bytes (:data:`IDLE_RINGS`), else a new one."""
    with _idle_lock:
        for i, ring in enumerate(_idle):
            if len(ring[2]) == size:
                return _idle.pop(i)
    return new_ring(size)


def drop_ring(ring: Ring, keep: bool) -> None:
    """Keep ``ring`` for the next file (``keep``: nobody holds a view of it any more,
    and fewer than :data:`IDLE_RINGS` are kept), else unmap it."""
    if keep:
        with _idle_lock:
            if len(_idle) < IDLE_RINGS:
                _idle.append(ring)
                return
    buf, whole, view = ring
    view.release()
    whole.release()
    try:
        buf.close()
    except BufferError:  # an upload stuck in sendall still holds a view: freed with it
        pass
