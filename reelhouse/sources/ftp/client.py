"""One FTP control connection: connect, TLS, login, MLSD/LIST, MLST/SIZE/MDTM, REST reads.

Built on :mod:`ftplib`; every ftplib/socket/ssl error is translated into the reelhouse
error tree as it leaves this module (:func:`~reelhouse.sources.ftp.replies.translate_error`).
Commands and replies follow RFC 959, REST/SIZE/MDTM/MLSD/MLST follow RFC 3659, AUTH TLS /
PROT P follow RFC 4217.
"""

from __future__ import annotations

import builtins
import ftplib
import functools
import logging
import posixpath
import re
import socket
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from reelhouse.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ReelhouseError,
    SourceUnavailable,
)
from reelhouse.sources.base import Entry, normalize_path
from reelhouse.sources.ftp import statlist
from reelhouse.sources.ftp.config import FtpConfig, TlsMode
from reelhouse.sources.ftp.limits import BoundedFTP, ListingBudget
from reelhouse.sources.ftp.listing import ListingEntry, parse_list_text, parse_mlsd_line, parse_mlsd_text
from reelhouse.sources.ftp.pipeline import PipeliningRefused, pipelined_listing, retr_all
from reelhouse.sources.ftp.replies import final_reply, translate_error, use_encoding
from reelhouse.sources.ftp.tls import SessionReusingTLS, tls_context

__all__ = ["FtpClient", "FtpConfig", "TlsMode", "translate_error"]  # config and replies re-exported

log = logging.getLogger(__name__)
_BAD_NAME = re.compile("[/\r\n]")  # a listed name with these cannot be a name in the folder


