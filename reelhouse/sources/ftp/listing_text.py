"""Pure parsers for whole FTP listings: one regex pass (``findall``: the loop over lines
runs in C) for the common line forms; any other line goes to the line parsers of
:mod:`.listing`, so the result is exactly theirs (tests/sources/ftp/test_listing_text.py).

Two shapes: :class:`~.listing.ListingEntry` (``parse_list_text``, ``parse_mlsd_text``:
everything the server said) and the Source API's :class:`~reelhouse.sources.base.Entry`
(``list_entries``, ``mlsd_entries``: what a folder listing returns, built in the same
pass, no intermediate object; benchmarks/listing.py: the walk is bound by the client's
CPU per entry). No I/O, no clock (``now`` is passed in).
"""

from __future__ import annotations

import re
from datetime import datetime

from reelhouse.sources.base import UNREAD_KEPT, Entry
from reelhouse.sources.ftp.listing import (
    _UNIX_LINE,
    ListingEntry,
    _parse_mlsd_time,
    _parse_size,
    is_skippable_list_line,
    parse_list_line,
    parse_mlsd_line,
)
from reelhouse.sources.ftp.listing_dates import ls_time

__all__ = ["UnparsableLine", "is_folder_entry_name", "list_entries", "mlsd_entries", "parse_list_text",
           "parse_mlsd_text"]


def _one_line_of_text(pattern: str) -> str:
    """``pattern`` (one line, matched by ``fullmatch``) as one line of a whole text
    under ``re.M``: no token crosses a line end, and the name ends before the line's
    one CR, as the line parsers' ``_strip_eol`` cuts it."""
    return pattern.replace(r"[^ \t]", r"[^ \t\n]").replace(r" (?P<name>.*)", r" (?P<name>.*?)\r?")


_UNIX_TEXT = re.compile(
    r"^(?:" + _one_line_of_text(_UNIX_LINE.pattern) + r"|(?P<other>.*))$", re.M)
# The usual MLSD lines: type, size, modify first (pure-ftpd) or modify, size, type
# (pyftpdlib after ``OPTS MLST``: facts in alphabetical order); the facts end at the
# first "; " (RFC 3659 §7.2) and hold no space here.
_T, _S, _M = r"type=(file|dir|cdir|pdir);", r"size=([0-9]{1,20});", r"modify=([0-9]{14}(?:\.[0-9]{1,9})?);"
_MLSD_TEXT = re.compile(
    rf"^(?:{_T}{_S}{_M}(?:[^; \r\n]*;)* (.*?)\r?|{_M}{_S}{_T}(?:[^; \r\n]*;)* (.*?)\r?|(.*))$", re.M | re.I)


class UnparsableLine(ValueError):
    """A line of a listing that holds no entry a parser knows (``strict`` parsing)."""


def is_folder_entry_name(name: str) -> bool:
    """Whether a listed name can be an entry of the folder: not empty, ``.`` or ``..``,
    and without ``/``, CR or LF (a server's line holding them describes no name in
    the folder)."""
    return name not in ("", ".", "..") and "/" not in name and "\r" not in name and "\n" not in name


def _entry(e: ListingEntry, prefix: str) -> Entry:
    return Entry(e.name, prefix + e.name, e.is_dir, None if e.is_dir else e.size, e.mtime, e.is_link)


def parse_list_text(text: str, now: datetime, strict: bool = False) -> list[ListingEntry]:
    """:func:`~.listing.parse_list` of ``text.split("\\n")``, in one regex pass for ``ls -l``
    lines. ``strict``: raise UnparsableLine for a line that is neither an entry nor one
    that holds none by design (:func:`~.listing.is_skippable_list_line`)."""
    out: list[ListingEntry] = []
    for kind, size, month, day, hour, minute, year, name, other in _UNIX_TEXT.findall(text):
        if not kind:  # not the usual form: the line parsers decide
            entry = parse_list_line(other, now)
            if entry is not None:
                out.append(entry)
            elif strict and not is_skippable_list_line(other):
                raise UnparsableLine(other[:200])
            continue
        link_target: str | None = None
        if kind == "l":
            name, arrow, target = name.partition(" -> ")
            link_target = target if arrow and target else None
        if name in ("", ".", ".."):
            continue
        out.append(ListingEntry(
            name, kind == "d", None if kind in "bc" else _parse_size(size),
            ls_time(month, day, hour or None, minute or None, year or None, now), kind == "l", link_target))
    return out


