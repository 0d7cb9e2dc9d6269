"""Folder listings and entry details on one FTP control connection: MLSD (RFC 3659 §7)
when offered, else LIST, over the control connection (:mod:`.statlist`) where the server
is known to give the same (in a walk, MLSD servers too: STAT learnt against MLSD);
a whole sub-tree by one ``LIST -R`` on pure-ftpd for a walk
(:mod:`.treelist`); MLST, else the parent's listing, for one entry.

Parsing: :mod:`.listing_text` (a whole listing in one pass, straight into
:class:`~reelhouse.sources.base.Entry`); transport: :mod:`.pipeline` (one write per
folder) and :mod:`.statlist`.
"""

from __future__ import annotations

import builtins
import ftplib
import logging
from datetime import UTC, datetime

from reelhouse.errors import InvalidInput, NotFound, PermissionDenied, ReelhouseError
from reelhouse.sources.base import Entry, Listing, normalize_path
from reelhouse.sources.ftp import statlist, treelist
from reelhouse.sources.ftp.config import FtpConfig
from reelhouse.sources.ftp.connection import MLST_FACTS, FtpConnection
from reelhouse.sources.ftp.limits import ListingBudget
from reelhouse.sources.ftp.listing import parse_mlsd_line
from reelhouse.sources.ftp.listing_text import list_entries, mlsd_entries
from reelhouse.sources.ftp.pipeline import (
    CwdRefused,
    PipeliningRefused,
    pipelined_listing,
    pipelined_transfer,
    retr_all,
    transfer_all,
)
from reelhouse.sources.ftp.replies import empty_folder_reply, pwd_path, translate_error

__all__ = ["FtpLister"]

log = logging.getLogger(__name__)

#: Greetings of servers whose ``PWD`` names the folder a ``CWD`` reached with links
#: resolved, as getcwd(3) does: vsftpd (postlogin.c ``handle_pwd`` →
#: ``vsf_sysutil_getcwd``; its default banner is ``220 (vsFTPd 3.0.3)``) and pure-ftpd
#: (``Welcome to Pure-FTPd``; measured: ``CWD Films/Shows`` to a link to ``../Shows``
#: gives ``257 "/Shows"``). Elsewhere (pyftpdlib, ProFTPD) PWD repeats the path as
#: given, links and all: no word on what it leads to (:meth:`FtpLister.folder_place`).
PWD_RESOLVES = ("(vsFTPd ", "Welcome to Pure-FTPd")

#: Most bytes of commands :meth:`FtpLister.list_many` writes at once (Linux gives a TCP
#: socket 16 KiB of send buffer at least, and the server's receive buffer takes more).
_BATCH_BYTES = 16 * 1024


def _listing(entries: builtins.list[Entry], unread: builtins.list[str]) -> builtins.list[Entry]:
    """``entries``, as a :class:`~reelhouse.sources.base.Listing` naming the ``unread``
    lines of their listing when there are any."""
    return Listing(entries, unread) if unread else entries


