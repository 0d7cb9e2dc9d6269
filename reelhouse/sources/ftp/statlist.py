"""A folder's listing over the control connection: ``CWD dir``, ``STAT .``, ``PWD`` in one
write, no data connection.

RFC 959 §4.1.3: ``STAT`` with a pathname argument "is analogous to the LIST command,
except that data shall be transferred over the control connection" (a multi-line 211,
212 or 213 reply). vsftpd, pure-ftpd and pyftpdlib answer it with the same ``ls -l``
lines as LIST. Over the control connection there is no PASV, no data connection to
open and close, no extra wait on the server per folder (benchmarks/listing.py: vsftpd's
walk is bound by these).

Servers whose listing is LIST anyway (no MLSD) are listed by STAT folder by folder and
in a walk. An MLSD server (pyftpdlib) only in a walk (``FtpLister.list_many``): STAT
prints LIST's minute/day precision times where MLSD gives seconds, and a walk's times
go to the library, where ``library/known.same_mtime`` takes a time cut to the minute or
the day as the same time (the scan stores the walk's time once, ``scan_index``'s
``retimed``, then compares equal); one folder listing (browsing, the drive) keeps
MLSD's seconds. It is learnt against MLSD on the first folder (:func:`learn` with
``coarse``: names, kinds and sizes equal, each STAT time MLSD's cut to the minute or
the day, so a server printing its local time never qualifies), and a folder whose
STAT lines are not all files and folders (:func:`plain_lines`: a symlink is its
target in MLSD) goes by MLSD.

Safety: the reply comes inline with the other replies, so anything odd means "use a
data connection" (:class:`StatUnusable`), never a shorter listing:

- a server is used this way only after its first non-empty folder listed both ways gave
  the same entries (:func:`learn`, per server and per process); vsftpd's STAT shows
  names starting with "." that its LIST hides: the first folder holding one is listed
  both ways too, to learn whether LIST shows them (:func:`usable`);
- ``CWD`` first, then ``STAT .``: a missing folder is the CWD's 550 (``STAT path`` of a
  missing path is an empty 213 on vsftpd and pure-ftpd), and ``.`` is never a pattern;
- every body line ends with CRLF and parses as a listing line (``.``/``..``/``total``
  aside); the ``PWD`` reply after it must be a 257 naming the folder (a file name cannot
  hold ``/``), and no byte may follow it: a file name holding CRLF + a fake end line
  would leave the rest of the reply behind, so the connection is out of step and the
  server is listed over data connections from then on. Left: a symlink whose target
  (which may hold ``/``) forges both the end line and the exact PWD reply, with the
  rest of the real reply still in flight when it is checked, hides the entries after
  it in that folder (in a batch, :func:`stat_texts`, also the folders after it that it
  forges whole, PWD included); whoever can make it can delete those files as well;
- a walk writes the commands of up to 16 folders at once (:func:`stat_texts`): each
  folder's three replies get the same checks, and the first folder that fails one ends
  the batch (the caller lists it and the rest alone);
- an empty STAT reply goes over a data connection: vsftpd's STAT shows ``.`` and ``..``
  in every folder it can read and nothing in one it may enter but not read, where its
  LIST says "failed to open directory" (:func:`.pipeline.check_complete`);
- more than :data:`MAX_ENTRIES` entries go over a data connection: a server may cut
  its STAT output without a word (pure-ftpd does, at its ``-L`` limit, where LIST says
  "Output truncated"; it is never listed by STAT, :func:`tried`).
"""

from __future__ import annotations

import ftplib
import re
import select
import socket
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from reelhouse.sources.base import Entry
from reelhouse.sources.ftp.limits import ListingBudget
from reelhouse.sources.ftp.listing import ListingEntry
from reelhouse.sources.ftp.listing_text import UnparsableLine, list_entries, parse_list_text

__all__ = ["MAX_ENTRIES", "StatUnusable", "checked_entries", "forget", "forget_all", "learn", "plain_lines",
           "server_key",
           "stat_entries", "stat_listing", "stat_text", "stat_texts", "tried", "trusted", "usable"]

#: A STAT listing with more entries goes over a data connection instead (a server may
#: cut its control-connection output silently: pure-ftpd at 10,000 lines).
MAX_ENTRIES = 2000

_RECV = 1 << 16
_lock = threading.Lock()
#: Per server (host, port, greeting): whether STAT's lines are LIST's (True once a
#: folder listed both ways agreed, False once STAT disagreed or misbehaved: then never
#: again in this process) ...
_SAME: dict[tuple[str, int, str, str], bool] = {}
#: ... and whether LIST shows names starting with "." (vsftpd's STAT shows them, its
#: LIST does not unless ``force_dot_files``): learnt on the first folder that has one.
_DOTS: dict[tuple[str, int, str, str], bool] = {}


