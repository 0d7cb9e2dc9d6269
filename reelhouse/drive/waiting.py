"""Does the program that asked the mount for a read still wait for it?

A read at an offset of a file on a server without ``REST`` is a skip: the server sends
the file from byte 0 and the bytes before the offset are thrown away (up to
``ftp_max_skip``, 1 GiB: minutes on a slow server). A killed reader should stop it, but
FUSE does not say so: a read the kernel makes to fill its page cache (every read of a
mount with ``auto_cache``: the read-ahead of ``read(2)``, ``mmap`` faults) is sent
without waiting for an answer, and a killed process leaves it running (no
``FUSE_INTERRUPT``); the release of the file comes only once that read is answered
(the request holds the open file), so the handle's end cannot tell either. What the
daemon does get is the reader's process id (``fuse_get_context``, the caller of each
request). :func:`reader_gone` asks Linux's ``/proc`` about it between the chunks a
skip throws away (``sources/skipping.py``'s ``skip_stop``): the skip stops once that
process has ended (gone, or a zombie not yet reaped) or has a ``SIGKILL`` pending (a
synchronous read's caller cannot die before the answer: it waits uninterruptibly once
the daemon has the request). A page another program waits for too is asked again by
that program's own read (the kernel fills no page from a failed read).

Limits: a process whose id is not seen from the mount's PID namespace comes as 0 and is
never taken as gone; on macOS and Windows (no ``/proc``) nothing is ever gone, and a
skip runs to its offset unless the mount is stopped (``reelhouse drive unmount``); a
read made by one thread of a program and still wanted by another after the first
thread ended is stopped (the other thread's read asks again).
"""

from __future__ import annotations

import functools
import os
import signal
from collections.abc import Callable

__all__ = ["reader_gone"]

#: ``SIGKILL``'s bit in ``/proc/<pid>/status``'s ``SigPnd``/``ShdPnd`` masks (proc(5):
#: bit n-1 for signal n).
_KILL_BIT = 1 << (int(signal.SIGKILL) - 1)


def reader_gone(pid: int) -> Callable[[], bool] | None:
    """A check that says True once process (or thread) ``pid`` no longer waits for
    its read: it has ended, is a zombie, or has ``SIGKILL`` pending. None when that
    cannot be told (``pid`` 0: a reader outside the mount's PID namespace; no
    ``/proc``, as on macOS and Windows). Called for every read of the mount: nothing
    is asked of ``/proc`` until the check is (a skip)."""
    if pid <= 0 or not _has_proc():
        return None
    return functools.partial(_ended, pid)


@functools.cache
def _has_proc() -> bool:
    return os.path.exists("/proc/self/status")


def _ended(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        return True  # reaped, or the thread ended
    except OSError:
        return False  # cannot tell: it may wait
    pending = 0
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key == "State" and value.strip()[:1] in ("Z", "X"):
            return True
        if key in ("SigPnd", "ShdPnd"):
            try:
                pending |= int(value.strip(), 16)
            except ValueError:
                continue
    return bool(pending & _KILL_BIT)
