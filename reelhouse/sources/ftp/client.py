"""An FTP client: one control connection (:mod:`.connection`) that lists (:mod:`.lister`),
reads (REST + RETR: :mod:`.retrieval`), writes (STOR/APPE) and edits the tree (MKD,
RNFR/RNTO, MFMT, DELE, RMD).

Every ftplib/socket/ssl error is translated into the reelhouse error tree as it leaves
this module (:func:`~reelhouse.sources.ftp.replies.translate_error`). Commands and
replies follow RFC 959, REST/SIZE/MDTM follow RFC 3659, PROT P follows RFC 4217.
"""

from __future__ import annotations

import ftplib
import functools
import logging
import socket
import time
from datetime import UTC, datetime

from reelhouse.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SourceUnavailable,
    SourceUnreachable,
    StorageFull,
)
from reelhouse.sources.base import Entry, Listing, normalize_path
from reelhouse.sources.ftp.config import FtpConfig, TlsMode
from reelhouse.sources.ftp.receive import Opened, open_upload
from reelhouse.sources.ftp.replies import final_reply, translate_error
from reelhouse.sources.ftp.retrieval import Retrieval, TransferEnd

__all__ = ["FtpClient", "FtpConfig", "TlsMode", "TransferEnd", "translate_error"]  # re-exported

log = logging.getLogger(__name__)

#: Links whose SIZE and MDTM go in one write: their 100 replies (~30 bytes each) fit the
#: server's socket buffer, so it never blocks writing them while this writes commands.
_LINK_BATCH = 50