class StatUnusable(Exception):
    """This STAT listing cannot be trusted; list the folder over a data connection.
    ``out_of_step``: replies may still be in flight (drop the connection);
    ``server_wide``: never use STAT on this server again."""

    def __init__(self, why: str, out_of_step: bool = False, server_wide: bool = False) -> None:
        super().__init__(why)
        self.out_of_step = out_of_step
        self.server_wide = server_wide or out_of_step


Key = tuple[str, int, str, str]


class Listed(Protocol):
    """What is compared of an entry: a :class:`~.listing.ListingEntry` or an :class:`Entry`."""

    @property
    def name(self) -> str: ...
    @property
    def is_dir(self) -> bool: ...
    @property
    def size(self) -> int | None: ...
    @property
    def mtime(self) -> float | None: ...


L = TypeVar("L", bound=Listed)


def server_key(ftp: ftplib.FTP, host: str, port: int, list_cmd: str = "LIST") -> Key:
    """Who answers: host, port and the greeting's first line (the software and its
    version; pure-ftpd's next lines hold the time and the user count), and the LIST
    command STAT is compared with (``LIST -a`` shows dot files where ``LIST`` may not:
    what is learnt about one says nothing about the other)."""
    return host, port, (ftp.welcome or "").split("\n", 1)[0], list_cmd


def tried(key: Key) -> bool:
    """Whether STAT is worth sending to this server: not known to be unusable, and not
    pure-ftpd, which cuts STAT output at its ``-L`` limit (10,000 lines by default, any
    number if so configured) without a word, where LIST and MLSD say "truncated"."""
    return _SAME.get(key) is not False and "pure-ftpd" not in key[2].lower()


def trusted(key: Key) -> bool:
    """Whether STAT is known to list this server as LIST does (:func:`learn`)."""
    return _SAME.get(key) is True and tried(key)


def usable(key: Key, by_stat: list[L]) -> list[L] | None:
    """The entries of a STAT listing as LIST would give them, or ``None`` when the
    folder must be listed by LIST too (the server is not known to agree yet, or the
    listing holds a dot name and it is not known yet whether LIST shows those)."""
    if not _SAME.get(key):
        return None
    if not any(e.name.startswith(".") for e in by_stat):
        return by_stat
    dots = _DOTS.get(key)
    if dots is None:
        return None
    return by_stat if dots else [e for e in by_stat if not e.name.startswith(".")]


def learn(key: Key, by_stat: Sequence[Listed], by_list: Sequence[Listed], coarse: bool = False) -> None:
    """Compare two listings of one folder (STAT, LIST; or STAT, MLSD when ``coarse``:
    :func:`_same_coarse`) and record what they say about the server. An empty folder
    says nothing; disagreement is final."""
    list_dots = any(e.name.startswith(".") for e in by_list)
    stat_dots = any(e.name.startswith(".") for e in by_stat)
    visible = by_stat if list_dots or not stat_dots else [e for e in by_stat if not e.name.startswith(".")]
    same = _agree_coarse(visible, by_list) if coarse else _agree(visible, by_list)
    with _lock:
        if not same:
            _SAME[key] = False
            return
        if by_list and _SAME.get(key) is None:
            _SAME[key] = True
        if stat_dots:
            _DOTS.setdefault(key, list_dots)


def forget(key: Key) -> None:
    """Never use STAT on this server again (in this process)."""
    with _lock:
        _SAME[key] = False


def forget_all() -> None:
    """Forget every server's verdicts (tests; a server replaced by another on its port)."""
    with _lock:
        _SAME.clear()
        _DOTS.clear()


def _agree(by_stat: Sequence[Listed], by_list: Sequence[Listed]) -> bool:
    """Whether two listings of one folder hold the same entries (any order)."""
    return sorted(map(_facts, by_stat)) == sorted(map(_facts, by_list))


def _agree_coarse(by_stat: Sequence[Listed], by_mlsd: Sequence[Listed]) -> bool:
    """Whether a STAT listing and an MLSD listing of one folder hold the same entries:
    names, kinds and sizes equal, times as :func:`_same_coarse` (no symlinks: MLSD
    shows a link's target, STAT the link; :func:`plain_lines`)."""
    exact = {e.name: e for e in by_mlsd}
    if len(exact) != len(by_stat) or len(by_mlsd) != len(by_stat):
        return False
    for e in by_stat:
        m = exact.get(e.name)
        if m is None or getattr(e, "is_link", False) or _facts(e)[1:3] != _facts(m)[1:3] \
                or not _same_coarse(e.mtime, m.mtime):
            return False
    return True


