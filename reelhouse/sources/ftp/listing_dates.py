"""The dates of FTP LIST lines, read as UTC: ``ls -l`` (C and European month names),
``ls --time-style`` ISO forms, CJK locales, and DOS/IIS (``MM-DD-YY``).

Used by the line parsers of :mod:`.listing` and the whole-text parsers of
:mod:`.listing_text`; the formats and why times are read as UTC are in
:mod:`.listing`'s docstring. No I/O and no clock: yearless dates take the caller's
``now``. Invalid dates give ``None``; nothing here raises on any input text.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime

__all__ = ["ALT_DATE", "MONTHS", "SIX_MONTHS", "alt_time", "as_utc", "dos_time", "ls_time", "recent_time",
           "timestamp"]

#: Half a mean Gregorian year, seconds: the window in which ``ls -l`` prints ``HH:MM``
#: instead of the year (GNU coreutils ``ls.c``: ``six_months_ago = now - 31556952 / 2``).
SIX_MONTHS = 31_556_952 / 2


# Month abbreviations as ``ls`` prints them: the C locale, plus the usual abbreviations
# of servers run under a German, French, Spanish, Italian or Portuguese LC_TIME (glibc
# locale data). Keys are lower case without a trailing dot.
MONTHS: dict[str, int] = {
    **{m: i for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )},
    "sept": 9,
    # de
    "jän": 1, "mär": 3, "mrz": 3, "mai": 5, "okt": 10, "dez": 12,
    # fr
    "janv": 1, "févr": 2, "fév": 2, "mars": 3, "avr": 4, "juin": 6, "juil": 7,
    "août": 8, "aoû": 8, "déc": 12,
    # es
    "ene": 1, "abr": 4, "ago": 8, "dic": 12,
    # it
    "gen": 1, "mag": 5, "giu": 6, "lug": 7, "set": 9, "ott": 10,
    # pt
    "fev": 2, "out": 10,
}  # fmt: skip


def timestamp(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float | None:
    """Seconds since the epoch of a UTC wall time; ``None`` if it is not a valid time."""
    try:
        return datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()
    except (ValueError, OverflowError):
        return None


def as_utc(now: datetime) -> datetime:
    """``now`` in UTC; a naive ``now`` is taken to be UTC already."""
    if now.tzinfo is None or now.utcoffset() is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


# The dates of ``ls --time-style=long-iso|full-iso|iso`` and of CJK locales (the
# docstring of :mod:`.listing`): one alternative each, groups named by the form (i: ISO with a time, o:
# ISO day only, r: ISO recent, c: CJK with a year first, k: CJK month and day first),
# and dotted numeric dates (e: ``29.11.2026 20:15`` / ``29.11.26``, day first as in
# :func:`dos_time`, from a ``--time-style=+%d.%m.%Y`` or a server that formats dates by
# its locale; n: ``2004.07.15``, year first: FileZilla's tests/dirparsertest.cpp entry 35).
ALT_DATE = (
    r"(?:(?P<iy>[0-9]{4}+)-(?P<imo>[0-9]{2}+)-(?P<id>[0-9]{2}+)[ \t]++(?P<ih>[0-9]{2}+):(?P<imi>[0-9]{2}+)"
    r"(?::(?P<isec>[0-9]{2}+)(?:\.(?P<ifrac>[0-9]{1,9}+))?+(?:[ \t]++(?P<iz>[-+][0-9]{4}+))?+)?+"
    r"|(?P<oy>[0-9]{4}+)-(?P<omo>[0-9]{2}+)-(?P<od>[0-9]{2}+) ?"  # iso's "%Y-%m-%d " has its own space
    r"|(?P<rmo>[0-9]{2}+)-(?P<rd>[0-9]{2}+)[ \t]++(?P<rh>[0-9]{2}+):(?P<rmi>[0-9]{2}+)"
    r"|(?P<cy>[0-9]{4}+)[年년][ \t]*+(?P<cmo>[0-9]{1,2}+)[月월][ \t]*+(?P<cd>[0-9]{1,2}+)[日일]"
    r"(?:[ \t]++(?P<ch>[0-9]{1,2}+):(?P<cmi>[0-9]{2}+))?+"
    r"|(?P<kmo>[0-9]{1,2}+)[月월][ \t]*+(?P<kd>[0-9]{1,2}+)[日일]?+"
    r"[ \t]++(?:(?P<kh>[0-9]{1,2}+):(?P<kmi>[0-9]{2}+)|(?P<ky>[0-9]{4}+)[年년]?+)"
    r"|(?P<ed>[0-9]{1,2}+)\.(?P<emo>[0-9]{1,2}+)\.(?P<ey>[0-9]{4}+|[0-9]{2}+)"
    r"(?:[ \t]++(?P<eh>[0-9]{1,2}+):(?P<emi>[0-9]{2}+))?+"
    r"|(?P<ny>[0-9]{4}+)\.(?P<nmo>[0-9]{2}+)\.(?P<nd>[0-9]{2}+)(?:[ \t]++(?P<nh>[0-9]{1,2}+):(?P<nmi>[0-9]{2}+))?+)"
)


@functools.lru_cache(maxsize=4096)  # the files of one folder often share a date (one `now` per listing)
def ls_time(
    month: str, day: str, hour: str | None, minute: str | None, year: str | None, now: datetime
) -> float | None:
    """The mtime of an ``ls -l`` date, read as UTC.

    ``Jan 12  2023`` is midnight of that day. ``Jan 12 14:05`` has no year: it is
    ``now``'s year unless that puts it more than six months after ``now``, then the year
    before (``ls`` prints this form only for times within six months of its clock).
    """
    mon = MONTHS.get(month.rstrip(".").lower())
    if mon is None:
        return None
    d = int(day)
    if year is not None:
        return timestamp(int(year), mon, d)
    assert hour is not None and minute is not None
    return recent_time(mon, d, int(hour), int(minute), now)



def alt_time(m: re.Match[str], now: datetime) -> float | None:
    """The mtime of an ISO, CJK or dotted ``ls`` date (:data:`ALT_DATE`), read as UTC, but
    for full-iso's explicit zone (``+0100``: taken off). A date without a year follows
    ``ls``'s six-month rule (:func:`ls_time`)."""
    if m["iy"] is not None:
        stamp = timestamp(int(m["iy"]), int(m["imo"]), int(m["id"]), int(m["ih"]), int(m["imi"]))
        if stamp is None or m["isec"] is None:
            return stamp
        if int(m["isec"]) > 60:
            return None
        frac = m["ifrac"] or ""
        stamp += int(m["isec"]) + (int(frac) / 10 ** len(frac) if frac else 0.0)
        if (zone := m["iz"]) is not None:
            minutes = int(zone[1:3]) * 60 + int(zone[3:5])
            stamp -= minutes * 60 if zone[0] == "+" else -minutes * 60
        return stamp
    if m["oy"] is not None:
        return timestamp(int(m["oy"]), int(m["omo"]), int(m["od"]))
    if m["cy"] is not None:
        return timestamp(int(m["cy"]), int(m["cmo"]), int(m["cd"]), int(m["ch"] or 0), int(m["cmi"] or 0))
    if m["ky"] is not None:
        return timestamp(int(m["ky"]), int(m["kmo"]), int(m["kd"]))
    if m["ey"] is not None:
        year = int(m["ey"])
        if len(m["ey"]) == 2:
            year += 1900 if year >= 69 else 2000  # POSIX strptime %y, as dos_time
        return timestamp(year, int(m["emo"]), int(m["ed"]), int(m["eh"] or 0), int(m["emi"] or 0))
    if m["ny"] is not None:
        return timestamp(int(m["ny"]), int(m["nmo"]), int(m["nd"]), int(m["nh"] or 0), int(m["nmi"] or 0))
    month, day, hour, minute = ((m["rmo"], m["rd"], m["rh"], m["rmi"]) if m["rmo"] is not None
                                else (m["kmo"], m["kd"], m["kh"], m["kmi"]))
    return recent_time(int(month), int(day), int(hour), int(minute), now)


