"""A whole subtree in one listing on pure-ftpd: ``CWD dir`` + ``PASV`` + ``LIST -R`` in one
write (:mod:`.pipeline`), one data connection for every folder under ``dir`` instead of
one per folder.

pure-ftpd's ``ls.c`` (``donlist``/``listdir``) writes the folder's own ``ls -l`` lines,
then for each sub-folder, depth first, ``CRLF CRLF ./path: CRLF CRLF`` and its lines;
its 226 names the options it took (``Options: -l -R``) and counts the lines it wrote
(``N matches total``), or says ``Output truncated to N matches`` at its ``-L`` file
limit. Names holding a control character are never listed (``checkprintable``), in
MLSD as in LIST, so no name can forge a header or a line end.

What is trusted (everything else is listed by the walk itself, folder by folder, MLSD):

- the server: its greeting names pure-ftpd, and every reply names ``-R`` among its
  options and a count of lines; a reply without them (another server behind the same
  greeting, a proxy) turns this off for the server (per process, :func:`tried`);
- the listing: every line parses as a listing line, each section's header names a
  folder listed (as a folder) in a section before it, and the lines add up to the
  server's count; else the whole reply is dropped (:class:`TreeUnusable`);
- a folder: its section is not empty (pure-ftpd writes the header of a folder past
  its ``-L`` depth limit, or past the file limit, with nothing under it: an empty
  section cannot be told from an empty folder), it is not the last section of a cut
  reply, and it holds no symlink (LIST shows the link, MLSD what it points at).

Times: LIST's lines give minutes (days past six months) where MLSD gives seconds:
:func:`reelhouse.library.known.same_mtime` takes a time without its seconds for the
same time, so rescans see no change when a server's listings switch between the two.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime

from reelhouse.sources.base import Entry
from reelhouse.sources.ftp.listing_text import UnparsableLine, list_entries

__all__ = ["TreeUnusable", "forget", "forget_all", "parse_tree", "tried"]

Key = tuple[str, int, str, str]

_lock = threading.Lock()
#: Servers whose recursive listing misbehaved: never asked again in this process.
_OFF: set[Key] = set()
_HEADER = re.compile(r"\r\n\r\n\./([^\r\n]*):\r\n\r\n")
_COUNT = re.compile(r"^226 (?:(\d+) matches total|Output truncated to (\d+) matches)\s*$", re.M)
_OPTIONS = re.compile(r"^226-Options: (?:-[a-zA-Z] )*-R ", re.M)
#: "." and ".." (``-a``), after the time or year: lines, not entries. A name ending in a
#: digit and " ." or " .." counts too, and the totals differ: the reply goes unused.
_DOTS = re.compile(r" \.\.?\r\n")  # then a digit before it (a lookbehind first is 20× slower)


class TreeUnusable(Exception):
    """This recursive listing cannot be trusted: list the folder another way.
    ``server_wide``: never ask this server for one again."""

    def __init__(self, why: str, server_wide: bool = False) -> None:
        super().__init__(why)
        self.server_wide = server_wide


def tried(key: Key) -> bool:
    """Whether to ask this server (:func:`.statlist.server_key`) for recursive
    listings: its greeting names pure-ftpd and none of its replies misbehaved."""
    return "pure-ftpd" in key[2].lower() and key not in _OFF


def forget(key: Key) -> None:
    """Never ask this server for a recursive listing again (in this process)."""
    with _lock:
        _OFF.add(key)


def forget_all() -> None:
    """Forget every verdict (tests)."""
    with _lock:
        _OFF.clear()


def parse_tree(text: str, final: str, now: datetime, rel: str) -> dict[str, list[Entry] | None]:
    """The whole listings in pure-ftpd's ``LIST -R`` ``text`` of folder ``rel``
    (source-relative, ``""`` for the root), by folder path; ``final`` is the reply after
    the data (the 226). None for a folder holding a symlink: its sub-folders are in the
    reply, only its own listing is to be asked another way (MLSD). Raises
    :class:`TreeUnusable` (see the module's rules)."""
    count = _COUNT.search(final)
    if count is None or _OPTIONS.search(final) is None:
        raise TreeUnusable(f"no option list or line count in {final[:200]!r}", server_wide=True)
    total, cut = int(count.group(1) or count.group(2)), count.group(2) is not None
    sections: list[tuple[str, str]] = []
    pos, folder = 0, rel
    for header in _HEADER.finditer(text):
        sections.append((folder, text[pos:header.start()]))
        pos, name = header.end(), header.group(1)
        folder = f"{rel}/{name}" if rel else name
    sections.append((folder, text[pos:]))
    out: dict[str, list[Entry] | None] = {}
    folders = {rel}  # listed as folders so far: a header must name one of them
    lines = 0
    for i, (path, body) in enumerate(sections):
        if path not in folders or path in out:
            raise TreeUnusable(f"a section {path!r} of no folder listed before it")
        n = body.count("\r\n")
        if n != body.count("\n") or (body and not body.endswith("\r\n")):
            raise TreeUnusable(f"a line without CRLF in {path!r}")
        lines += n
        try:
            entries = list_entries(body, now, f"{path}/" if path else "", strict=True)
        except UnparsableLine as exc:
            raise TreeUnusable(f"unparsable line in {path!r}: {exc}") from exc
        dots = sum(1 for m in _DOTS.finditer(body) if body[m.start() - 1:m.start()].isdigit())
        if len(entries) + dots != n:
            raise TreeUnusable(f"{n} lines but {len(entries)} entries in {path!r}")
        folders.update(e.path for e in entries if e.is_dir)
        if entries and not (cut and i == len(sections) - 1):
            out[path] = None if _has_symlink(body) else entries
    if lines != total:
        raise TreeUnusable(f"{lines} lines where the server counted {total}")
    return out


def _has_symlink(body: str) -> bool:
    return body.startswith("l") or "\r\nl" in body