def _same_coarse(listed: float | None, exact: float | None) -> bool:
    """Whether ``listed`` (seconds since the epoch, from an ``ls -l`` line: minutes, or
    the day alone past six months, GNU coreutils ``ls.c``) is ``exact`` (MLSD's UTC
    ``modify``, RFC 3659 §2.3) cut to the minute or the day: a server that prints its
    local time fails this (and is never listed by STAT)."""
    if listed is None or exact is None:
        return listed is exact
    return listed == exact - exact % 60 or listed == exact - exact % 86400


def plain_lines(text: str) -> bool:
    """Whether every line of a STAT listing is a file's (``-``) or a folder's (``d``):
    the only entries whose facts STAT and MLSD give alike (a symlink is the link in
    one, its target in the other; a device or pipe may be missing from MLSD)."""
    return _NOT_PLAIN.search(text) is None


_NOT_PLAIN = re.compile(r"^[^-d]", re.M)


def _facts(e: Listed) -> tuple[str, bool, int, float, bool]:
    return (e.name, e.is_dir, -1 if e.size is None else e.size, -1.0 if e.mtime is None else e.mtime,
            getattr(e, "is_link", False))


def stat_listing(ftp: ftplib.FTP, folder: str, budget: ListingBudget, now: datetime) -> list[ListingEntry]:
    """The entries of absolute ``folder`` by ``CWD folder`` + ``STAT .`` + ``PWD`` written
    at once (RFC 959 §4.1.3; pipelining: :mod:`.pipeline`), as the servers said them.
    ``now`` fixes the year of ``Jan 12 14:05`` dates (:func:`~.listing.parse_list_line`).
    Raises as :func:`stat_text`, and StatUnusable for a line that is no listing line
    or past :data:`MAX_ENTRIES`."""
    return _checked(lambda text: parse_list_text(text, now, strict=True), stat_text(ftp, folder, budget))


def stat_entries(ftp: ftplib.FTP, folder: str, budget: ListingBudget, now: datetime, prefix: str) -> list[Entry]:
    """:func:`stat_listing` as the folder's :class:`Entry` list (paths start with
    ``prefix``; :func:`~.listing_text.list_entries`)."""
    return checked_entries(stat_text(ftp, folder, budget), now, prefix)


def checked_entries(text: str, now: datetime, prefix: str) -> list[Entry]:
    """The entries of a STAT listing's lines (:func:`stat_text`); StatUnusable for a
    line that is no listing line or past :data:`MAX_ENTRIES`."""
    return _checked(lambda t: list_entries(t, now, prefix, strict=True), text)


def _checked(parse: Callable[[str], list[L]], text: str) -> list[L]:
    try:
        entries = parse(text)
    except UnparsableLine as exc:
        raise StatUnusable(f"unparsable STAT line {exc}") from exc
    if len(entries) > MAX_ENTRIES:
        raise StatUnusable(f"{len(entries)} entries: too many to trust a control-connection listing")
    return entries


def stat_text(ftp: ftplib.FTP, folder: str, budget: ListingBudget) -> str:
    """The listing lines of absolute ``folder`` (CRLF ends each) by ``CWD folder`` +
    ``STAT .`` + ``PWD`` written at once.

    Raises ftplib errors for a refused CWD (all three replies read: the connection stays
    in step), StatUnusable when the reply cannot be trusted, OSError/EOFError when the
    connection fails (the caller drops it) and SourceUnavailable past ``budget``."""
    return _body_text(ftp, folder, *_send(ftp, [folder], budget))


def stat_texts(ftp: ftplib.FTP, key: Key, folders: list[str], budget: ListingBudget) -> list[str | ftplib.Error]:
    """:func:`stat_text` of several absolute ``folders``, all written at once (one write,
    then the replies read in large recv calls: RFC 959 §4.2 answers them in order):
    each folder's lines, or the ftplib error of its refused CWD.

    Stops at the first folder whose reply cannot be trusted: the list holds the folders
    before it, and that folder's StatUnusable is raised when it is the first. When it is
    ``out_of_step`` (replies may be in flight) the control connection is closed; the
    caller lists the folders left over, one by one; a ``server_wide`` one is not used
    on server ``key`` again (:func:`forget`). Raises StatUnusable (out of step:
    connection closed) when the replies of the whole write are not exactly as many as
    asked, OSError/EOFError and SourceUnavailable as :func:`stat_text`."""
    out: list[str | ftplib.Error] = []
    try:
        replies = _send(ftp, folders, budget)
        for i, folder in enumerate(folders):
            try:
                out.append(_body_text(ftp, folder, *replies[3 * i : 3 * i + 3]))
            except ftplib.Error as exc:
                out.append(exc)
    except StatUnusable as exc:
        if exc.out_of_step:
            ftp.close()
        if exc.server_wide:
            forget(key)
        if not out:
            raise
    return out