def _mdtm_time(reply: str) -> float | None:
    """Seconds since the epoch of an ``MDTM`` reply (``213 YYYYMMDDHHMMSS[.sss]``, UTC:
    RFC 3659 §3), or None for any other reply."""
    code, _, stamp = reply.partition(" ")
    if code != "213":
        return None
    try:
        whole, _, frac = stamp.strip().partition(".")
        when = datetime.strptime(whole, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        return when.timestamp() + (float(f"0.{frac}") if frac.isdigit() else 0.0)
    except ValueError:
        return None


class FtpClient(Retrieval):
    """One logged-in control connection that lists, reads and writes. Not thread-safe:
    the pool hands it to one user at a time. Raises reelhouse errors only."""

    # -- writing -----------------------------------------------------------------------
    def size(self, path: str) -> int | None:
        """A file's size in bytes: ``SIZE`` (RFC 3659 §4) when the server has it, else
        the listing's value (servers without SIZE, or with SIZE refused in ASCII mode).
        Raises NotFound."""
        rel = normalize_path(path)
        # a name the server's encoding lacks is InvalidInput here, before any command: inside
        # the call it closed the connection and was taken for a refused SIZE, and the listing
        # that followed failed as "connection is closed" (a 503 for a bad name)
        target = self._abs(rel)
        if "SIZE" in self.features:
            try:
                value: int | None = self._call(f"reading the size of {rel!r}", lambda: self._size(target))
                if value is not None:
                    return value
            except InvalidInput:
                pass  # 501/504: SIZE not usable here, fall back to the listing
        return self.stat(rel).size

    def sizes(self, paths: list[str]) -> dict[str, int | None]:
        """The sizes in bytes of several files in one round trip: their ``SIZE``
        commands (RFC 3659 §4) written at once, the replies read in order (RFC 959 §4.2
        has a server answer commands in the order they came; servers read a stream:
        :mod:`.pipeline`). A path the server has no file of is left out; None where it
        tells no size. Without SIZE, or where it refuses SIZE (501/504), one by one
        (:meth:`size`). Raises what :meth:`size` raises, but NotFound; a reply out of
        place (4xx, a lost connection) closes the connection."""
        rels = [normalize_path(p) for p in paths]
        targets = [self._abs(rel) for rel in rels]
        out: dict[str, int | None] = {}
        if "SIZE" not in self.features or len(rels) < 2:
            replies: list[str | ftplib.error_perm | None] = [None] * len(rels)
        else:
            replies = self._call(f"reading the sizes of {rels[0]!r} and others", lambda: self._sizes(targets))
        for path, rel, reply in zip(paths, rels, replies, strict=True):
            if isinstance(reply, str):
                out[path] = int(reply[3:].strip()) if reply[:3] == "213" else None
                continue
            if reply is not None:
                error = translate_error(reply, f"reading the size of {rel!r}")
                if isinstance(error, NotFound):
                    continue
                if not isinstance(error, InvalidInput):
                    raise error
            try:
                out[path] = self.size(rel)  # no SIZE here: the listing's
            except NotFound:
                continue
        return out

    def _sizes(self, targets: list[str]) -> list[str | ftplib.error_perm | None]:
        ftp = self._binary_ftp()
        for target in targets:
            ftp.putcmd(f"SIZE {target}")
        replies: list[str | ftplib.error_perm | None] = []
        for _ in targets:
            try:
                replies.append(ftp.getresp())
            except ftplib.error_perm as exc:  # this one's answer; the next still comes
                replies.append(exc)
        return replies

    def _size(self, target: str) -> int | None:
        ftp = self._binary_ftp()
        return ftp.size(target)

    def resolve_links(self, entries: list[Entry]) -> list[Entry]:
        """``entries`` with each symbolic link (:attr:`Entry.link`, listed with the link's
        own size) as the file it leads to: ``SIZE`` and ``MDTM`` follow links (pure-ftpd,
        vsftpd), so its size and time become the target's, as a download and a stream
        see them. A link ``SIZE`` refuses (550) is a link to a folder when a ``CWD`` to
        it is taken (vsftpd: "Could not get file size.", pure-ftpd: "I can only retrieve
        regular files"): it lists as a folder (``is_dir``, ``link``; a walk goes into it
        with :mod:`reelhouse.sources.linkwalk`'s rules against loops); else (dangling,
        out of the server's chroot) it is left out: no listing, read or download of it
        would work. A server without ``SIZE`` keeps its entries as listed. The commands
        of up to :data:`_LINK_BATCH` links go in one write (RFC 959 §4.2: replies come in
        order), one round trip per batch, not two per link. Raises what the connection
        raises (SourceUnavailable …)."""
        if "SIZE" not in self.features or not any(e.link and not e.is_dir for e in entries):
            return entries
        links = [e for e in entries if e.link and not e.is_dir]
        mdtm = "MDTM" in self.features
        found: dict[str, tuple[int, float | None] | None] = {}
        for i in range(0, len(links), _LINK_BATCH):
            batch = links[i:i + _LINK_BATCH]
            targets = [self._abs(e.path) for e in batch]
            replies: list[str] = self._call("reading what links lead to", lambda: self._ask_links(targets, mdtm))  # noqa: B023
            per = 2 if mdtm else 1
            for k, e in enumerate(batch):
                size_reply = replies[k * per]
                if not size_reply.startswith("213 ") or not size_reply[4:].strip().isdigit():
                    found[e.path] = None
                    continue
                mtime = _mdtm_time(replies[k * per + 1]) if mdtm else None
                found[e.path] = (int(size_reply[4:].strip()), mtime)
        unread = [e for e in links if found.get(e.path) is None]
        folders: set[str] = set()
        for i in range(0, len(unread), _LINK_BATCH):
            batch = unread[i:i + _LINK_BATCH]
            targets = [self._abs(e.path) for e in batch]
            cwd: list[str] = self._call("reading what links lead to", lambda: self._ask_folders(targets))  # noqa: B023
            folders.update(e.path for e, reply in zip(batch, cwd, strict=True) if reply.startswith("2"))
        out: list[Entry] = []
        for e in entries:
            if not e.link or e.is_dir:
                out.append(e)
            elif e.path in folders:
                out.append(Entry(e.name, e.path, True, None, e.mtime, True))
            elif (got := found.get(e.path)) is None:
                log.info("ftp %s: %r is a link to no file the server reads; left out", self.config.host, e.path)
            else:
                out.append(Entry(e.name, e.path, False, got[0], e.mtime if got[1] is None else got[1], True))
        return Listing(out, entries.unread) if isinstance(entries, Listing) else out

    def _ask_links(self, targets: list[str], mdtm: bool) -> list[str]:
        """``SIZE`` (and ``MDTM``) of each of ``targets`` written at once; their replies'
        texts in order, whatever their codes."""
        ftp = self._binary_ftp()
        commands = [c for t in targets for c in ((f"SIZE {t}", f"MDTM {t}") if mdtm else (f"SIZE {t}",))]
        assert ftp.sock is not None
        ftp.sock.sendall("".join(f"{c}\r\n" for c in commands).encode(ftp.encoding, "surrogateescape"))
        return [final_reply(ftp) for _ in commands]

    def _ask_folders(self, targets: list[str]) -> list[str]:
        """``CWD`` to each of ``targets`` written at once; their replies' texts in order
        (2xx: a folder). Leaves the connection in the last folder entered (every command
        of this class names absolute paths)."""
        ftp = self._ftp()
        assert ftp.sock is not None
        ftp.sock.sendall("".join(f"CWD {t}\r\n" for t in targets).encode(ftp.encoding, "surrogateescape"))
        return [final_reply(ftp) for _ in targets]

    def exact_mtime(self, path: str) -> float | None:
        """A file's modification time to the second (seconds since the epoch): ``MDTM``
        (RFC 3659 §3), whose ``YYYYMMDDHHMMSS[.sss]`` is UTC; None when the server has
        no MDTM or refuses it (LIST gives only minutes, or days for old files)."""
        if "MDTM" not in self.features:
            return None
        rel = normalize_path(path)
        target = self._abs(rel)
        try:
            reply: str = self._call(f"reading the time of {rel!r}",
                                    lambda: self._ftp().sendcmd(f"MDTM {target}"))
        except (InvalidInput, NotFound, PermissionDenied):
            return None
        return _mdtm_time(reply)

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

        opened: Opened = self._call(f"writing {rel!r} at byte {offset}",
                                    lambda: open_upload(self._binary_ftp(), cmd, rest))  # no 1xx: :mod:`.receive`
        return self._in_transfer(opened.conn, None, opened.preliminary_due)

    def end_upload(self, data: socket.socket, what: str, failure: BaseException | None) -> None:
        """Close an upload's data connection and read the server's verdict.

        226/250 → done. A 4xx/5xx (552 storage full, 553 bad name, 451 …) raises its
        domain error (a 451 about writing, pure-ftpd's and vsftpd's answer to ENOSPC:
        StorageFull), also when the data connection broke first (``failure``: the
        server often closes it and then says why). No reply → SourceUnavailable and
        the control connection is dropped."""
        due = self.preliminary_due
        self._close_data(data, clean=failure is None)
        ftp = self.ftp
        if ftp is None or ftp.sock is None:
            raise SourceUnreachable(f"FTP connection lost while {what}")
        try:
            ftp.sock.settimeout(self.config.read_timeout if failure is None else 5.0)
            resp = ftp.getresp()
            if due and resp[:1] == "1":  # not awaited (a server that skips it): the final is next
                resp = ftp.getresp()
        except (ftplib.error_temp, ftplib.error_perm) as exc:
            self.last_used = time.monotonic()  # an error reply: the connection is in sync
            text = str(exc)
            if text.startswith("451") and "writ" in text.lower():
                # pure-ftpd ("Error during write to file") and vsftpd ("Failure writing
                # to local file.") answer a full disk (ENOSPC) with 451, not 452/552
                raise StorageFull(f"FTP server could not store the file while {what} "
                                  f"(its disk is likely full): {text}") from exc
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
        if dst.startswith(src + "/"):  # servers answer it as they like (pure-ftpd: 451)
            raise InvalidInput(f"cannot move {src!r} into itself ({dst!r})")
        old_target, new_target = self._abs(src), self._abs(dst)  # InvalidInput before any command
        self._call(f"renaming {src!r} to {dst!r}", lambda: self._ftp().rename(old_target, new_target))

    def set_mtime(self, path: str, mtime: float) -> None:
        """Set a file's modification time (seconds since the epoch, UTC on the wire) with
        ``MFMT`` (draft-somers-ftp-mfxx), else with the two-argument ``MDTM stamp
        path`` that vsftpd takes (``mdtm_write``, on by default; it has no MFMT).
        InvalidInput when the server can do neither (a server that reads that MDTM as
        a query of a file named "stamp path" answers 550, or not a 213)."""
        rel = normalize_path(path)
        stamp = datetime.fromtimestamp(mtime, UTC).strftime("%Y%m%d%H%M%S")
        target = self._abs(rel)
        what = f"setting the time of {rel!r}"
        if "MFMT" in self.features:
            self._call(what, lambda: self._ftp().sendcmd(f"MFMT {stamp} {target}"))
            return
        try:
            reply = self._call(what, lambda: self._ftp().sendcmd(f"MDTM {stamp} {target}"))
        except (NotFound, InvalidInput, PermissionDenied) as exc:
            raise InvalidInput(f"the FTP server cannot set modification times (no MFMT; {exc.message})") from exc
        if not str(reply).startswith("213"):
            raise InvalidInput(f"the FTP server cannot set modification times (no MFMT; MDTM: {reply})")

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