def recent_time(month: int, day: int, hour: int, minute: int, now: datetime) -> float | None:
    """A yearless ``ls`` time: ``now``'s year unless that is more than six months
    ahead of ``now``, then the year before (:func:`ls_time`)."""
    ref = as_utc(now)
    stamp = timestamp(ref.year, month, day, hour, minute)
    if stamp is None or stamp > ref.timestamp() + SIX_MONTHS:
        stamp = timestamp(ref.year - 1, month, day, hour, minute)
    return stamp


def dos_time(m: re.Match[str]) -> float | None:
    """The mtime of a DOS/IIS date, read as UTC: ``m`` is a match of
    :data:`.listing._DOS` (groups ``mo``, ``dsep``, ``d``, ``y``, ``h``, ``mi``, ``ampm``).

    * ``MM-DD-YY`` / ``MM-DD-YYYY`` and ``MM/DD/YY``, 12 h or 24 h clock: month first,
      as Microsoft IIS writes them (``01-12-23  02:05PM``; the MS-DOS date of
      learn.microsoft.com "MS-DOS Date and Time"; Windows CE in 24 h, pyfilesystem2
      issue 438). A first field above 12 is taken as a day (``DD-MM-YYYY`` servers).
    * ``DD.MM.YYYY`` / ``DD.MM.YY`` (``29.11.2026  20:15``): **day first**. A dot is the
      date separator of the locales that write the day first (de, ru, pl, cs, fi, nb...:
      CLDR short dates ``dd.MM.y``, glibc ``d_fmt "%d.%m.%Y"``); Windows servers listing
      with their regional settings and IBM i (``18.09.06 14:21:26``, FileZilla's
      tests/dirparsertest.cpp entry 55) print them. FileZilla's client reads them the
      same way (``directorylistingparser.cpp``, ``ParseShortDate``: "Maybe dd.mm.yyyy").

    Two-digit years follow POSIX ``strptime %y``: 69–99 are 19xx, 00–68 are 20xx.
    """
    month, day = int(m["mo"]), int(m["d"])
    if m["dsep"] == "." or month > 12 >= day:
        month, day = day, month
    year = int(m["y"])
    if len(m["y"]) == 2:
        year += 1900 if year >= 69 else 2000
    hour = int(m["h"])
    ampm = m["ampm"]
    if ampm is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
    return timestamp(year, month, day, hour, int(m["mi"]))