def _send(ftp: ftplib.FTP, folders: list[str], budget: ListingBudget) -> list[bytes]:
    """Write ``CWD f``, ``STAT .``, ``PWD`` for each folder at once; their replies."""
    sock = ftp.sock
    if sock is None:
        raise EOFError("connection closed")
    sock.sendall("".join(f"CWD {f}\r\nSTAT .\r\nPWD\r\n" for f in folders).encode(ftp.encoding, "surrogateescape"))
    return _read_replies(sock, 3 * len(folders), budget)


def _body_text(ftp: ftplib.FTP, folder: str, cwd: bytes, listing: bytes, pwd: bytes) -> str:
    """The checked lines of one folder's three replies (see the module docstring)."""
    if cwd[:1] != b"2":
        text = cwd.decode(ftp.encoding, "replace").rstrip("\r\n")
        raise (ftplib.error_temp if cwd[:1] == b"4" else ftplib.error_perm)(text)
    if pwd[:3] != b"257" or pwd.count(b"\n") != 1:
        raise StatUnusable(f"unexpected reply to PWD: {pwd[:80]!r}", out_of_step=True)
    if f'"{folder.replace(chr(34), chr(34) * 2)}"'.encode(ftp.encoding, "surrogateescape") not in pwd:
        raise StatUnusable(f"PWD does not name the folder listed: {pwd[:200]!r}", server_wide=True)
    code = listing[:3]
    if code not in (b"211", b"212", b"213"):
        raise StatUnusable(f"STAT refused: {listing[:80]!r}", server_wide=True)
    first = listing.find(b"\n") + 1
    last = listing.rfind(b"\n", 0, len(listing) - 1) + 1
    body = listing[first:last] if listing[3:4] == b"-" else b""
    if not body:  # vsftpd lists "." and ".." in any folder it can read, nothing in one it cannot
        raise StatUnusable("an empty STAT listing (a folder the server cannot read?)")
    if body.count(b"\n") != body.count(b"\r\n"):
        raise StatUnusable("a STAT line without CRLF (a name with a line feed?)")
    try:
        return body.decode(ftp.encoding)
    except UnicodeDecodeError as exc:
        raise StatUnusable(f"STAT listing not in {ftp.encoding}") from exc


def _read_replies(sock: socket.socket, count: int, budget: ListingBudget) -> list[bytes]:
    """The next ``count`` replies (RFC 959 §4.2: a multi-line reply ``NNN-`` ends at a
    line starting ``NNN ``), each whole with its CRLFs, read straight from the socket in
    large recv calls. StatUnusable (out of step) if a reply does not start with a code or
    a byte follows the last one."""
    buf = bytearray()
    pos = 0  # start of the reply being read
    scan = 0  # where to look for its end line next
    out: list[bytes] = []
    while len(out) < count:
        end = -1
        if len(buf) - pos >= 4:
            head = bytes(buf[pos : pos + 4])
            if not head[:3].isdigit() or head[3:4] not in (b" ", b"-"):
                raise StatUnusable(f"not a reply: {bytes(buf[pos:pos + 80])!r}", out_of_step=True)
            if head[3:4] == b" ":
                end = buf.find(b"\n", pos)
            else:
                term = buf.find(b"\n" + head[:3] + b" ", max(scan, pos))
                if term >= 0:
                    end = buf.find(b"\n", term + 1)
                else:
                    scan = max(pos, len(buf) - 4)
        if end < 0:
            chunk = sock.recv(_RECV)
            if not chunk:
                raise EOFError("the FTP server closed the connection")
            budget.take(len(chunk))
            buf += chunk
            continue
        out.append(bytes(buf[pos : end + 1]))
        pos = scan = end + 1
    if pos != len(buf) or _readable(sock):
        raise StatUnusable("bytes after the last reply", out_of_step=True)
    return out


def _readable(sock: socket.socket) -> bool:
    """Whether more bytes wait on ``sock`` (or its TLS layer) right now."""
    pending = getattr(sock, "pending", None)
    if pending is not None and pending():
        return True
    if hasattr(select, "poll"):  # any fd number (select() stops at 1024)
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([sock], [], [], 0)[0])
