"""One mount's life: open the source, check it, build the filesystem, serve it until
unmounted or signalled, publish its status, keep connections alive, and leave nothing
behind (uploads flushed or kept in the spool, caches removed, status file removed).

A server that refuses connections at mount time (not running) is mounted anyway and
shown ``down``; a wrong password, an unknown host or one that does not answer within
the timeout stop the mount with a one-line error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reelhouse.drive import control, manifest
from reelhouse.drive.cache import BlockCache, ListingCache
from reelhouse.drive.fs import DriveFS
from reelhouse.drive.recovery import recover as recover_spool
from reelhouse.drive.settings import DriveSettings
from reelhouse.drive.spool import Spool
from reelhouse.drive.status import Counters, Health, process_running, remove_status, write_status
from reelhouse.errors import InvalidInput, NotFound, SourceUnavailable
from reelhouse.sources.base import Source
from reelhouse.sources.ftp import FtpConfig, FtpSource

__all__ = ["Opened", "open_source", "reach_settings", "serve"]

log = logging.getLogger(__name__)
_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP} if hasattr(signal, "SIGHUP") else set()


@dataclass
class Opened:
    """A source ready to mount: ``server`` describes it (no password), ``key`` names its
    spool folder (stable across mounts of the same server), ``close`` releases it."""

    source: Source
    server: str
    key: str
    close: Callable[[], None]
    probe: bool = True  # check reachability at mount (not for the library view)
    extra: dict[str, Any] = field(default_factory=dict)
    #: how to reach the server again, no password (:func:`reach_settings`), kept in the
    #: spool folder for ``drive spool discard`` without a mount; None: not writable
    reach: dict[str, Any] | None = None


def _ftp_config(s: DriveSettings) -> FtpConfig:
    if not s.host:
        raise InvalidInput("give --host HOST, --source NAME, or [ftp] host in --config")
    cert = None
    if s.tls_cert:
        from reelhouse.sources.registry import read_certificate

        cert = read_certificate(s.tls_cert)
    return FtpConfig(host=s.host, port=s.port, user=s.username or "anonymous",
                     password=s.password or "", tls=s.tls,  # type: ignore[arg-type]
                     root=s.root, verify_tls=s.verify_tls, trusted_cert=cert,
                     connect_timeout=s.timeout_seconds, read_timeout=s.timeout_seconds,
                     pool_size=s.max_connections, list_hidden=True)  # .git on vsftpd


def open_source(s: DriveSettings, redis_url: str | None = None, slot_ttl: float = 15.0) -> Opened:
    """The Source the settings name: an FTP server (``host``), a configured source
    (``source``), or the library (``view = library``). Raises InvalidInput/NotFound.

    With ``redis_url`` (the reelhouse settings' ``redis_url``) a server's connections
    are counted with every other process's (``reelhouse serve`` nodes, workers, other
    mounts): at most ``max_connections`` together, leases of ``slot_ttl`` seconds
    (sources/ftp/slots.py). A configured source uses its node settings' own."""
    if s.view == "library" or s.source:
        from reelhouse.config import load_settings
        from reelhouse.core import Core

        core = Core(load_settings(), consume_jobs=False)
        try:
            if s.view == "library":
                from reelhouse.drive.library import LibrarySource

                lib = LibrarySource(core.sessions, core.sources.source, ttl=s.directory_ttl_seconds)
                return Opened(lib, "library", "library", core.close, probe=False)
            row = core.sources.find(s.source or "")
            src = core.sources.source(row.id)
        except BaseException:
            core.close()
            raise
        close = core.close
        if isinstance(src, FtpSource):  # a file tree shows its dot files too (LIST -a)
            own = src = FtpSource(dataclasses.replace(src.config, list_hidden=True), shared=core.ftp_slots)

            def close() -> None:
                own.close()
                core.close()
        return Opened(src, f"source {row.name}", f"source-{row.id}", close,
                      reach={"source": str(row.id), "timeout_seconds": s.timeout_seconds})
    cfg = _ftp_config(s)
    slots = None
    if redis_url:
        from reelhouse.leased_slots import LeasedSlots

        slots = LeasedSlots(redis_url, slot_ttl)
    src = FtpSource(cfg, shared=slots)
    scheme = {"none": "ftp", "explicit": "ftpes", "implicit": "ftps"}[cfg.tls]
    server = f"{scheme}://{cfg.user}@{cfg.host}:{cfg.port}/{cfg.root.lstrip('/')}"
    key = hashlib.sha1(f"{cfg.host}:{cfg.port}:{cfg.user}:{cfg.root}".encode()).hexdigest()[:16]

    def close_ftp() -> None:
        src.close()
        if slots is not None:
            slots.close()
    reach = {"host": cfg.host, "port": cfg.port, "username": cfg.user, "tls": cfg.tls, "root": cfg.root,
             "verify_tls": cfg.verify_tls, "tls_cert": os.path.abspath(s.tls_cert) if s.tls_cert else None,
             "timeout_seconds": s.timeout_seconds}
    return Opened(src, server, key, close_ftp, reach=reach)


