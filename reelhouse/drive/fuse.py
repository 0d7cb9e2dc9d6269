"""The thin mfusepy adapter: kernel calls in, :class:`~reelhouse.drive.fs.DriveFS` calls
out. Platform details (stat dicts, open flags, ``fuse_config``, mount options) live
here and nowhere else.

mfusepy speaks libfuse 2 and 3 (Linux, FreeBSD), macFUSE and WinFsp's FUSE layer from
one API; Linux with FUSE 3 is what is tested (see the README's Drive section).
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import stat
import sys
import threading
from typing import Any

from reelhouse.drive.fs import Attr, DriveFS
from reelhouse.drive.fuse_kernel import fuse_class, fuse_major_version
from reelhouse.drive.fuse_session import ExitWatch, KernelCache
from reelhouse.drive.mountpoint import check_mount_point, check_platform, is_mount
from reelhouse.drive.waiting import reader_gone
from reelhouse.errors import ConfigError
from reelhouse.sources.skipping import skip_stop

__all__ = ["check_mount_point", "check_platform", "is_mount", "kernel_ttl", "run_fuse"]

log = logging.getLogger(__name__)

#: Kernel-side caching of names and attributes, seconds, at most: short, since another
#: client may change the server; our own caches (TTL 30/60 s) answer the rest without a
#: round trip. Shorter TTLs of ours shorten it too (:func:`kernel_ttl`).
KERNEL_TTL = 1.0
#: Most bytes the kernel reads ahead of a sequential reader.
MAX_READAHEAD = 4 * 1024 * 1024
#: Largest read/write request the kernel sends (fewer, larger calls into Python); also
#: the I/O size files advertise (``st_blksize``), which ``cp`` and stdio buffers follow
#: (at 128 KiB, ``cp`` made 8 write requests per MiB). 1 MiB is also the ceiling here:
#: libfuse 3.14 (Debian's ``fuse3``) sizes its request buffer for 256 pages and the
#: kernel caps ``max_pages`` at ``fs.fuse.max_pages_limit`` (256 by default). Counted with
#: ``perf stat`` on the mount (28 Nov 2026, benchmarks/README.md): a 1 GiB ``cp`` is 1,029–1,036
#: write requests, a 1 GiB ``copyfileobj`` of 1 MiB unaligned buffers 2,054–2,055 (each
#: buffer spans 257 pages: the kernel splits it), which no mount option can merge.
#: Asking for more breaks the mount: libfuse 3.14 passes a larger ``max_write`` on to the
#: kernel but keeps its 1 MiB + 4 KiB buffer, and the kernel refuses every read of
#: ``/dev/fuse`` with a buffer smaller than ``max_write`` allows ("fuse: reading device:
#: Invalid argument", the mount ends before it is up), whatever ``max_pages_limit`` says
#: (tried with 4 MiB at the default 256 and at 1024, kernel 6.18, 29 Nov 2026).
MAX_REQUEST = 1024 * 1024
#: libfuse 3 ``FUSE_CAP_READDIRPLUS_AUTO`` (fuse_common.h).
_CAP_READDIRPLUS_AUTO = 1 << 14
#: ``renameat2`` flag "fail with EEXIST if the target exists" (Linux RENAME_NOREPLACE,
#: macOS RENAME_EXCL); every other flag (RENAME_EXCHANGE: an atomic swap, which FTP
#: cannot do; RENAME_WHITEOUT) gets EINVAL, as the rename(2) man page says a filesystem
#: without it answers.
_RENAME_NOREPLACE = 0x4 if sys.platform == "darwin" else 0x1

#: libfuse 3's ``max_idle_threads``, given explicitly: libfuse 3.14.0's helper.c passes its
#: "not set" default (UINT_MAX) to ``fuse_loop_cfg_set_idle_threads``, which prints
#: "Ignoring invalid max threads value 4294967295 > max (100000)." at every mount
#: (lib/fuse_loop_mt.c; later releases skip the default). 100,000 is the largest value
#: it takes and, with at most ``max_threads`` (10) workers, keeps what the default
#: means: idle workers are never ended (they keep their Python thread state, see
#: fuse_kernel).
_MAX_IDLE_THREADS = 100_000

#: ``utimensat`` "set to now" and "leave as is" (linux/stat.h ``UTIME_NOW``, ``UTIME_OMIT``),
#: as they reach :meth:`utimens` (nanoseconds of a timespec of 0 s). Were they taken as
#: times, ``touch`` set 1970-01-01 00:00:01 on the server.
_UTIME_NOW = (1 << 30) - 1
_UTIME_OMIT = (1 << 30) - 2

_LOOP_ENDED = 8
_FUSE_MAIN_ERRORS = {1: "bad options", 2: "no mount point", 3: "setup failed",
                     4: "the mount was refused", 5: "daemonize failed", 6: "signal handlers",
                     7: "file system init failed"}


def _mode(attr: Attr) -> int:
    if attr.is_dir:
        return stat.S_IFDIR | (0o755 if attr.writable else 0o555)
    return stat.S_IFREG | (0o644 if attr.writable else 0o444)


def _stat(attr: Attr, uid: int, gid: int) -> dict[str, Any]:
    ns = int(attr.mtime * 1e9)
    return {"st_mode": _mode(attr), "st_nlink": 2 if attr.is_dir else 1, "st_size": attr.size,
            "st_uid": uid, "st_gid": gid, "st_mtime": ns, "st_atime": ns, "st_ctime": ns,
            "st_blocks": (attr.size + 511) // 512, "st_blksize": MAX_REQUEST}



def _nothing(rel: str) -> None:
    pass


class _OpenFolders:
    """The entries of each open folder handle, as sent to the kernel: a listing read in
    several requests is cut from one snapshot. Thread-safe."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._entries: dict[int, list[tuple[str, Any]]] = {}
        self._lock = threading.Lock()

    def open(self) -> int:
        with self._lock:
            fh = next(self._ids)
            self._entries[fh] = []
        return fh

    def get(self, fh: int) -> list[tuple[str, Any]] | None:
        with self._lock:
            return self._entries.get(fh) or None

    def put(self, fh: int, entries: list[tuple[str, Any]]) -> None:
        with self._lock:
            if fh in self._entries:  # not after releasedir
                self._entries[fh] = entries

    def close(self, fh: int) -> None:
        with self._lock:
            self._entries.pop(fh, None)