class FtpClient:
    """One logged-in control connection. Not thread-safe: the pool hands it to one user
    at a time. Raises reelhouse errors only."""

    def __init__(self, config: FtpConfig) -> None:
        self.config = config
        self.ftp: ftplib.FTP | None = None
        self.features: set[str] = set()
        self.last_used = time.monotonic()
        self.in_transfer = False
        self.home = "/"  # the login folder (PWD), learnt at connect
        self._binary = False  # ftplib's retrlines switches to TYPE A; RETR needs TYPE I
        self._list_cmd = "LIST -a" if config.list_hidden else "LIST"

    # -- connection -------------------------------------------------------------------
    def connect(self) -> None:
        """Connect, secure (per ``tls``), log in, switch to UTF-8 (or latin-1 for a
        server without UTF8 in FEAT) and binary mode. A PASV reply's address is not
        used: data connections go to the control host (ftplib's default, which covers
        servers behind NAT that announce a private address)."""
        cfg = self.config
        try:
            ftp: ftplib.FTP
            if cfg.tls == "none":
                ftp = BoundedFTP(timeout=cfg.connect_timeout)
            else:
                ctx = tls_context(cfg.verify_tls, cfg.trusted_cert)
                ftp = SessionReusingTLS(context=ctx, timeout=cfg.connect_timeout)
                ftp.implicit = cfg.tls == "implicit"
            ftp.encoding = "utf-8"
            self.ftp = ftp
            ftp.connect(cfg.host, cfg.port, timeout=cfg.connect_timeout)
            ftp.login(cfg.user, cfg.password)
            if isinstance(ftp, ftplib.FTP_TLS):
                ftp.prot_p()
            try:
                feat = ftp.sendcmd("FEAT")
                self.features = {
                    line.strip().split(" ")[0].upper() for line in feat.splitlines()[1:-1]
                }
            except ftplib.Error:
                self.features = set()
            if "MLST" in self.features:  # only the facts read (RFC 3659 §7.9): less for the server to do
                try:
                    ftp.sendcmd("OPTS MLST type;size;modify;")
                except ftplib.Error:
                    pass
            if "UTF8" in self.features:
                try:
                    ftp.sendcmd("OPTS UTF8 ON")
                except ftplib.Error:
                    pass
            else:
                # UTF-8 off (RFC 2640 §3.2: no UTF8 in FEAT): names are in the server's
                # own 8-bit encoding. latin-1 decodes any byte and encodes back to the
                # same byte, so every name lists, opens and round-trips unchanged.
                use_encoding(ftp, "latin-1")
            try:
                home = ftp.pwd()
                self.home = home if home.startswith("/") else "/"
            except ftplib.Error:
                self.home = "/"
            ftp.voidcmd("TYPE I")
            self._binary = True
            ftp.set_pasv(True)
            if ftp.sock is not None:
                ftp.sock.settimeout(cfg.read_timeout)
                ftp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            ftp.timeout = cfg.read_timeout
        except BaseException as exc:
            self.close()
            if not isinstance(exc, Exception):  # Ctrl-C, exit: not the server's failure
                raise
            raise translate_error(exc, f"connecting to {cfg.host}:{cfg.port}") from exc
        self.last_used = time.monotonic()

    def close(self) -> None:
        """Drop the connection without a goodbye (never raises)."""
        ftp, self.ftp = self.ftp, None
        if ftp is not None:
            try:
                ftp.close()
            except Exception:  # noqa: S110 - closing a broken socket must not fail
                pass

    def quit(self) -> None:
        """Say QUIT politely, then close (never raises)."""
        if self.ftp is not None:
            try:
                self.ftp.sock.settimeout(2.0)  # type: ignore[union-attr]
                self.ftp.quit()
            except Exception:  # noqa: S110
                pass
        self.close()

    @property
    def alive(self) -> bool:
        return self.ftp is not None

    def _ftp(self) -> ftplib.FTP:
        if self.ftp is None:
            raise SourceUnavailable("FTP connection is closed")
        return self.ftp

    def _abs(self, path: str) -> str:
        """The server path of a source-relative path (under the source's root).
        InvalidInput for CR or LF (they would end the FTP command, RFC 959 §4.1.3) and
        for a name the connection's encoding cannot carry (``€`` on a latin-1 server)."""
        if "\r" in path or "\n" in path:
            raise InvalidInput("an FTP path cannot contain CR or LF")
        encoding = self.ftp.encoding if self.ftp is not None else "utf-8"
        try:
            path.encode(encoding)
        except UnicodeEncodeError:
            raise InvalidInput(f"the FTP server's names are {encoding}: {path!r} cannot be sent") from None
        rel = normalize_path(path)
        root = self.config.root
        base = root if root.startswith("/") else posixpath.join(self.home, root)
        base = posixpath.normpath(base) if base not in ("", "/") else "/"
        return posixpath.join(base, rel) if rel else base

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            result = fn()
        except ftplib.error_perm as exc:
            # a permanent reply leaves the control connection in sync
            raise translate_error(exc, what) from exc
        except BaseException as exc:
            self.close()  # the connection state is unknown: never reuse it
            if not isinstance(exc, Exception):  # Ctrl-C, exit: never retried as a server failure
                raise
            raise translate_error(exc, what) from exc
        self.last_used = time.monotonic()
        return result

    def noop(self) -> None:
        """Check the connection (NOOP); raises SourceUnavailable if it is dead."""
        self._call("checking the connection", lambda: self._ftp().voidcmd("NOOP"))

    # -- listing -----------------------------------------------------------------------
    def list(self, path: str) -> list[Entry]:
        """Entries of a folder: MLSD (RFC 3659 §7) when offered, else LIST, over the
        control connection (:mod:`.statlist`) where the server is known to give the same."""
        rel = normalize_path(path)
        target = self._abs(rel)
        what = f"listing {rel or '/'!r}"
        budget = ListingBudget(self.config.max_listing_bytes, what)
        if "MLST" in self.features:
            raw: bytes = self._call(what, lambda: self._listing(f"MLSD {target}", budget))
            # a name not in the server's encoding (latin-1 bytes on a UTF-8 server) keeps
            # its bytes as lone surrogates (PEP 383), as os.listdir does: one such name
            # failed the whole listing; the scanner skips it by name (library/scanner.py)
            parsed = parse_mlsd_text(raw.decode(self._ftp().encoding, "surrogateescape"))
        else:
            parsed = self._call(what, lambda: self._list_unix(target, budget))
        prefix = f"{rel}/" if rel else ""
        return [Entry(e.name, prefix + e.name, e.is_dir, None if e.is_dir else e.size, e.mtime)
                for e in parsed if e.name not in ("", ".", "..") and _BAD_NAME.search(e.name) is None]

    def _list_unix(self, target: str, budget: ListingBudget) -> builtins.list[ListingEntry]:
        """LIST lines of ``target``: by STAT on a server known to agree with LIST, else by LIST
        after CWD (servers take a path's ``[ * ?`` as a pattern), and by STAT too while unknown."""
        ftp, now = self._ftp(), datetime.now(UTC)
        key = statlist.server_key(ftp, self.config.host, self.config.port, self._list_cmd)
        by_stat = None
        if statlist.tried(key):
            try:
                by_stat = statlist.stat_listing(ftp, target, ListingBudget(budget.limit, budget.what), now)
            except statlist.StatUnusable as exc:
                log.info("ftp %s:%s: %s; listing %r over a data connection", key[0], key[1], exc, target)
                if exc.server_wide:
                    statlist.forget(key)
                if exc.out_of_step:
                    self.close()
                    self.connect()
            if by_stat is not None and (entries := statlist.usable(key, by_stat)) is not None:
                return entries
        raw = self._list_raw(budget, target)
        parsed = parse_list_text(raw.decode(self._ftp().encoding, "surrogateescape"), now)
        if by_stat is not None:
            statlist.learn(key, by_stat, parsed)
        return parsed

    def _list_raw(self, budget: ListingBudget, cwd: str) -> bytes:
        """LIST of folder ``cwd``; ``LIST -a`` (dot files too) when asked, and plain
        LIST from then on if the server refuses the option (a 5xx reply). Raises
        ftplib's errors: the caller translates them."""
        try:
            return bytes(self._listing(self._list_cmd, budget, cwd=cwd))
        except ftplib.error_perm:
            if self._list_cmd == "LIST" or self.ftp is None:
                raise
        raw, self._list_cmd = bytes(self._listing("LIST", budget, cwd=cwd)), "LIST"
        return raw

    def _listing(self, cmd: str, budget: ListingBudget, cwd: str | None = None) -> bytes:
        """``cmd``'s listing (after ``CWD cwd``): pipelined on a plain connection
        (:mod:`.pipeline`: one round trip), else command by command."""
        ftp = self._ftp()
        try:
            raw = pipelined_listing(ftp, cmd, budget, cwd, (self.config.host, self.config.port))
        except PipeliningRefused:  # command by command from now on, on a fresh connection
            self.close()
            self.connect()
            ftp, raw = self._ftp(), None
        finally:
            if ftp.sock is None:  # closed: replies were in flight
                self.close()
        if raw is None:
            if cwd is not None:
                ftp.cwd(cwd)
            raw = retr_all(ftp, cmd, budget)
        return raw

    def stat(self, path: str) -> Entry:
        """One entry: MLST when offered, else SIZE + MDTM, else the parent's listing."""
        rel = normalize_path(path)
        if not rel:
            return Entry("", "", True)
        target = self._abs(rel)
        what = f"reading details of {rel!r}"
        if "MLST" in self.features:
            reply: str = self._call(what, lambda: self._ftp().sendcmd(f"MLST {target}"))
            for line in reply.splitlines()[1:-1]:
                item = parse_mlsd_line(line[1:] if line.startswith(" ") else line)
                if item is not None:
                    return Entry(rel.rsplit("/", 1)[-1], rel, item.is_dir, item.size, item.mtime)
        parent, _, name = rel.rpartition("/")
        for entry in self.list(parent):
            if entry.name == name:
                return entry
        raise NotFound(f"not found on the FTP server: {rel!r}")

    # -- reading -----------------------------------------------------------------------
    def start_retr(self, path: str, offset: int) -> socket.socket | None:
        """Open a data connection streaming ``path`` from byte ``offset`` (REST + RETR).

        The caller reads the socket, then calls :meth:`end_transfer`. Returns ``None``
        when the server says the offset is past the end of the file (554, RFC 3659 §5.5):
        there is nothing to read there.
        """
        if offset < 0:
            raise InvalidInput("offset must be >= 0")
        rel = normalize_path(path)
        target = self._abs(rel)
        rest = offset if offset else None
        def _open() -> tuple[socket.socket, int | None]:
            ftp = self._ftp()
            if not self._binary:
                ftp.voidcmd("TYPE I")
                self._binary = True
            return ftp.ntransfercmd(f"RETR {target}", rest)

        conn: socket.socket
        try:
            conn, _ = self._call(f"opening {rel!r} at byte {offset}", _open)
        except ReelhouseError as exc:
            cause = exc.__cause__
            if offset and isinstance(cause, ftplib.error_perm) and str(cause).startswith("554"):
                return None
            raise
        self.in_transfer = True
        conn.settimeout(self.config.read_timeout)
        return conn

    def _close_data(self, data: socket.socket, clean: bool) -> None:
        """Close a data connection (after a TLS close_notify when the transfer ended
        cleanly; a cut one is just closed) and leave the transfer state."""
        try:
            if isinstance(data, ssl.SSLSocket) and clean:
                try:
                    data.unwrap()
                except (OSError, ValueError):
                    pass
            data.close()
        except OSError:
            pass
        self.in_transfer = False

    def end_transfer(self, data: socket.socket, complete: bool) -> bool:
        """Close a data connection and read the server's final reply.

        ``complete`` says the whole file was read to EOF (expect 226); otherwise the
        transfer is cut short by closing the data connection, and the server's 426/451
        (or 226 if it had finished sending) is read with a 2 s limit. Returns whether the
        control connection is still in sync and reusable.
        """
        self._close_data(data, clean=complete)
        ftp = self.ftp
        if ftp is None or ftp.sock is None:
            return False
        try:
            ftp.sock.settimeout(self.config.read_timeout if complete else 2.0)
            resp = final_reply(ftp)
            if resp.startswith("1"):
                # pure-ftpd reports a transfer cut by the client with a 1xx statistics
                # line and nothing after it: prove the connection is in sync with NOOP.
                ftp.putcmd("NOOP")
                for _ in range(3):
                    resp = final_reply(ftp)
                    if resp.startswith("200"):
                        break
            ok = resp[:1] in ("2", "4")  # 226 done, or 426/450/451 cut: either way in sync
        except Exception:
            ok = False
        if ok:
            try:
                ftp.sock.settimeout(self.config.read_timeout)
            except OSError:
                ok = False
        if not ok:
            self.close()
        self.last_used = time.monotonic()
        return ok

    # -- writing -----------------------------------------------------------------------
    def size(self, path: str) -> int | None:
        """A file's size in bytes: ``SIZE`` (RFC 3659 §4) when the server has it, else
        the listing's value (servers without SIZE, or with SIZE refused in ASCII mode).
        Raises NotFound."""
        rel = normalize_path(path)
        if "SIZE" in self.features:
            def _size() -> int | None:
                ftp = self._ftp()
                if not self._binary:
                    ftp.voidcmd("TYPE I")
                    self._binary = True
                return ftp.size(self._abs(rel))
            try:
                value: int | None = self._call(f"reading the size of {rel!r}", _size)
                if value is not None:
                    return value
            except InvalidInput:
                pass  # 501/504: SIZE not usable here, fall back to the listing
        return self.stat(rel).size

    def start_stor(self, path: str, offset: int = 0, append: bool = False) -> socket.socket:
        """Open a data connection that writes ``path``: ``STOR`` from byte 0, ``APPE``
        (``append``: the file holds exactly ``offset`` bytes) or ``REST offset`` +
        ``STOR`` (RFC 3659 §5.3) to resume. The caller sends the bytes, then calls
        :meth:`end_upload`."""
        if offset < 0:
            raise InvalidInput("offset must be >= 0")
        rel = normalize_path(path)
        if not rel:
            raise InvalidInput("cannot write to the source root")
        target = self._abs(rel)
        cmd = f"APPE {target}" if offset and append else f"STOR {target}"
        rest = offset if offset and not append else None

        def _open() -> tuple[socket.socket, int | None]:
            ftp = self._ftp()
            if not self._binary:
                ftp.voidcmd("TYPE I")
                self._binary = True
            return ftp.ntransfercmd(cmd, rest)

        conn: socket.socket
        conn, _ = self._call(f"writing {rel!r} at byte {offset}", _open)
        self.in_transfer = True
        conn.settimeout(self.config.read_timeout)
        return conn

    def end_upload(self, data: socket.socket, what: str, failure: BaseException | None) -> None:
        """Close an upload's data connection and read the server's verdict.

        226/250 → done. A 4xx/5xx (552 storage full, 553 bad name, 451 …) raises its
        domain error, also when the data connection broke first (``failure``: the
        server often closes it and then says why). No reply → SourceUnavailable and
        the control connection is dropped."""
        self._close_data(data, clean=failure is None)
        ftp = self.ftp
        if ftp is None or ftp.sock is None:
            raise SourceUnavailable(f"FTP connection lost while {what}")
        try:
            ftp.sock.settimeout(self.config.read_timeout if failure is None else 5.0)
            resp = ftp.getresp()
        except (ftplib.error_temp, ftplib.error_perm) as exc:
            self.last_used = time.monotonic()  # an error reply: the connection is in sync
            raise translate_error(exc, what) from exc
        except BaseException as exc:
            self.close()
            if not isinstance(exc, Exception):
                raise
            raise translate_error(failure or exc, what) from exc
        try:
            ftp.sock.settimeout(self.config.read_timeout)
        except OSError:
            self.close()
        self.last_used = time.monotonic()
        if failure is not None:
            # the server says it stored what came; the client side broke
            raise translate_error(failure, what) from failure
        if not resp.startswith("2"):
            self.close()
            raise SourceUnavailable(f"unexpected FTP reply while {what}: {resp}")

    def mkdirs(self, path: str) -> None:
        """``MKD`` each missing folder of ``path`` in turn (mkdir -p). A folder that
        exists already is fine; a file in the way is Conflict."""
        rel = normalize_path(path)
        parts = rel.split("/") if rel else []
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            target = self._abs(sub)
            try:
                self._call(f"creating folder {sub!r}", functools.partial(self._mkd, target))
            except (NotFound, PermissionDenied, InvalidInput, Conflict) as exc:
                # 550/521 "exists" (or denied because it exists): check what is there
                try:
                    entry = self.stat(sub)
                except NotFound:
                    raise exc from None
                if not entry.is_dir:
                    raise Conflict(f"a file of that name exists already: {sub!r}") from exc

    def _mkd(self, target: str) -> str:
        return self._ftp().mkd(target)

    def rename(self, old: str, new: str) -> None:
        """``RNFR`` + ``RNTO`` (RFC 959 §4.1.3)."""
        src, dst = normalize_path(old), normalize_path(new)
        if not src or not dst:
            raise InvalidInput("cannot rename the source root")
        self._call(f"renaming {src!r} to {dst!r}",
                   lambda: self._ftp().rename(self._abs(src), self._abs(dst)))

    def set_mtime(self, path: str, mtime: float) -> None:
        """Set a file's modification time (seconds since the epoch) with ``MFMT``
        (draft-somers-ftp-mfxx). InvalidInput when the server has no MFMT."""
        if "MFMT" not in self.features:
            raise InvalidInput("the FTP server cannot set modification times (no MFMT)")
        rel = normalize_path(path)
        stamp = datetime.fromtimestamp(mtime, UTC).strftime("%Y%m%d%H%M%S")
        target = self._abs(rel)
        self._call(f"setting the time of {rel!r}", lambda: self._ftp().sendcmd(f"MFMT {stamp} {target}"))

    def delete(self, path: str) -> None:
        """``DELE`` a file, or ``RMD`` an empty folder."""
        rel = normalize_path(path)
        if not rel:
            raise InvalidInput("cannot delete the source root")
        target = self._abs(rel)
        try:
            self._call(f"deleting {rel!r}", lambda: self._ftp().delete(target))
        except (NotFound, PermissionDenied, InvalidInput) as exc:
            try:
                entry = self.stat(rel)
            except NotFound:
                raise exc from None
            if not entry.is_dir:
                raise
            self._call(f"deleting folder {rel!r}", lambda: self._ftp().rmd(target))