#: the settings :func:`reach_settings` takes from a spool folder's ``server.info``
_REACH = ("host", "port", "username", "tls", "root", "verify_tls", "tls_cert", "timeout_seconds", "source")


def reach_settings(reach: dict[str, Any], password: str | None = None) -> DriveSettings:
    """Settings that reach the server of a spool folder again (what
    :attr:`Opened.reach` kept, with ``password`` for a login that needs one), for
    :func:`open_source`. Raises InvalidInput for a file that holds anything else."""
    try:
        return DriveSettings(**{k: v for k, v in reach.items() if k in _REACH}).override(password=password)
    except TypeError as exc:
        raise InvalidInput(f"unreadable server.info: {exc}") from exc


def _refused(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return True
        cause = cause.__cause__
    return False


def _block_signals() -> None:
    """Keep this thread from taking the signals meant for libfuse's loop (SIGINT,
    SIGTERM end the mount; a helper thread taking one would leave the loop waiting)."""
    if _SIGNALS:
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)


def _quiet_thread(target: Callable[[], None], name: str) -> threading.Thread:
    """A daemon thread that never takes the signals meant for libfuse's loop."""
    def run() -> None:
        _block_signals()
        target()
    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


#: seconds the final uploads of an unmount may go without progress before they are
#: cut (:func:`_final_flush`)
FINAL_STALL = 3.0


def _final_flush(fs: DriveFS, spool: Spool, read_only: bool, stall: float = FINAL_STALL) -> list[str]:
    """At unmount: close the handles still open (their uploads run) and upload every
    file still written but not sent; returns the paths left pending.

    A server that stopped answering (or is gone) would hold the end of the mount for
    the FTP timeouts: ``timeout_seconds`` a try, ``retry_attempts`` tries a file (the
    mount point is already detached, so the user sees a hung ``drive unmount``). So
    once the uploads made no progress (:meth:`Spool.progress`) for ``stall`` seconds,
    they are cut (:meth:`DriveFS.interrupt`: FtpPool.interrupt) and no further try
    runs (:meth:`Spool.stop`): what is left stays in the spool with its manifest, and
    the next mount of the same server sends it (:mod:`~reelhouse.drive.recovery`). A slow upload
    that keeps sending is not cut."""
    done = threading.Event()

    def watch() -> None:
        seen, since = spool.progress(), time.monotonic()
        while not done.wait(0.1):
            now = spool.progress()
            if now != seen:
                seen, since = now, time.monotonic()
            elif time.monotonic() - since >= stall:
                log.warning("the uploads at unmount made no progress for %.0f s: stopped; "
                            "what is left stays in the spool", stall)
                spool.stop()
                fs.interrupt()
                return

    watcher = _quiet_thread(watch, "drive-final-flush")
    try:
        fs.close()
        return [] if read_only else spool.flush_all()
    finally:
        done.set()
        watcher.join()


_CACHE_PREFIX = "reelhouse-drive-cache-"