def kernel_ttl(fs: DriveFS) -> float:
    """How long (seconds) the kernel keeps names and attributes of ``fs``: KERNEL_TTL,
    or the drive's own shortest TTL if shorter (``directory_ttl_seconds = 0`` or
    ``[cache] enabled = false``: 0, so another client's change shows at once)."""
    return max(0.0, min(KERNEL_TTL, fs.listings.directory_ttl, fs.listings.metadata_ttl))


def _operations(fs: DriveFS, watch: ExitWatch, kernel: KernelCache) -> Any:
    import mfusepy

    ttl = kernel_ttl(fs)
    uid, gid = (os.getuid(), os.getgid()) if hasattr(os, "getuid") else (0, 0)
    folders = _OpenFolders()

    def c_stat(attr: Attr) -> Any:
        """:func:`_stat` as a ``struct stat``, built in one call (readdir makes one per entry)."""
        sec, ns = divmod(int(attr.mtime * 1e9), 1_000_000_000)
        t = mfusepy.c_timespec(sec, ns)
        return mfusepy.c_stat(st_mode=_mode(attr), st_nlink=2 if attr.is_dir else 1, st_size=attr.size,
                              st_uid=uid, st_gid=gid, st_blocks=(attr.size + 511) // 512,
                              st_blksize=MAX_REQUEST, st_atimespec=t, st_mtimespec=t, st_ctimespec=t)

    dot = mfusepy.c_stat(st_mode=stat.S_IFDIR)
    dots = [(".", dot), ("..", dot)]

    class Operations(mfusepy.Operations):  # type: ignore[misc]
        use_ns = True

        def init_with_config(self, conn: Any, config: Any) -> None:
            watch.start()
            kernel.start(lambda p: p.encode("utf-8", "surrogateescape"))
            fs.forget_kernel = kernel.forget
            if config is not None:
                config.entry_timeout = ttl
                config.attr_timeout = ttl
                config.negative_timeout = 0.0
                config.auto_cache = 1  # keep page cache while size and mtime stay the same
            if conn is not None:
                # READDIRPLUS for every part of a listing, not only its first request (the
                # kernel's "auto" mode): else the names past the first reply are looked up
                # one by one
                conn.want &= ~_CAP_READDIRPLUS_AUTO
                conn.max_readahead = MAX_READAHEAD
                conn.max_write = MAX_REQUEST  # also sets the kernel's largest request (max_pages)

        def destroy(self, path: str) -> None:
            fs.forget_kernel = _nothing
            kernel.stop()
            watch.stop()

        def getattr(self, path: str, fh: int | None = None) -> dict[str, Any]:
            return _stat(fs.getattr(path, fh), uid, gid)

        def opendir(self, path: str) -> int:
            return folders.open()

        def releasedir(self, path: str, fh: int) -> int:
            folders.close(fh)
            return 0

        def readdir(self, path: str, fh: int, offset: int = 0) -> list[tuple[str, Any]]:
            """The entries of open folder ``fh`` as ``(name, struct stat)``, ``.`` and ``..``
            first: from the listing when the kernel starts at ``offset`` 0 (opendir,
            rewinddir), else from the same snapshot (a folder read in several requests
            stays consistent while the listing changes)."""
            if offset == 0 or (entries := folders.get(fh)) is None:
                entries = dots + [(name, c_stat(a)) for name, a in fs.readdir(path)]
                folders.put(fh, entries)
            return entries

        def open(self, path: str, flags: int) -> int:
            return fs.open(path, flags)

        def create(self, path: str, mode: int, flags: int) -> int:
            return fs.create(path, flags)

        def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
            # a skip to the offset (a server without REST) stops once the reader is gone:
            # FUSE sends no interrupt for the page cache's reads (drive/waiting.py)
            token = skip_stop.set(reader_gone(mfusepy.fuse_get_context()[2]))
            try:
                return fs.read(fh, offset, size)
            finally:
                skip_stop.reset(token)

        def write(self, path: str, data: memoryview, offset: int, fh: int) -> int:
            return fs.write(fh, offset, data)

        def truncate(self, path: str, length: int, fh: int | None = None) -> int:
            fs.truncate(path, length, fh)
            return 0

        def flush(self, path: str, fh: int) -> int:
            fs.flush(fh)
            return 0

        def fsync(self, path: str, datasync: int, fh: int) -> int:
            fs.fsync(fh)
            return 0

        def release(self, path: str, fh: int) -> int:
            fs.release(fh)
            return 0

        def unlink(self, path: str) -> int:
            fs.unlink(path)
            return 0

        def mkdir(self, path: str, mode: int) -> int:
            fs.mkdir(path)
            return 0

        def rmdir(self, path: str) -> int:
            fs.rmdir(path)
            return 0

        def rename(self, old: str, new: str) -> int:
            fs.rename(old, new)
            return 0

        def rename_with_flags(self, old: str, new: str, flags: int) -> int:
            if flags & ~_RENAME_NOREPLACE:
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
            fs.rename(old, new, noreplace=bool(flags & _RENAME_NOREPLACE))
            return 0

        def symlink(self, target: str, source: str) -> int:
            return self.link(target, source)

        def link(self, target: str, source: str) -> int:
            # FTP makes no links (symbolic or hard): EPERM, what link(2) and symlink(2)
            # give on a filesystem without them (after EROFS and a missing folder's ENOENT)
            if fs.writes_refused:
                raise OSError(errno.EROFS, os.strerror(errno.EROFS))
            fs.getattr(target.rpartition("/")[0] or "/")
            raise OSError(errno.EPERM, os.strerror(errno.EPERM))

        def mknod(self, path: str, mode: int, dev: int) -> int:
            # a regular file is made through create (lib/fuse.c, fuse_lib_mknod); a FIFO,
            # socket or device node FTP cannot hold: EPERM, what mknod(2) gives "if the
            # file system does not support the type of node requested" (was ENOSYS)
            return self.link(path, "")

        def utimens(self, path: str, times: tuple[int, int] | None = None) -> int:
            """``times``: (atime, mtime) in ns as mfusepy adds up each timespec; libfuse
            3 passes ``utimensat``'s UTIME_NOW (``touch``) and UTIME_OMIT (``touch -a``)
            as a timespec of 0 s and that value in ``tv_nsec`` (lib/fuse.c, setattr)."""
            import time

            mtime_ns = times[1] if times else _UTIME_NOW
            if mtime_ns == _UTIME_OMIT:
                fs.getattr(path)  # the time stays; the name must still be there
                return 0
            fs.utimens(path, time.time() if mtime_ns == _UTIME_NOW else mtime_ns / 1e9)
            return 0

        def chmod(self, path: str, mode: int) -> int:
            fs.chmod(path)
            return 0

        def chown(self, path: str, uid_: int, gid_: int) -> int:
            fs.chmod(path)
            return 0

        def access(self, path: str, amode: int) -> int:
            fs.getattr(path)
            if amode & os.W_OK and fs.writes_refused:
                raise OSError(errno.EROFS, os.strerror(errno.EROFS))
            return 0

        def statfs(self, path: str) -> dict[str, int]:
            bsize, total, free, namemax = fs.statfs()
            return {"f_bsize": bsize, "f_frsize": bsize, "f_blocks": total, "f_bfree": free,
                    "f_bavail": free, "f_files": 1 << 20, "f_ffree": 1 << 20, "f_namemax": namemax}

    return Operations()


