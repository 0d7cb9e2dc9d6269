"""mfusepy's FUSE class, tuned at the libfuse level: READDIRPLUS listings with
attributes (and the offsets that make the kernel keep them), write requests passed as
views of libfuse's buffer, ``direct_io`` for write-only handles of new files, thread
states kept per libfuse thread, ``rename`` flags, WinFsp's errno numbering. The
operations themselves are :mod:`reelhouse.drive.fuse`'s."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from reelhouse.drive.errnos import windows_errno

__all__ = ["fuse_class"]

#: libfuse 3: ``FUSE_READDIR_PLUS`` in readdir's flags, ``FUSE_FILL_DIR_PLUS`` for the filler.
_READDIR_PLUS, _FILL_DIR_PLUS = 1, 2
#: ``.`` and ``..``, the first entries of every folder.
_NDOTS = 2


def _write_through(fi: Any, new: bool) -> None:
    """A write-only handle of a new or truncated file (``cp``, a download, a save)
    bypasses the kernel's page cache for this mount (``direct_io``): the kernel then hands
    the writer's own pages to us instead of first copying every byte into cache pages
    it allocates for the file. That copy cost as much as the whole upload (1 GiB:
    ~1 s of CPU on the benchmark machine, and the write ran at a third of a plain
    STOR). Nothing else changes for such a handle: it cannot read or be mapped, and
    its writes reach :meth:`DriveFS.write` exactly as before (at most
    :data:`~reelhouse.drive.fuse.MAX_REQUEST` bytes each)."""
    flags = int(fi.flags)
    if flags & getattr(os, "O_ACCMODE", 3) == os.O_WRONLY and (new or flags & os.O_TRUNC):
        fi.direct_io = 1


def _kernel_view() -> Callable[[int, int], memoryview]:
    """``view(address, size)``: a read-only memoryview of ``size`` bytes at ``address``
    (CPython's ``PyMemoryView_FromMemory``), without a copy."""
    import ctypes

    make = ctypes.pythonapi.PyMemoryView_FromMemory
    make.argtypes = (ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_int)
    make.restype = ctypes.py_object
    read_only = 0x100  # PyBUF_READ

    def view(address: int, size: int) -> memoryview:
        return make(address, size, read_only)  # type: ignore[no-any-return]

    return view


def _thread_state_keeper() -> Callable[[], None]:
    """``keep()``: called in a callback, makes the calling libfuse thread keep its Python
    thread state after the callback returns.

    ctypes runs a callback from a thread Python did not start in a thread state made
    for the call and freed after it (``PyGILState_Ensure`` / ``Release``); making one
    allocates its frame stack, fresh memory each time (~5 page faults per request and
    the calls that map and unmap it). One more ``PyGILState_Ensure``, never released,
    keeps it for the thread's life (libfuse keeps its worker threads; a thread that
    ends leaves its small state to the interpreter's exit)."""
    import ctypes

    ensure = ctypes.pythonapi.PyGILState_Ensure
    ensure.restype = ctypes.c_int
    kept = threading.local()  # per thread state: empty again in a fresh one

    def keep() -> None:
        if not getattr(kept, "yes", False):
            ensure()
            kept.yes = True

    return keep


def fuse_major_version() -> int:
    """The loaded libfuse's major version (2: libfuse 2, macFUSE, WinFsp; 3: Linux FUSE 3)."""
    import mfusepy

    return int(mfusepy.fuse_version_major)


def fuse_class() -> Any:
    """mfusepy's FUSE with READDIRPLUS on libfuse 3: a listing gives the kernel every
    entry's attributes at once, so a walk (``ls -l``, ``find``, a file manager) makes no
    LOOKUP/GETATTR call per file (mfusepy passes names and types only)."""
    import ctypes

    import mfusepy

    kernel_view = _kernel_view()
    keep_thread_state = _thread_state_keeper()

    class Fuse(mfusepy.FUSE):  # type: ignore[misc]
        def _wrapper(self, func: Any, *args: Any, **kwargs: Any) -> Any:
            keep_thread_state()
            result = super()._wrapper(func, *args, **kwargs)
            if sys.platform == "win32" and isinstance(result, int) and result < 0:
                return -windows_errno(-result)  # WinFsp reads -errno with MSVC CRT numbers
            return result

        def write(self, path: bytes | None, buf: Any, size: int, offset: int, fip: Any) -> int:
            """A write request's bytes as a view of libfuse's buffer, valid during the
            call only (mfusepy copies them into a new ``bytes`` first: on the benchmark
            machine each 1 MiB request then faulted in fresh pages, ~50,000 page faults
            per GiB; the drive copies them once, into the spool's ring: drive/tee.py)."""
            data = kernel_view(ctypes.cast(buf, ctypes.c_void_p).value or 0, size)
            try:
                fh = fip.contents if self.raw_fi else fip.contents.fh
                return int(self.operations.write(None if path is None else path.decode(self.encoding, self.errors),
                                                 data, offset, fh))
            finally:
                data.release()

        # Entry i goes with offset i + 1 (where the next request starts). Non-zero offsets
        # matter: libfuse 3.14 sends the attributes of a listing filled with offset 0 with
        # inode 0, which tells the kernel to ignore them (lib/fuse.c
        # readdir_fill_from_list), so every stat after a listing came back as a LOOKUP;
        # with offsets it looks each name up (do_lookup) and the kernel keeps name and
        # attributes for KERNEL_TTL.
        def _entries(self, path: bytes | None, fip: Any, offset: int) -> Iterator[tuple[int, bytes, Any]]:
            name = "/" if path is None else path.decode(self.encoding, self.errors)
            entries = self.operations.readdir(name, fip.contents.fh, offset)
            for i in range(offset, len(entries)):
                entry, st = entries[i]
                yield i, entry.encode(self.encoding, self.errors), st

        def create(self, path: bytes, mode: int, fip: Any) -> int:
            result = int(super().create(path, mode, fip))
            _write_through(fip.contents, new=True)
            return result

        def open(self, path: bytes, fip: Any) -> int:
            result = int(super().open(path, fip))
            _write_through(fip.contents, new=False)
            return result

        def rename_fuse_3(self, old: bytes, new: bytes, flags: int) -> int:
            # mfusepy drops the flags: RENAME_NOREPLACE (mv -n) would overwrite
            return int(self.operations.rename_with_flags(old.decode(self.encoding, self.errors),
                                                         new.decode(self.encoding, self.errors), flags))

        def readdir_fuse_3(self, path: bytes | None, buf: Any, filler: Any, offset: int, fip: Any,
                           flags: int) -> int:
            plus = _FILL_DIR_PLUS if flags & _READDIR_PLUS else 0
            for i, name, st in self._entries(path, fip, offset):
                if filler(buf, name, st, i + 1, plus if i >= _NDOTS else 0) != 0:
                    break  # the kernel's buffer is full: it asks again from offset i
            return 0

        def readdir_fuse_2(self, path: bytes | None, buf: Any, filler: Any, offset: int, fip: Any) -> int:
            for i, name, st in self._entries(path, fip, offset):
                if filler(buf, name, st, i + 1) != 0:
                    break
            return 0

    return Fuse
