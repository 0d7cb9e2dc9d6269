"""Pure parsers for FTP directory listing lines: MLSD (RFC 3659) and LIST (``ls -l``, DOS/IIS).

One line at a time; :mod:`.listing_text` parses whole listings in one pass with these as
its reference.

No I/O and no clock: every function takes text (one line, without or with its CRLF) and,
where a year must be guessed, the caller's ``now``. Unparseable lines give ``None``; no
parser raises on any input text.

Formats
-------
* **MLSD** (RFC 3659 §7): ``fact=value;fact=value; name``. Fact names and ``type`` values
  are case-insensitive (RFC 3659 §7.1; ABNF strings, RFC 5234 §2.3). ``modify`` is
  ``YYYYMMDDHHMMSS[.sss]`` in UTC (RFC 3659 §2.3).
* **Unix LIST** as written by ``ls -l`` and the servers that imitate it (vsftpd,
  pure-ftpd, proftpd, pyftpdlib, busybox, FileZilla Server, Synology/QNAP NAS)::

      -rw-r--r--   1 owner    group    1234 Jan 12 14:05 name
      -rw-r--r--   1 owner             1234 Jan 12  2023 name      (no group column)
      crw-rw-rw-   1 0        0        1, 3 Jan 12 14:05 null      (device: no size)
      lrwxrwxrwx   1 owner    group      12 Jan 12 14:05 link -> target

  and the same lines with the dates ``ls`` prints under ``--time-style`` or a CJK
  ``LC_TIME`` (recorded from GNU ls 9 in tests/sources/ftp/test_listing.py; Apache
  commons-net's ``UnixFTPEntryParser`` reads the ISO and ``月``/``日`` forms too)::

      2024-03-05 14:22            long-iso
      2024-03-05 14:22:33.000000000 +0100   full-iso (the zone applied: an exact time)
      03-05 14:22 / 2024-03-05    iso (recent / older than six months)
      3月  5 14:22 / 3月  5  2024  ja_JP, zh_TW
      10月 5日 14:22 / 2024年 3月 5日   zh_CN
      10월  5일  14:22 / 2024년  3월  5일  ko_KR

* **DOS LIST** as written by Microsoft IIS (and servers that copy it)::

      01-12-23  02:05PM       <DIR>          Folder Name
      01-12-2023  14:05            1234567 file name.mkv

Times
-----
LIST times carry no zone; servers print local time or UTC at their whim (pyftpdlib: UTC
by default; vsftpd: UTC unless ``use_localtime``). They are read **as UTC**: off by at
most the server's UTC offset, and off by the same amount on every listing of the same
server, so comparing two listings' mtimes still works. LIST times have minute precision,
or day precision for the ``Jan 12  2023`` form (read as midnight).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from reelhouse.sources.ftp.listing_dates import ALT_DATE, SIX_MONTHS, alt_time, dos_time, ls_time, timestamp

__all__ = ["SIX_MONTHS", "ListingEntry", "is_skippable_list_line", "parse_list", "parse_list_line", "parse_mlsd",
           "parse_mlsd_line"]


@dataclass(frozen=True, slots=True)
class ListingEntry:
    """One entry of a directory listing, as the server described it.

    ``name`` is exactly the server's name (spaces kept); ``size`` is in bytes (``None``
    when unknown, and for device files); ``mtime`` is seconds since the epoch, UTC
    (``None`` when absent or invalid). For a symbolic link ``is_link`` is true,
    ``is_dir`` is false (a listing does not say what the link points to) and ``size`` is
    the size the server gave for the link itself, not for its target.
    """

    name: str
    is_dir: bool
    size: int | None  # bytes
    mtime: float | None  # seconds since epoch, UTC
    is_link: bool = False
    link_target: str | None = None


# --------------------------------------------------------------------------- helpers



def _strip_eol(line: str) -> str:
    """``line`` without one trailing line terminator (CRLF, LF or CR); nothing else."""
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith(("\n", "\r")):
        return line[:-1]
    return line


# ---------------------------------------------------------------------------- MLSD

_MLSD_MODIFY = re.compile(
    r"(?P<y>[0-9]{4})(?P<mo>[0-9]{2})(?P<d>[0-9]{2})"
    r"(?P<h>[0-9]{2})(?P<mi>[0-9]{2})(?P<s>[0-9]{2})(?:\.(?P<frac>[0-9]+))?"
)
_DIGITS = re.compile(r"[0-9]+")

#: Longest decimal number read as a size: 2**64 has 20 digits. Longer ones are junk, and
#: ``int()`` refuses strings over ``sys.get_int_max_str_digits()`` (4300) digits anyway.
_MAX_DIGITS = 30
#: Largest size a file can have, bytes: POSIX ``off_t`` is a signed 64-bit integer, as are
#: SQLite's INTEGER and PostgreSQL's ``bigint`` that store it. A bigger listed size is a
#: server's junk (it stopped a scan: "Python int too large to convert to SQLite INTEGER").
_MAX_SIZE = 2**63 - 1


@functools.lru_cache(maxsize=4096)  # files of one folder often share an mtime
def _parse_mlsd_time(value: str) -> float | None:
    """RFC 3659 §2.3 ``time-val`` (``YYYYMMDDHHMMSS[.sss]``, UTC) → epoch seconds.

    A leap second (``SS`` = 60, allowed by §2.3) counts as the next second.
    """
    m = _MLSD_MODIFY.fullmatch(value)
    if m is None:
        return None
    seconds = int(m["s"])
    if seconds > 60:
        return None
    base = timestamp(int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"]), int(m["mi"]))
    if base is None:
        return None
    frac = (m["frac"] or "")[:9]  # nanoseconds are already below a float's precision
    return base + seconds + (int(frac) / 10 ** len(frac) if frac else 0.0)


#: A byte count printed with thousands separators, one kind per number: ``,`` (C/en),
#: ``.`` (de, it, es, pt, nl...), ``'`` and ``’`` (de_CH: Windows, glibc), no-break
#: space U+00A0 and narrow no-break space U+202F (fr, ru, pl, sv...: Windows before/after
#: 2018, glibc). ``ls -l`` prints them when the block size starts with ``'``
#: (``--block-size="'1"``, ``LS_BLOCK_SIZE``; GNU coreutils manual, "Block size"), and
#: Windows/IIS-style ``dir`` listings with the server's regional settings; FileZilla's
#: ``directorylistingparser.cpp`` (``ParseAsDos``) drops ``,`` and ``.`` from DOS sizes.
#: Groups are exactly three digits, so a plain number never matches. No capture group:
#: :mod:`.listing_text` ``findall``s a pattern built on it.
GROUPED_SIZE = (r"[0-9]{1,3}+(?:(?:,[0-9]{3}+)++|(?:\.[0-9]{3}+)++|(?:'[0-9]{3}+)++|(?:\u2019[0-9]{3}+)++"
                r"|(?:\u00a0[0-9]{3}+)++|(?:\u202f[0-9]{3}+)++)")
_GROUPED = re.compile(GROUPED_SIZE)
_SEPARATORS = str.maketrans("", "", ",.'\u2019\u00a0\u202f")


def _parse_size(value: str | None) -> int | None:
    """A decimal byte count (ASCII digits, or :data:`GROUPED_SIZE` with thousands
    separators; at most ``_MAX_SIZE``), or ``None``."""
    if value is None:
        return None
    if not value.isdigit() and len(value) <= 2 * _MAX_DIGITS and _GROUPED.fullmatch(value):
        value = value.translate(_SEPARATORS)
    if len(value) > _MAX_DIGITS or _DIGITS.fullmatch(value) is None:
        return None
    size = int(value)
    return size if size <= _MAX_SIZE else None


def parse_mlsd_line(line: str) -> ListingEntry | None:
    """Parse one MLSD line (RFC 3659 §7.2): ``fact=value;…; name``.

    The facts end at the first ``"; "`` (a fact value cannot contain ``;``, §7.1), so the
    name is everything after it, exactly: spaces, ``;``, ``=`` and any unicode included.
    A line without ``"; "`` (a server that drops the last ``;``) is split at its first
    space.

    ``type`` decides the kind: ``file``, ``dir``, ``OS.unix=slink:TARGET`` or
    ``OS.unix=symlink`` (a link; ``is_dir`` false), other ``OS.*`` types (device, fifo:
    not a folder). ``size`` gives the size, or ``sizd`` when ``size`` is absent;
    ``modify`` the mtime. Returns ``None`` for ``cdir``/``pdir``, the names ``.`` and
    ``..``, a missing or unknown ``type``, and anything that is not one MLSD line (text
    with a line feed inside is two lines).
    """
    text = _strip_eol(line)
    if "\n" in text:
        return None
    split = text.find("; ")
    if split >= 0:
        facts_text, name = text[: split + 1], text[split + 2 :]
    else:
        space = text.find(" ")
        if space <= 0:
            return None
        facts_text, name = text[:space], text[space + 1 :]
    if name in ("", ".", ".."):
        return None

    facts: dict[str, str] = {}
    for piece in facts_text.split(";"):
        key, sep, value = piece.partition("=")
        if sep and key:
            facts.setdefault(key.lower(), value)

    raw_type = facts.get("type")
    if raw_type is None:
        return None
    kind = raw_type.lower()
    is_dir = is_link = False
    link_target: str | None = None
    if kind in ("cdir", "pdir"):
        return None
    if kind == "dir":
        is_dir = True
    elif kind.startswith(("os.unix=slink", "os.unix=symlink")):
        is_link = True
        _, colon, target = raw_type.partition(":")
        link_target = target if colon and target else None
    elif kind != "file" and not kind.startswith("os."):
        return None

    size_text = facts.get("size")
    if size_text is None:
        size_text = facts.get("sizd")
    modify = facts.get("modify")
    return ListingEntry(
        name=name,
        is_dir=is_dir,
        size=_parse_size(size_text),
        mtime=_parse_mlsd_time(modify) if modify is not None else None,
        is_link=is_link,
        link_target=link_target,
    )


def parse_mlsd(lines: Iterable[str]) -> list[ListingEntry]:
    """Parse MLSD output line by line, dropping ``.``/``..``/``cdir``/``pdir`` and junk."""
    return [entry for entry in map(parse_mlsd_line, lines) if entry is not None]


# ---------------------------------------------------------------------------- LIST

# One ``ls -l`` line: mode (a type letter, nine permission letters, an optional ACL /
# SELinux / xattr marker ``+ . @``), then some fields (link count, owner, group: any
# blank-free tokens, as few as possible), then "size month day time-or-year", one space,
# the name. Exactly one space before the name, so a name's leading spaces survive.
# Possessive quantifiers fix every token boundary, keeping the match linear on hostile
# input.
_UNIX_TEMPLATE = (
    r"(?P<kind>[-bcdDlnps?])[-a-zA-Z?]{9}[.+@]?+"
    r"FIELDS"
    r"[ \t]++(?P<size>" + GROUPED_SIZE + r"|[0-9]++(?:,[ \t]*+[0-9]++)?+)"
    r"[ \t]++(?P<month>[^\W\d_]{3,4}+\.?+)"
    r"[ \t]++(?P<day>[0-9]{1,2}+)"
    r"[ \t]++(?:(?P<hour>[0-9]{1,2}+):(?P<minute>[0-9]{2}+)|(?P<year>[0-9]{4}+))"
    r" (?P<name>.*)"
)
# At least one field before the size. Without fields, the link count, an owner named
# like a month ("jan", or "ftp", "root" as unknown months), a numeric group and a 4-digit
# size would read as "size month day year" (``1 ftp 0 1000 Jan  1 00:00 x``); with one
# field or more, owner and group (single tokens) cannot pose as a date.
_UNIX_LINE = re.compile(_UNIX_TEMPLATE.replace("FIELDS", r"(?:[ \t]++[^ \t]++)+?"))
# Servers that print no link count, owner or group.
_UNIX_BARE = re.compile(_UNIX_TEMPLATE.replace("FIELDS", ""))

# ``ls -l`` with an ISO or CJK date (:data:`.listing_dates.ALT_DATE`).
_UNIX_ALT_TEMPLATE = (
    r"(?P<kind>[-bcdDlnps?])[-a-zA-Z?]{9}[.+@]?+"
    r"(?:[ \t]++[^ \t]++)+?"
    r"[ \t]++(?P<size>" + GROUPED_SIZE + r"|[0-9]++(?:,[ \t]*+[0-9]++)?+)"
    r"[ \t]++" + ALT_DATE +
    r" (?P<name>.*)"
)
_UNIX_ALT_LINE = re.compile(_UNIX_ALT_TEMPLATE)

_DOS = re.compile(
    r"(?P<mo>[0-9]{1,2}+)(?P<dsep>[-/.])(?P<d>[0-9]{1,2}+)(?P=dsep)(?P<y>[0-9]{4}+|[0-9]{2}+)"
    r"[ \t]++(?P<h>[0-9]{1,2}+):(?P<mi>[0-9]{2}+)(?::[0-9]{2}+)?+"
    r"(?:[ \t]*+(?P<ampm>[AaPp][Mm]))?+"
    r"[ \t]++(?:(?P<dir><[Dd][Ii][Rr]>)|(?P<size>" + GROUPED_SIZE + r"|[0-9]++))"
    r"(?P<sep>[ \t]++)(?P<name>.*)"
)

# ``ls -l``'s first line, "total N" in its locale's words (glibc's coreutils
# translations: C, de, it, ru, ja, zh_CN old and new, zh_TW, ko); "total " before any
# text, as before.
_TOTAL = re.compile(
    r"total .*|(?:insgesamt|totale|итого|合計|总计|总用量|總用量|總計|합계) [0-9]++(?:[.,][0-9]++)?+[KMGkmg]?+", re.S)

# IIS pads "<DIR>" with exactly this many spaces before the name (the name column).
_IIS_DIR_PAD = " " * 10


def _link(kind: str, name: str) -> tuple[str, str | None]:
    """``(name, link target)`` of a LIST line's name field: a link (kind ``l``) reads
    ``name -> target``; others have no target."""
    if kind != "l":
        return name, None
    name, arrow, target = name.partition(" -> ")
    return name, (target if arrow and target else None)

def _parse_unix(text: str, now: datetime) -> ListingEntry | None:
    m = _UNIX_LINE.fullmatch(text) or _UNIX_BARE.fullmatch(text)
    if m is None:
        return None
    kind, name, size_text, month, day, hour, minute, year = m.group(
        "kind", "name", "size", "month", "day", "hour", "minute", "year")  # one call, not eight
    name, link_target = _link(kind, name)
    if name in ("", ".", ".."):
        return None
    size = None if kind in "bc" else _parse_size(size_text)
    return ListingEntry(
        name=name,
        is_dir=kind == "d",
        size=size,
        mtime=ls_time(month, day, hour, minute, year, now),
        is_link=kind == "l",
        link_target=link_target,
    )


def _parse_unix_alt(text: str, now: datetime) -> ListingEntry | None:
    m = _UNIX_ALT_LINE.fullmatch(text)
    if m is None:
        return None
    kind, name = m["kind"], m["name"]
    name, link_target = _link(kind, name)
    if name in ("", ".", ".."):
        return None
    return ListingEntry(name=name, is_dir=kind == "d", size=None if kind in "bc" else _parse_size(m["size"]),
                        mtime=alt_time(m, now), is_link=kind == "l", link_target=link_target)


def _parse_dos(text: str) -> ListingEntry | None:
    m = _DOS.fullmatch(text)
    if m is None:
        return None
    sep, name = m["sep"], m["name"]
    is_dir = m["dir"] is not None
    if is_dir:
        # IIS puts the name 10 spaces after "<DIR>"; spaces beyond are the name's own.
        # Other servers pad differently: then leading spaces cannot be told apart.
        if sep.startswith(_IIS_DIR_PAD):
            name = sep[len(_IIS_DIR_PAD) :] + name
    else:
        # Sizes are right-aligned and followed by exactly one space.
        name = sep[1:] + name
    if name in ("", ".", ".."):
        return None
    return ListingEntry(
        name=name,
        is_dir=is_dir,
        size=None if is_dir else _parse_size(m["size"]),
        mtime=dos_time(m),
    )


def parse_list_line(line: str, now: datetime) -> ListingEntry | None:
    """Parse one LIST line, Unix ``ls -l`` style or DOS/IIS style.

    ``now`` (naive = UTC) fixes the year of ``ls`` dates printed as ``Jan 12 14:05``; see
    the module docstring for how times are read. Returns ``None`` for ``total N``, blank
    lines, ``.`` and ``..``, text with a line feed inside, and anything not recognised.
    For a symlink (``name -> target``) the name is the part before the first ``" -> "``.
    """
    text = _strip_eol(line)
    if "\n" in text or not text.strip() or _TOTAL.fullmatch(text):
        return None
    return _parse_unix(text, now) or _parse_unix_alt(text, now) or _parse_dos(text)


def is_skippable_list_line(line: str) -> bool:
    """Whether a LIST line that :func:`parse_list_line` gave ``None`` for is one that
    holds no entry by design (blank, ``total N``, the ``.`` and ``..`` folders), not junk
    that may hide one."""
    text = _strip_eol(line)
    if "\n" in text:
        return False
    if not text.strip() or _TOTAL.fullmatch(text):
        return True
    m = (_UNIX_LINE.fullmatch(text) or _UNIX_BARE.fullmatch(text) or _UNIX_ALT_LINE.fullmatch(text)
         or _DOS.fullmatch(text))
    return m is not None and m["name"] in (".", "..")


def parse_list(lines: Iterable[str], now: datetime) -> list[ListingEntry]:
    """Parse LIST output line by line, dropping ``total N``, ``.``/``..`` and junk."""
    return [entry for line in lines if (entry := parse_list_line(line, now)) is not None]