def _option_text(value: str) -> str:
    """``value`` as one libfuse ``-o`` option value: its parser splits options at commas
    and takes a backslash as an escape (lib/fuse_opt.c), so both are escaped."""
    return value.replace("\\", "\\\\").replace(",", "\\,")


def run_fuse(fs: DriveFS, mount_point: str, label: str, read_only: bool) -> None:
    """Mount and serve until unmounted or signalled (SIGINT, SIGTERM: libfuse's own
    handlers end the loop and unmount); blocks the calling thread."""

    label = _option_text(label)
    options: dict[str, Any] = {"foreground": True, "fsname": f"reelhouse:{label}",
                               "subtype": "reelhouse", "default_permissions": True}
    if read_only:
        options["ro"] = True
    if fuse_major_version() == 3:  # libfuse 2 (macFUSE, WinFsp) has no such option
        options["max_idle_threads"] = _MAX_IDLE_THREADS
    if sys.platform.startswith("linux") and os.geteuid() == 0:
        options["allow_other"] = True
    if sys.platform == "darwin":
        options["volname"] = label
    try:
        fuse_class()(_operations(fs, ExitWatch(fs.interrupt), KernelCache()), mount_point, **options)
    except RuntimeError as exc:
        # fuse_main's result (libfuse helper.c): 8 is "the loop ended with an error",
        # which is also how a signal (SIGINT/SIGTERM, our unmount) ends it
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else -1
        if code != _LOOP_ENDED:
            raise ConfigError(f"mounting at {mount_point} failed (libfuse error {code}: "
                              f"{_FUSE_MAIN_ERRORS.get(code, 'unknown')})") from exc
