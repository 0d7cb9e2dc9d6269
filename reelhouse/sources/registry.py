"""The source registry: configured sources. Create/update/remove rows, encrypt FTP
passwords, and build (and cache) the live :class:`Source` object for each row; playback,
transfers, jobs and the drive reach a source through it.

The one module of ``sources/`` that touches the database (it imports ``config`` and
``db``; the Source adapters beside it import only ``errors``).

FTP passwords are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key kept in
the data dir (``fernet.key``); they are never returned by :func:`public_view` nor logged.
"""

from __future__ import annotations

import base64
import builtins
import logging
import os
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.config import Settings
from reelhouse.db.limits import INT_MAX
from reelhouse.db.lookup import get_row
from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show, SourceRow
from reelhouse.errors import Conflict, InvalidInput, NotFound, PermissionDenied, ReelhouseError, SourceBusy
from reelhouse.sources.base import Source
from reelhouse.sources.ftp import FtpConfig, FtpSource
from reelhouse.sources.ftp.slots import SharedSlots
from reelhouse.sources.local import LocalSource

log = logging.getLogger(__name__)

__all__ = ["RemoteFactory", "SourceService", "SourceSpec"]

#: Builds the Source of a media-server source row (kind "jellyfin", later "plex"):
#: (row: its URL in ``path``, user in ``username``; the decrypted password; settings).
RemoteFactory = Callable[["SourceRow", str, Settings], Source]

_KINDS = ("local", "ftp")
_TLS = ("none", "explicit", "implicit")


@dataclass
class SourceSpec:
    """Fields of a source as given by a user (API body or CLI options)."""

    name: str | None = None
    kind: str | None = None
    path: str | None = None
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = None
    tls: str | None = None
    verify_tls: bool | None = None
    scan_interval: int | None = None  # minutes between scheduled rescans; 0: never
    tls_cert: str | None = None  # PEM text or a path to a PEM file; "" clears it