def list_entries(text: str, now: datetime, prefix: str = "", strict: bool = False,
                 unread: list[str] | None = None) -> list[Entry]:
    """The folder entries of a LIST text: ``Entry(name, prefix + name, is_dir, size (None
    for a folder), mtime)`` for each entry of :func:`parse_list_text` whose name
    :func:`is_folder_entry_name` accepts, built in the same pass. ``prefix``: the
    folder's source-relative path with a trailing ``/`` (``""`` for the root).
    ``unread``: gets each line that is neither an entry nor one that holds none by
    design (:func:`~.listing.is_skippable_list_line`), and each entry whose name holds a
    CR (at most :data:`UNREAD_KEPT` of them). ``strict``: UnparsableLine for either
    (a STAT listing: the folder is listed over a data connection, where it is noted)."""
    out: list[Entry] = []
    append = out.append
    for kind, size, month, day, hour, minute, year, name, other in _UNIX_TEXT.findall(text):
        if not kind:
            entry = parse_list_line(other, now)
            if entry is None:
                if not is_skippable_list_line(other):
                    if strict:
                        raise UnparsableLine(other[:200])
                    _note(unread, other)
            elif is_folder_entry_name(entry.name):
                append(_entry(entry, prefix))
            elif "\r" in entry.name:
                if strict:
                    raise UnparsableLine(other[:200])
                _note(unread, other)
            continue
        if kind == "l":
            name = name.partition(" -> ")[0]
        if name in ("", ".", "..") or "/" in name or "\r" in name:  # no LF: findall's lines
            if "\r" in name:
                if strict:  # named by the folder's listing over a data connection
                    raise UnparsableLine(name[:200])
                _note(unread, name)
            continue
        if kind == "l":  # its size is the link's: the source asks the server for the target's
            append(Entry(name, prefix + name, False, _size(size),
                         ls_time(month, day, hour or None, minute or None, year or None, now), True))
        elif kind == "d":
            append(Entry(name, prefix + name, True, None,
                         ls_time(month, day, hour or None, minute or None, year or None, now)))
        else:
            append(Entry(name, prefix + name, False,
                         # the pattern's size is ASCII digits, or "major, minor" (a device)
                         _size(size) if kind not in "bc" else None,
                         ls_time(month, day, hour or None, minute or None, year or None, now)))
    return out


def parse_mlsd_text(text: str) -> list[ListingEntry]:
    """:func:`~.listing.parse_mlsd` of ``text.split("\\n")``, in one regex pass for the
    usual lines."""
    out: list[ListingEntry] = []
    for kind, size, modify, name, modify2, size2, kind2, name2, other in _MLSD_TEXT.findall(text):
        if not kind:
            if not kind2:
                entry = parse_mlsd_line(other)
                if entry is not None:
                    out.append(entry)
                continue
            kind, size, modify, name = kind2, size2, modify2, name2
        kind = kind.lower()
        if kind in ("cdir", "pdir") or name in ("", ".", ".."):
            continue
        out.append(ListingEntry(name, kind == "dir", _parse_size(size), _parse_mlsd_time(modify)))
    return out


def mlsd_entries(text: str, prefix: str = "", unread: list[str] | None = None) -> list[Entry]:
    """The folder entries of an MLSD text, as :func:`list_entries` makes them of LIST's
    (RFC 3659 §7: ``modify`` is UTC to the second). ``unread``: as for
    :func:`list_entries` (a line that holds none by design: blank, ``cdir``, ``pdir``,
    ``.``, ``..``)."""
    out: list[Entry] = []
    append = out.append
    for kind, size, modify, name, modify2, size2, kind2, name2, other in _MLSD_TEXT.findall(text):
        if not kind:
            if not kind2:
                entry = parse_mlsd_line(other)
                if entry is not None and is_folder_entry_name(entry.name):
                    append(_entry(entry, prefix))
                elif (entry is None and not _mlsd_skippable(other)) or (entry is not None and "\r" in entry.name):
                    _note(unread, other)
                continue
            kind, size, modify, name = kind2, size2, modify2, name2
        if name in ("", ".", "..") or "/" in name or "\r" in name:
            if "\r" in name:
                _note(unread, name)
            continue
        if kind == "file" or kind == "FILE":
            append(Entry(name, prefix + name, False, _size(size), _parse_mlsd_time(modify)))
            continue
        kind = kind.lower()
        if kind == "dir":
            append(Entry(name, prefix + name, True, None, _parse_mlsd_time(modify)))
        elif kind == "file":
            append(Entry(name, prefix + name, False, _size(size), _parse_mlsd_time(modify)))
    return out


def _size(digits: str) -> int | None:
    """A size the patterns matched (ASCII digits, thousands groups, or a device's
    "major, minor"): bytes, or None for a device's or one past
    :data:`~.listing._MAX_SIZE` (junk)."""
    if len(digits) < 19 and digits.isdigit():  # below 10**18: a size (the usual case, one int())
        return int(digits)
    return _parse_size(digits)


def _note(unread: list[str] | None, line: str) -> None:
    if unread is not None and len(unread) < UNREAD_KEPT:
        unread.append(line.rstrip("\r")[:200])


def _mlsd_skippable(line: str) -> bool:
    """Whether an MLSD line :func:`~.listing.parse_mlsd_line` gave None for holds no
    entry by design: blank, or ``cdir``/``pdir``, or ``.``/``..`` (RFC 3659 §7.2)."""
    text = line.strip()
    if not text:
        return True
    facts, sep, name = text.partition("; ")
    low = facts.lower()
    return bool(sep) and (name in (".", "..") or "type=cdir" in low or "type=pdir" in low)