def _sweep_caches(root: Path) -> None:
    """Remove the block caches of mounts whose process is gone: one killed (kill -9,
    OOM) never emptied its own, up to ``data_cache_mb`` each, often in a RAM-backed /tmp."""
    for folder in root.glob(f"{_CACHE_PREFIX}*"):
        pid = folder.name[len(_CACHE_PREFIX):]
        if pid.isdigit() and int(pid) != os.getpid() and not process_running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def serve(s: DriveSettings, mount_point: str, opened: Opened, data_dir: Path,
          run: Callable[[DriveFS], None]) -> list[str]:
    """Mount ``opened`` at ``mount_point`` and serve until ``run`` returns (the FUSE
    loop: unmount or signal). Returns the paths kept in the spool after the final flush
    (uploads that failed, and those the server refused for good). Raises AuthenticationFailed / SourceUnavailable when
    the server cannot be used at all (before anything is mounted)."""
    health = Health(down_after=max(3.0, s.retry_attempts * s.retry_delay_seconds * 2))
    if opened.probe:
        try:
            opened.source.list("")
        except NotFound as exc:  # the server's own message names "/", the mount's root
            raise NotFound(f"the folder to mount ({s.root or '/'}) is not on the server: "
                           f"{exc.message}") from exc
        except SourceUnavailable as exc:
            if not _refused(exc):
                raise
            log.warning("the server is down (%s); mounting anyway", exc.message)
            health.down(exc.message)
    counters = Counters()
    cache_root = Path(s.cache_directory) if s.cache_directory else Path(tempfile.gettempdir())
    _sweep_caches(cache_root)
    blocks = BlockCache(cache_root / f"{_CACHE_PREFIX}{os.getpid()}",
                        s.data_cache_mb * 1024 * 1024 if s.cache_enabled else 0)
    ttl = (s.directory_ttl_seconds, s.metadata_ttl_seconds) if s.cache_enabled else (0.0, 0.0)
    spool_dir = Path(s.spool_directory) if s.spool_directory else data_dir / "drive-spool" / opened.key
    spool = Spool(spool_dir, opened.source, counters, s.retry_attempts, s.retry_delay_seconds,
                  thread_init=_block_signals)
    read_only = s.read_only or s.view == "library"
    if opened.reach is not None and not read_only:
        try:  # for `drive spool discard` while no mount runs: the .part a try left
            manifest.save_server(spool.base, opened.reach)
        except OSError as exc:
            log.warning("cannot write %s in the spool %s: %s", manifest.SERVER, spool.base, exc)
    fs = DriveFS(opened.source, listings=ListingCache(*ttl), blocks=blocks, spool=spool,
                 counters=counters, health=health, read_only=read_only,
                 prefetch_workers=max(1, s.max_connections - 2) if s.cache_enabled else 0,
                 thread_init=_block_signals)
    stop = threading.Event()
    started = time.time()

    def status() -> dict[str, Any]:
        return {"pid": os.getpid(), "mount_point": mount_point, "server": opened.server,
                "view": s.view, "read_only": read_only, "server_read_only": fs.server_read_only,
                "state": health.state,
                "last_error": health.last_error, "open_files": counters.open_files,
                "cache": {"used_bytes": blocks.used, "capacity_bytes": blocks.capacity,
                          "hits": blocks.hits, "misses": blocks.misses},
                "bytes_read": counters.bytes_read, "bytes_written": counters.bytes_written,
                "pending_uploads": spool.pending(), "spool": str(spool.folder), "started_at": started}

    def publish_now() -> None:
        try:
            write_status(status())
        except OSError as exc:
            log.warning("cannot write the drive status file: %s", exc)

    def publish() -> None:
        while True:
            publish_now()
            if stop.wait(1.0):
                return

    def probe() -> None:
        try:
            opened.source.list("")
            health.ok()
        except SourceUnavailable as exc:
            health.failed(exc.message)
        except Exception as exc:
            log.debug("probe failed: %s", exc)

    def watch() -> None:
        """Every second while the server is not up, and once per keepalive interval when
        it is (an idle mount's status must not say "up" for a server gone since),
        check it; keep idle pooled connections alive; when it is up again, and once per
        keepalive interval while it is up, upload what failed (a close that wrote
        nothing asks nothing of the server, and a server may fail STOR while it answers
        listings); never what it refused for good (spool.py)."""
        pool = getattr(opened.source, "pool", None)
        last_keepalive = time.monotonic()
        was_up = health.state == "up"
        while not stop.wait(1.0):
            due = time.monotonic() - last_keepalive >= s.keepalive_interval_seconds
            if opened.probe and (due or health.state != "up"):
                probe()
            if health.state == "up" and (not was_up or due) and not read_only:
                spool.retry_failed(stop.is_set)  # uploads that failed while it was away
            was_up = health.state == "up"
            if due:
                last_keepalive = time.monotonic()
                if pool is not None:
                    pool.keepalive(s.keepalive_interval_seconds)

    def recover() -> None:
        left = recover_spool(spool)
        if left:
            log.warning("%d upload(s) from an earlier mount still pending: %s", len(left), ", ".join(left))
        conflicts = spool.conflicts()
        for path, reply in spool.refused().items():
            if path in conflicts:
                log.warning("kept in the spool, not sent: %s", reply)
                continue
            if reply == manifest.INTERRUPTED:
                log.warning("kept in the spool, not sent: %r was being written when an earlier mount "
                            "ended without an unmount (`reelhouse drive spool retry` sends it as it is, "
                            "`discard` or rm on the mount drops it)", path)
                continue
            log.warning("kept in the spool, refused by the server at an earlier mount (not sent again "
                        "until written or moved, or `reelhouse drive spool retry`; rm on the mount or "
                        "`reelhouse drive spool discard` drops it): %r: %s", path, reply)

    write_status(status())
    threads = [_quiet_thread(publish, "drive-status"), _quiet_thread(watch, "drive-watch"),
               _quiet_thread(lambda: control.serve(control.SpoolActions(fs), stop, publish_now),
                             "drive-control")]
    if not read_only:
        threads.append(_quiet_thread(recover, "drive-recover"))
    left: list[str] = []
    refused: dict[str, str] = {}
    try:
        run(fs)
    finally:
        stop.set()
        left = _final_flush(fs, spool, read_only)
        refused, conflicts = spool.refused(), spool.conflicts()
        spool.close()
        blocks.close()
        for thread in threads:
            thread.join(timeout=2.0)
        remove_status()
        opened.close()
    pending = [path for path in left if path not in refused]
    if pending:
        log.warning("%d upload(s) failed and stay in the spool %s; they are retried on the "
                    "next mount: %s", len(pending), spool.folder, ", ".join(pending))
    if conflicts:
        log.warning("%d file(s) another client made on the server meanwhile stay in the spool %s as "
                    "conflicts, not sent over theirs (`reelhouse drive spool retry` sends them, "
                    "`discard` drops them): %s", len(conflicts), spool.folder, ", ".join(sorted(conflicts)))
    refused = {path: reply for path, reply in refused.items() if path not in conflicts}
    if refused:
        log.warning("%d upload(s) refused by the server stay in the spool %s, not sent again "
                    "(mount again and rm them to drop them, or write or move them): %s", len(refused),
                    spool.folder, ", ".join(refused))
    return left