def read_certificate(value: str) -> str:
    """A trusted certificate given as PEM text or as the path of a PEM file: the PEM
    text of its first certificate. Raises InvalidInput."""
    text = value.strip()
    if "-----BEGIN" not in text:
        try:
            text = Path(text).expanduser().read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"tls_cert is neither PEM text nor a readable PEM file: {value[:80]!r}") from exc
    match = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", text, re.S)
    if match is None:
        raise InvalidInput("tls_cert holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    pem = match.group(0) + "\n"
    try:
        ssl.create_default_context(cadata=pem)
    except (ssl.SSLError, ValueError) as exc:
        raise InvalidInput(f"tls_cert is not a valid certificate: {exc}") from exc
    return pem


def _check_host(host: str) -> None:
    """An FTP host is a name or an address (IPv6 without brackets): a URL, ``host:port``
    or ``host/folder`` is refused with the fields to use, not stored to fail every scan
    later with "Name or service not known"."""
    if "://" in host or "/" in host:
        raise InvalidInput(f"host {host!r}: give the host name only; the folder goes in root (--root)")
    if re.fullmatch(r"[^:]+:\d*", host):
        raise InvalidInput(f"host {host!r}: give the port in port (--port), not after the host name")
    if re.search(r"[\s@]", host):
        raise InvalidInput(f"host {host!r} is no host name (no spaces; the user goes in username, --user)")


class SourceService:
    """Everything about configured sources; thread-safe."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session],
                 ftp_slots: SharedSlots | None = None) -> None:
        self.settings = settings
        self.sessions = sessions
        #: FTP connections counted over every process (Redis), shared by every FTP source
        self.ftp_slots = ftp_slots
        key = base64.urlsafe_b64encode(settings.secret("fernet", 32))
        self._fernet = Fernet(key)
        self._live: dict[int, tuple[tuple[Any, ...], Source]] = {}
        self._on_removed: builtins.list[Callable[[int], None]] = []
        self._on_removing: builtins.list[Callable[[int], object]] = []
        self._lock = threading.Lock()
        self._remote: dict[str, RemoteFactory] = {}

    def register_kind(self, kind: str, factory: RemoteFactory) -> None:
        """Add a media-server source kind (``jellyfin``): rows of that kind hold the
        server's URL in ``path``, a user and an encrypted password; ``factory`` builds
        their Source. The registry itself stays free of any server's protocol."""
        self._remote[kind] = factory

    # -- rows ------------------------------------------------------------------------
    def list(self) -> list[SourceRow]:
        with self.sessions() as s:
            return list(s.scalars(select(SourceRow).order_by(SourceRow.name)))

    def get(self, source_id: int) -> SourceRow:
        with self.sessions() as s:
            return get_row(s, SourceRow, source_id, "source")

    def check_writable(self, source_id: int) -> SourceRow:
        """The source's row if it takes changes (uploads, mkdir, rename, delete);
        raises NotFound, or PermissionDenied for a media-server source (a kind of
        :meth:`register_kind`, e.g. "jellyfin": a read-only catalogue), before anything
        is spooled or queued."""
        row = self.get(source_id)
        if row.kind in self._remote:
            raise PermissionDenied(f"a {row.kind} source is read-only")
        return row

    def find(self, ref: str) -> SourceRow:
        """A source by id or by name (for the CLI)."""
        with self.sessions() as s:
            # an id the database cannot hold (or "²", a digit int() refuses) names no row
            row = s.get(SourceRow, int(ref)) if ref.isascii() and ref.isdigit() and int(ref) <= INT_MAX else None
            row = row or s.scalar(select(SourceRow).where(SourceRow.name == ref))
            if row is None:
                raise NotFound(f"no source named {ref!r}")
            return row

    def _apply(self, row: SourceRow, spec: SourceSpec) -> None:
        if spec.name is not None:
            name = spec.name.strip()
            if not name or len(name) > 128:
                raise InvalidInput("name must be 1-128 characters")
            row.name = name
        if spec.kind is not None:
            if spec.kind not in (*_KINDS, *self._remote):
                raise InvalidInput(f"kind must be one of {', '.join((*_KINDS, *self._remote))}")
            row.kind = spec.kind
        if spec.path is not None:
            row.path = spec.path
        if spec.host is not None:
            row.host = spec.host.strip()
        if spec.port is not None:
            if not 0 < spec.port < 65536:
                raise InvalidInput("port must be 1-65535")
            row.port = spec.port
        if spec.username is not None:
            row.username = spec.username
        if spec.password is not None:
            row.password_enc = self._fernet.encrypt(spec.password.encode()) if spec.password else None
        if spec.tls is not None:
            if spec.tls not in _TLS:
                raise InvalidInput(f"tls must be one of {', '.join(_TLS)}")
            row.tls = spec.tls
        if spec.verify_tls is not None:
            row.verify_tls = spec.verify_tls
        if spec.scan_interval is not None:
            if spec.scan_interval < 0:
                raise InvalidInput("scan_interval is minutes, 0 or more (0: no scheduled rescans)")
            row.scan_interval = spec.scan_interval
        if spec.tls_cert is not None:
            row.tls_cert_pem = read_certificate(spec.tls_cert) if spec.tls_cert.strip() else None
        if row.kind == "local":
            if not row.path or not row.path.startswith("/"):
                raise InvalidInput("a local source needs an absolute folder path")
            if spec.path is not None and not os.path.isdir(row.path):
                raise InvalidInput(f"no such folder on this machine: {row.path}")
        elif row.kind in self._remote:
            url = (row.path or "").strip().rstrip("/")
            if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
                raise InvalidInput(f"a {row.kind} source needs the server's http:// or https:// address")
            if not row.username:
                raise InvalidInput(f"a {row.kind} source needs a user")
            row.path = url
        else:
            if not row.host:
                raise InvalidInput("an FTP source needs a host")
            _check_host(row.host)
            row.port = row.port or (990 if row.tls == "implicit" else 21)
            root = (row.path or "").strip()
            root = re.sub(r"/{2,}", "/", root)
            row.path = "/" + root.strip("/") if root.startswith("/") else root.strip("/")

    def create(self, spec: SourceSpec) -> SourceRow:
        """Add a source; raises InvalidInput or Conflict (name taken)."""
        if not spec.name or not spec.kind:
            raise InvalidInput("name and kind are required")
        row = SourceRow(tls="none", verify_tls=True, path="")
        self._apply(row, spec)
        return self._save(row)

    def update(self, source_id: int, spec: SourceSpec) -> SourceRow:
        """Change fields of a source (``None`` fields stay as they are)."""
        with self.sessions() as s:
            row = get_row(s, SourceRow, source_id, "source")
            s.expunge(row)
        self._apply(row, spec)
        saved = self._save(row, merge=True)
        self._drop_live(source_id)
        return saved

    def _save(self, row: SourceRow, merge: bool = False) -> SourceRow:
        name = row.name  # read before a failed flush expires the instance
        with self.sessions() as s:
            try:
                row = s.merge(row) if merge else row
                s.add(row)
                s.commit()
            except IntegrityError as exc:
                s.rollback()
                raise Conflict(f"a source named {name!r} exists already") from exc
            return row

    def remove(self, source_id: int) -> None:
        """Remove a source and its files from the library (the user asked for it); the
        :meth:`on_removing` hooks run first, the :meth:`on_removed` ones after."""
        with self.sessions() as s:
            get_row(s, SourceRow, source_id, "source")
        for early in builtins.list(self._on_removing):
            try:
                early(source_id)
            except Exception:  # a hook's failure must not undo or fail the removal
                log.exception("a hook on removing source %d failed", source_id)
        with self.sessions() as s:
            row = get_row(s, SourceRow, source_id, "source")
            s.execute(delete(MediaFile).where(MediaFile.source_id == source_id))
            s.delete(row)
            s.flush()
            prune_orphans(s)
            s.commit()
        for hook in list(self._on_removed):
            try:
                hook(source_id)
            except Exception:  # a hook's failure must not undo or fail the removal
                log.exception("stopping the streams of removed source %d failed", source_id)
        self._drop_live(source_id)  # closes its FTP pool

    def on_removing(self, hook: Callable[[int], object]) -> None:
        """Call ``hook(source_id)`` when a source is about to be removed, while the rows
        that name it still do: the transfer queue cancels its transfers (their rows go
        with the source)."""
        self._on_removing.append(hook)

    def on_removed(self, hook: Callable[[int], None]) -> None:
        """Call ``hook(source_id)`` after a source is removed, before its live Source
        (its FTP pool) is closed: playback cuts the streams still open from it."""
        self._on_removed.append(hook)

    # -- live sources ----------------------------------------------------------------
    def password(self, row: SourceRow) -> str:
        if not row.password_enc:
            return ""
        try:
            return self._fernet.decrypt(row.password_enc).decode()
        except InvalidToken as exc:
            raise InvalidInput(
                f"the stored password of source {row.name!r} cannot be decrypted "
                "(was fernet.key replaced?); set it again"
            ) from exc

    def build(self, row: SourceRow) -> Source:
        """A fresh Source object for ``row`` (not cached)."""
        if row.kind == "local":
            return LocalSource(row.path)
        if row.kind in self._remote:
            return self._remote[row.kind](row, self.password(row), self.settings)
        cfg = FtpConfig(
            host=row.host or "",
            port=row.port or 21,
            user=row.username or "anonymous",
            password=self.password(row),
            tls=row.tls,  # type: ignore[arg-type]
            root=row.path or "",  # the login folder (FtpConfig): "/" is the whole disk on vsftpd
            verify_tls=row.verify_tls,
            trusted_cert=row.tls_cert_pem,
            connect_timeout=self.settings.ftp_connect_timeout,
            read_timeout=self.settings.ftp_read_timeout,
            pool_size=self.settings.ftp_pool_size,
            max_listing_bytes=self.settings.ftp_listing_limit,
            max_skip=self.settings.ftp_max_skip,
            user_limit=self.settings.ftp_user_connections,
            user_waiters=self.settings.ftp_user_waiters,
        )
        return FtpSource(cfg, shared=self.ftp_slots)

    def live(self, source_id: int) -> Source | None:
        """The shared live Source if one is built already (no I/O: safe on the event
        loop). Sources changed through this service are rebuilt on next use."""
        with self._lock:
            cached = self._live.get(source_id)
        return cached[1] if cached is not None else None

    def live_sources(self) -> builtins.list[tuple[int, Source]]:
        """The live Sources built so far, by source id (for metrics)."""
        with self._lock:
            return [(sid, entry[1]) for sid, entry in self._live.items()]

    def source(self, source_id: int) -> Source:
        """The shared live Source for a row (its FTP pool is reused across requests)."""
        row = self.get(source_id)
        ident: tuple[Any, ...] = (row.kind, row.path, row.host, row.port, row.username,
                                  row.password_enc, row.tls, row.verify_tls)
        if row.tls_cert_pem:  # only when set: the tuple's shape stays as before otherwise
            ident += (row.tls_cert_pem,)
        with self._lock:
            cached = self._live.get(source_id)
            if cached is not None and cached[0] == ident:
                return cached[1]
        built = self.build(row)
        with self._lock:
            old = self._live.get(source_id)
            if old is not None and old[0] == ident:  # another thread built it meanwhile
                shared = old[1]
            else:
                self._live[source_id] = (ident, built)
                shared = built
        if shared is not built:  # never close one that another thread already uses
            built.close()
        elif old is not None:
            old[1].close()
        return shared

    def health(self, source_id: int) -> dict[str, Any]:
        """Check a source now through its shared live Source (an FTP server's pool).

        Returns ``{"state": "up" | "degraded" | "down", "latency_ms", "error",
        "pool"}``: down when listing the root fails (also when the root folder is
        missing: that NotFound is the source's state, not a 404), degraded when it took over 2 s or
        every pooled connection is busy. Never waits for a pooled connection (a check
        must answer while streams hold them all): then it reports degraded at once.
        """
        start = time.perf_counter()
        error: str | None = None
        self.get(source_id)  # NotFound: no such source (a 404), unlike a NotFound below
        try:
            src = self.source(source_id)
            getattr(src, "list_now", src.list)("")
        except SourceBusy:
            pool = getattr(self.live(source_id), "pool", None)
            return {"state": "degraded", "latency_ms": None, "error": None,
                    "pool": pool.stats if pool is not None else None}
        except ReelhouseError as exc:  # a NotFound here: the source's root folder is missing
            error = exc.message
            src = self.live(source_id)  # type: ignore[assignment]
        latency = round((time.perf_counter() - start) * 1000, 1)
        pool = getattr(src, "pool", None)
        stats = pool.stats if pool is not None else None
        state = "down" if error else "up"
        if state == "up" and (latency > 2000 or (stats and stats["in_use"] >= stats["size"])):
            state = "degraded"
        return {"state": state, "latency_ms": None if error else latency, "error": error,
                "pool": stats}

    def _drop_live(self, source_id: int) -> None:
        with self._lock:
            old = self._live.pop(source_id, None)
        if old is not None:
            old[1].close()

    def close(self) -> None:
        with self._lock:
            live, self._live = list(self._live.values()), {}
        for _, src in live:
            src.close()


def prune_orphans(s: Session) -> None:
    """Delete movies, episodes, seasons and shows that no file points at any more."""
    s.execute(delete(Movie).where(~Movie.files.any()))
    s.execute(delete(Episode).where(~Episode.files.any()))
    s.execute(delete(Season).where(~Season.episodes.any()))
    s.execute(delete(Show).where(~Show.seasons.any(), ~Show.extras.any()))
