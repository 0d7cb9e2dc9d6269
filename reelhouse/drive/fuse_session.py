"""Two helpers of the FUSE adapter (:mod:`reelhouse.drive.fuse`) that reach libfuse's
session through ctypes, beyond what mfusepy wraps: :class:`ExitWatch` (cut the
requests under way once the session is told to end) and :class:`KernelCache` (drop
what the kernel keeps of a path the drive changed behind its back)."""

from __future__ import annotations

import errno
import logging
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

from reelhouse.drive.fuse_kernel import fuse_major_version

__all__ = ["ExitWatch", "KernelCache"]

log = logging.getLogger(__name__)


class ExitWatch:
    """Calls ``on_exit`` once, as soon as libfuse's session is told to end (SIGINT,
    SIGTERM: ``drive unmount``, Ctrl-C), while requests may still be running.

    libfuse's loop then waits for every request being served before it unmounts
    (lib/fuse_loop_mt.c joins its workers; they cannot be cancelled while they serve
    one): a read blocked on a server that stopped answering held the unmount for the
    FTP timeouts (~60 s). ``on_exit`` cuts such requests, :attr:`GRACE` seconds after
    the session was told to end if the loop has not ended by then (a small upload at
    close still finishes; one cut is not lost: the final flush sends it). The session's
    state is read every :attr:`PERIOD` seconds with libfuse's ``fuse_session_exited``
    from :meth:`start` (the ``init`` request) until :meth:`stop` (the ``destroy``
    request, run before libfuse frees the session)."""

    PERIOD = 0.1
    GRACE = 1.0

    def __init__(self, on_exit: Callable[[], None]) -> None:
        self.on_exit = on_exit
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start watching the session of the current request's filesystem (call in
        ``init``); does nothing where libfuse lacks the calls."""
        import ctypes

        import mfusepy

        lib = mfusepy._libfuse
        try:
            get_session, exited = lib.fuse_get_session, lib.fuse_session_exited
        except AttributeError:
            return
        get_session.argtypes, get_session.restype = [ctypes.c_void_p], ctypes.c_void_p
        exited.argtypes, exited.restype = [ctypes.c_void_p], ctypes.c_int
        session = get_session(ctypes.c_void_p(lib.fuse_get_context().contents.fuse))
        if not session:
            return

        def run() -> None:
            if hasattr(signal, "pthread_sigmask"):  # the loop's signals are libfuse's
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
            while not self._done.wait(self.PERIOD):
                if exited(session):
                    if self._done.wait(self.GRACE):
                        return  # every request ended by itself
                    try:
                        self.on_exit()
                    except Exception:
                        log.exception("cutting the requests under way failed")
                    return

        self._thread = threading.Thread(target=run, name="drive-exit-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (call in ``destroy``: the session is freed after it)."""
        self._done.set()
        if self._thread is not None:
            self._thread.join()


class KernelCache:
    """Drops what the kernel keeps of a path (its attributes for up to
    :data:`~reelhouse.drive.fuse.KERNEL_TTL` and its cached pages) when the drive
    changes that path behind the kernel's back (:attr:`DriveFS.forget_kernel
    <reelhouse.drive.fs.DriveFS.forget_kernel>`: ``drive
    spool discard|retry``), with libfuse 3's ``fuse_invalidate_path`` (since 3.1;
    lib/fuse.c: a ``FUSE_NOTIFY_INVAL_INODE`` of the path's inode, whole file). mfusepy
    does not wrap it; the ``struct fuse *`` it needs is ``fuse_get_context()->fuse``,
    taken in the ``init`` request (:meth:`start`) and dropped in ``destroy``
    (:meth:`stop`), before libfuse frees it. Does nothing on libfuse 2 (macFUSE,
    WinFsp), which lacks the call, and for a path the kernel does not hold.

    Called from the drive's own threads, never from a request handler: the kernel may
    wait there for the pages of a read being served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fuse: int | None = None
        self._call: Any = None
        self._encode: Callable[[str], bytes] = lambda p: p.encode("utf-8", "surrogateescape")

    def start(self, encode: Callable[[str], bytes]) -> None:
        """Take the current request's ``struct fuse *`` (call in ``init``)."""
        import ctypes

        import mfusepy

        lib = mfusepy._libfuse
        call = getattr(lib, "fuse_invalidate_path", None) if fuse_major_version() == 3 else None
        if call is None:
            return
        call.argtypes, call.restype = [ctypes.c_void_p, ctypes.c_char_p], ctypes.c_int
        with self._lock:
            self._fuse, self._call, self._encode = lib.fuse_get_context().contents.fuse, call, encode

    def stop(self) -> None:
        """Forget the ``struct fuse *`` (call in ``destroy``); waits for a call under way."""
        with self._lock:
            self._fuse = None

    def forget(self, rel: str) -> None:
        """Drop the kernel's attributes and pages of ``rel`` (source-relative path)."""
        import ctypes

        with self._lock:
            if self._fuse is None:
                return
            got = self._call(ctypes.c_void_p(self._fuse), self._encode("/" + rel))
        if got not in (0, -errno.ENOENT):  # ENOENT: the kernel holds no such path
            log.info("could not drop the kernel's cache of %r: %s", rel, os.strerror(-got))