class FtpLister(FtpConnection):
    """A control connection that lists folders and reads entries' details."""

    def __init__(self, config: FtpConfig) -> None:
        super().__init__(config)
        self._list_cmd = "LIST -a" if config.list_hidden else "LIST"

    # -- listing -----------------------------------------------------------------------
    def list(self, path: str) -> list[Entry]:
        """Entries of a folder: MLSD (RFC 3659 §7) when offered, else LIST, over the
        control connection (:mod:`.statlist`) where the server is known to give the same."""
        rel = normalize_path(path)
        target = self._abs(rel)
        what = f"listing {rel or '/'!r}"
        budget = ListingBudget(self.config.max_listing_bytes, what)
        prefix = f"{rel}/" if rel else ""
        if "MLST" in self.features:
            raw: bytes = self._call(what, lambda: self._listing(f"MLSD {target}", budget))
            # a name not in the server's encoding (latin-1 bytes on a UTF-8 server) keeps
            # its bytes as lone surrogates (PEP 383), as os.listdir does: one such name
            # failed the whole listing; the scanner skips it by name (library/scanner.py)
            unread: builtins.list[str] = []
            return _listing(mlsd_entries(raw.decode(self._ftp().encoding, "surrogateescape"), prefix, unread),
                            unread)
        entries: builtins.list[Entry] = self._call(what, lambda: self._list_unix(target, budget, prefix))
        return entries

    def list_many(self, paths: builtins.list[str], tree: dict[str, builtins.list[Entry] | None] | None = None,
                  ) -> builtins.list[builtins.list[Entry] | ReelhouseError]:
        """Listings of ``paths``, in order, each its entries or its error (NotFound …):
        on a server known to list by STAT as by LIST (:func:`.statlist.trusted`), all in one
        write (:func:`.statlist.stat_texts`: one round trip, one recv per ~64 KiB); else
        the first only. Returns the listings of a leading part of ``paths``, at least
        the first (else raises as :meth:`list`): the caller lists the rest later, one
        by one if need be (a folder STAT cannot be trusted with goes its own way).
        ``tree``: on pure-ftpd (:mod:`.treelist`) the first folder is listed with all
        the folders under it in one ``LIST -R``, and ``tree`` gets the listings of the
        folders under it (by path) that the caller has not asked for yet (None: list
        that one alone, :meth:`list`)."""
        ftp = self._ftp()
        mlsd = "MLST" in self.features
        key = statlist.server_key(ftp, self.config.host, self.config.port, "MLSD" if mlsd else self._list_cmd)
        if tree is not None and treelist.tried(key):
            rel = normalize_path(paths[0])
            listed = self._list_tree(ftp, key, rel)
            if listed is not None:
                first = listed.pop(rel, None)
                tree.update(listed)
                if first is not None:
                    return [first]
            if not self.alive:
                self.connect()
            return [self.list(paths[0])]
        if mlsd and statlist.tried(key) and not statlist.trusted(key):
            return [self._learn_mlsd(ftp, key, paths[0])]
        if (len(paths) == 1 and not mlsd) or not statlist.trusted(key):
            return [self.list(paths[0])]
        rels: builtins.list[str] = []
        targets: builtins.list[str] = []
        size = 0
        for path in paths:
            try:
                rel = normalize_path(path)
                target = self._abs(rel)
            except InvalidInput:
                if not rels:
                    raise
                break  # that folder's own error, when it is listed alone
            # the commands of one write fit the socket buffers: no deadlock with a server
            # blocked writing replies that are not read yet (4 bytes a character at most)
            size += 4 * len(target) + 22
            if rels and size > _BATCH_BYTES:
                break
            rels.append(rel)
            targets.append(target)
        what = (f"listing {rels[0] or '/'!r}" if len(rels) == 1
                else f"listing {len(rels)} folders from {rels[0] or '/'!r}")
        budget = ListingBudget(self.config.max_listing_bytes * len(rels), what)
        texts: builtins.list[str | ftplib.Error] | None = self._call(
            what, lambda: self._stat_texts(ftp, key, targets, budget))
        out: builtins.list[builtins.list[Entry] | ReelhouseError] = []
        now = datetime.now(UTC)
        for rel, text in zip(rels, texts or (), strict=False):
            if isinstance(text, ftplib.Error):
                out.append(translate_error(text, f"listing {rel!r}"))
                continue
            try:
                entries = statlist.usable(key, statlist.checked_entries(text, now, f"{rel}/" if rel else ""))
            except statlist.StatUnusable:
                entries = None
            if mlsd and entries is not None and not statlist.plain_lines(text):
                entries = None
            if entries is None:  # this one goes its own way (a data connection, learning dot names)
                break
            out.append(entries)
        if out:
            return out
        if not self.alive:
            self.connect()
        if mlsd and texts:  # its STAT listing could not be used: MLSD, and learn dot names from it
            return [self._learn_mlsd(self._ftp(), key, paths[0])]
        return [self.list(paths[0])]

    def _learn_mlsd(self, ftp: ftplib.FTP, key: statlist.Key, path: str) -> builtins.list[Entry]:
        """Folder ``path`` by MLSD and by STAT (:func:`.statlist.learn` with ``coarse``):
        STAT's entries when the server is (now) known to give MLSD's, cut to its
        precision, so a walk gives every folder's times alike; else MLSD's."""
        exact = self.list(path)
        if isinstance(exact, Listing):  # lines MLSD could not read: noted, which STAT's would not be
            return exact
        rel = normalize_path(path)
        try:
            text = statlist.stat_text(self._ftp(), self._abs(rel), ListingBudget(self.config.max_listing_bytes,
                                                                                   f"listing {rel or '/'!r}"))
            if not statlist.plain_lines(text):
                return exact
            by_stat = statlist.checked_entries(text, datetime.now(UTC), f"{rel}/" if rel else "")
        except statlist.StatUnusable as exc:
            self._stat_unusable(key, exc, rel, "by MLSD")
            return exact
        except (ftplib.Error, OSError, EOFError, ReelhouseError) as exc:
            log.info("ftp %s:%s: STAT of %r failed (%s); listing by MLSD", key[0], key[1], rel, exc)
            if ftp.sock is None or not isinstance(exc, ftplib.Error):
                self.close()
            return exact
        statlist.learn(key, by_stat, exact, coarse=True)
        got = statlist.usable(key, by_stat)
        return exact if got is None else got

    def _list_tree(self, ftp: ftplib.FTP, key: statlist.Key, rel: str,
                   ) -> dict[str, builtins.list[Entry] | None] | None:
        """The whole listings of folder ``rel`` and the folders under it by one ``CWD`` +
        ``LIST -aR`` (:mod:`.treelist`; ``-a``: dot files, as pure-ftpd's MLSD shows
        them), or None: an error (the folder's own listing says which) or a reply that
        cannot be trusted (the connection is closed if it is out of step)."""
        what = f"listing the folders under {rel or '/'!r}"
        budget = ListingBudget(self.config.max_listing_bytes, what)
        now = datetime.now(UTC)
        try:
            target = self._abs(rel)
            got = self._call(what, lambda: self._tree_raw(ftp, target, budget))
        except (PipeliningRefused, ReelhouseError) as exc:  # the folder's own listing says what is wrong
            log.info("ftp %s:%s: %s; %s folder by folder", key[0], key[1], exc, what)
            if ftp.sock is None:
                self.close()
            return None
        try:
            return treelist.parse_tree(got[0].decode(ftp.encoding, "surrogateescape"), got[1], now, rel)
        except treelist.TreeUnusable as exc:
            log.info("ftp %s:%s: %s; %s folder by folder", key[0], key[1], exc, what)
            if exc.server_wide:
                treelist.forget(key)
            return None

    def _tree_raw(self, ftp: ftplib.FTP, target: str, budget: ListingBudget) -> tuple[bytes, str]:
        """``LIST -aR`` of folder ``target``: its bytes and final reply. ``CWD`` first,
        alone: pipelined with it, a refused CWD would leave pure-ftpd listing the folder
        before, and the whole tree under it, for nothing (:mod:`.pipeline` ends that
        listing, but only once the server has made it); then ``PASV`` and ``LIST`` in
        one write where the connection can."""
        ftp.cwd(target)
        got = pipelined_transfer(ftp, "LIST -aR", budget, None, (self.config.host, self.config.port))
        return got if got is not None else transfer_all(ftp, "LIST -aR", budget)

    def _stat_texts(self, ftp: ftplib.FTP, key: statlist.Key, targets: builtins.list[str],
                    budget: ListingBudget) -> builtins.list[str | ftplib.Error] | None:
        try:
            return statlist.stat_texts(ftp, key, targets, budget)
        except statlist.StatUnusable as exc:
            log.info("ftp %s:%s: %s; listing %r over a data connection", key[0], key[1], exc, targets[0])
            return None
        finally:
            if ftp.sock is None:  # out of step: closed
                self.close()

    def _stat_unusable(self, key: statlist.Key, exc: statlist.StatUnusable, path: str, how: str) -> bool:
        """Act on a STAT listing of ``path`` that cannot be used (``how``: how the folder
        is listed instead, for the log): a ``server_wide`` one forgets STAT for this
        server, an ``out_of_step`` one closes the connection. True when it closed it."""
        log.info("ftp %s:%s: %s; listing %r %s", key[0], key[1], exc, path, how)
        if exc.server_wide:
            statlist.forget(key)
        if exc.out_of_step:
            self.close()
        return exc.out_of_step

    def _list_unix(self, target: str, budget: ListingBudget, prefix: str) -> builtins.list[Entry]:
        """The entries of folder ``target`` (paths start with ``prefix``) by LIST's lines:
        by STAT on a server known to agree with LIST, else by LIST after CWD (servers take
        a path's ``[ * ?`` as a pattern), and by STAT too while unknown."""
        ftp, now = self._ftp(), datetime.now(UTC)
        key = statlist.server_key(ftp, self.config.host, self.config.port, self._list_cmd)
        by_stat = None
        if statlist.tried(key):
            try:
                by_stat = statlist.stat_entries(ftp, target, ListingBudget(budget.limit, budget.what), now, prefix)
            except statlist.StatUnusable as exc:
                if self._stat_unusable(key, exc, target, "over a data connection"):
                    self.connect()
            if by_stat is not None and (entries := statlist.usable(key, by_stat)) is not None:
                return entries
        raw = self._list_raw(budget, target)
        unread: builtins.list[str] = []
        parsed = list_entries(raw.decode(self._ftp().encoding, "surrogateescape"), now, prefix, unread=unread)
        if by_stat is not None:
            statlist.learn(key, by_stat, parsed)
        return _listing(parsed, unread)

    def _list_raw(self, budget: ListingBudget, cwd: str) -> bytes:
        """LIST of folder ``cwd``; ``LIST -a`` (dot files too) when asked, and plain
        LIST from then on if the server refuses the option (a 5xx reply). Raises
        ftplib's errors: the caller translates them."""
        try:
            return bytes(self._listing(self._list_cmd, budget, cwd=cwd))
        except CwdRefused:
            raise  # the folder's answer, not the option's
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
        except PipeliningRefused:  # command by command on a fresh connection (from now on but
            self.close()             # after a SessionEnded: the server timed the session out)
            self.connect()
            ftp, raw = self._ftp(), None
        finally:
            if ftp.sock is None:  # closed: replies were in flight
                self.close()
        if raw is None:
            if cwd is not None:
                try:
                    ftp.cwd(cwd)
                except ftplib.error_perm as exc:
                    raise CwdRefused(*exc.args) from exc
            try:
                raw = retr_all(ftp, cmd, budget)
            except (ftplib.error_temp, ftplib.error_perm) as exc:
                if cwd is None or cmd != "LIST" or not empty_folder_reply(exc):  # "LIST -a": the option's answer
                    raise
                raw = b""  # "550 No files found." in the folder the CWD entered: empty
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
                    return Entry(rel.rsplit("/", 1)[-1], rel, item.is_dir, item.size, item.mtime, item.is_link)
        parent, _, name = rel.rpartition("/")
        for entry in self.list(parent):
            if entry.name == name:
                return entry
        raise NotFound(f"not found on the FTP server: {rel!r}")

    def folder_id(self, path: str) -> str | None:
        """The server's ``unique`` fact of folder ``path`` (RFC 3659 §7.5.2: two names
        of one object share it; servers give the device and inode of the folder a path
        leads to, through links: pure-ftpd, ProFTPD, pyftpdlib), by MLST; None where the
        server has no MLST or gives no ``unique``, or the path is refused (then nothing
        is known), and for a link (``type=OS.unix=slink``: pure-ftpd's MLST gives the
        link's own ``unique``, not its folder's)."""
        if "MLST" not in self.features:
            return None
        target = self._abs(normalize_path(path))
        what = f"reading details of {path!r}"
        try:  # unique for this one MLST only: the listings do without it (MLST_FACTS)
            self._call(what, lambda: self._ftp().sendcmd("OPTS MLST type;unique;"))
            chosen = True
        except ReelhouseError:
            chosen = False  # no OPTS MLST: the server sends the facts it sends
        try:
            reply: str = self._call(what, lambda: self._ftp().sendcmd(f"MLST {target}"))
        except NotFound:
            return None
        finally:
            if chosen and self.alive:
                try:
                    self._call(what, lambda: self._ftp().sendcmd(f"OPTS MLST {MLST_FACTS}"))
                except ReelhouseError:
                    self.close()  # never reused with listings that lack sizes and times
        for line in reply.splitlines()[1:-1]:
            facts = line.strip().partition("; ")[0] if "; " in line else line.strip().partition(" ")[0]
            found = dict(fact.partition("=")[::2] for fact in facts.split(";"))
            found = {key.lower(): value for key, value in found.items()}
            if found.get("type", "").lower().startswith("os.unix=slink"):
                return None
            if found.get("unique"):
                return found["unique"]
        return None

    def folder_place(self, path: str) -> str | None:
        """The folder ``path`` leads to, as the server's ``PWD`` names it after a
        ``CWD path``, on a server whose PWD resolves links (:data:`PWD_RESOLVES`: known
        by its greeting): two paths to one folder (``loop -> ..``) get one answer, two
        folders two. None on other servers (their PWD echoes the path), and when the
        CWD is refused or the reply names no folder (RFC 959 §4.1.3: ``257 "path"``,
        ``"`` doubled inside). Leaves the connection in that folder (every command of
        this class names absolute paths)."""
        ftp = self._ftp()
        if not any(mark in (ftp.welcome or "") for mark in PWD_RESOLVES):
            return None
        target = self._abs(normalize_path(path))
        what = f"going into {path!r}"
        try:
            self._call(what, lambda: ftp.cwd(target))
            reply: str = self._call(what, lambda: ftp.sendcmd("PWD"))
        except (NotFound, InvalidInput, PermissionDenied):
            return None
        return pwd_path(reply)

