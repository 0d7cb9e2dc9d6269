"""Tests for reelhouse.sources.ftp.listing: real server output, then properties.

The table lines are written the way each server formats them (column widths, zero-padded
days, CRLF endings); ``NOW`` is the clock the listings were "taken" at.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from reelhouse.sources.ftp.listing import (
    SIX_MONTHS,
    ListingEntry,
    parse_list,
    parse_list_line,
    parse_mlsd,
    parse_mlsd_line,
)
from reelhouse.sources.ftp.listing_text import parse_list_text

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
GiB = 1024**3


def ts(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: float = 0) -> float:
    return datetime(y, mo, d, h, mi, tzinfo=UTC).timestamp() + s


def f(name: str, size: int | None, mtime: float | None) -> ListingEntry:
    return ListingEntry(name=name, is_dir=False, size=size, mtime=mtime)


def d(name: str, size: int | None, mtime: float | None) -> ListingEntry:
    return ListingEntry(name=name, is_dir=True, size=size, mtime=mtime)


def link(name: str, size: int | None, mtime: float | None, target: str | None) -> ListingEntry:
    return ListingEntry(name=name, is_dir=False, size=size, mtime=mtime, is_link=True, link_target=target)


# ------------------------------------------------------------------- Unix LIST lines

UNIX_CASES: list[tuple[str, str, ListingEntry | None]] = [
    # vsftpd: "%s %4d %-8s %-8s %8lld %s %s", zero-padded day ("Mar 01").
    (
        "vsftpd-file",
        "-rw-r--r--    1 ftp      ftp      1288490189 Mar 01 10:00 Sintel (2010).mkv\r\n",
        f("Sintel (2010).mkv", 1288490189, ts(2024, 3, 1, 10, 0)),
    ),
    (
        "vsftpd-dir",
        "drwxr-xr-x    2 ftp      ftp          4096 Feb 03 18:22 Films\r\n",
        d("Films", 4096, ts(2024, 2, 3, 18, 22)),
    ),
    (
        "vsftpd-numeric-ids-year",
        "-rw-r--r--    1 1000     1000     5368709120 Dec 24  2022 It's a Wonderful Life (1946).mkv",
        f("It's a Wonderful Life (1946).mkv", 5 * GiB, ts(2022, 12, 24)),
    ),
    (
        "vsftpd-symlink",
        "lrwxrwxrwx    1 ftp      ftp            23 Feb 28 09:15 latest.mkv -> Films/Sintel (2010).mkv",
        link("latest.mkv", 23, ts(2024, 2, 28, 9, 15), "Films/Sintel (2010).mkv"),
    ),
    # pure-ftpd: wider owner/group columns, space-padded day.
    (
        "pure-ftpd-unicode",
        "-rw-r--r--    1 1000       1000       7516192768 Mar  3 21:47 Amélie (2001).mkv",
        f("Amélie (2001).mkv", 7 * GiB, ts(2024, 3, 3, 21, 47)),
    ),
    (
        "pure-ftpd-dir-cjk",
        "drwxr-xr-x    4 alice      users            4096 Nov 30  2023 千と千尋の神隠し (2001)",
        d("千と千尋の神隠し (2001)", 4096, ts(2023, 11, 30)),
    ),
    # proftpd: the year rule. NOW is 2024-03-15; Oct 2 2024 would be > 6 months ahead.
    (
        "proftpd-last-year",
        "-rw-r--r--   1 alice    users    4294967296 Oct  2 14:05 千と千尋の神隠し.mkv",
        f("千と千尋の神隠し.mkv", 4 * GiB, ts(2023, 10, 2, 14, 5)),
    ),
    (
        "proftpd-sep20-last-year",
        "drwxr-xr-x   3 alice    users        4096 Sep 20 08:00 Breaking Bad",
        d("Breaking Bad", 4096, ts(2023, 9, 20, 8, 0)),
    ),
    (
        "proftpd-future-within-six-months",
        "drwxr-xr-x   3 alice    users        4096 Sep 10 08:00 Better Call Saul",
        d("Better Call Saul", 4096, ts(2024, 9, 10, 8, 0)),
    ),
    (
        "proftpd-dec-last-year",
        "-rw-r--r--   1 alice    users      734003200 Dec 31 23:59 New Year's Eve.avi",
        f("New Year's Eve.avi", 734003200, ts(2023, 12, 31, 23, 59)),
    ),
    # pyftpdlib: "%s %3s %-8s %-8s %8s %s %s", "%d  %Y" for old files.
    (
        "pyftpdlib-file",
        "-rw-r--r--   1 owner    group    10737418240 Jan 05 18:30 The.Matrix.1999.2160p.mkv\r\n",
        f("The.Matrix.1999.2160p.mkv", 10 * GiB, ts(2024, 1, 5, 18, 30)),
    ),
    (
        "pyftpdlib-year",
        "drwxr-xr-x   2 owner    group        4096 Jan 12  2023 Season 01\r\n",
        d("Season 01", 4096, ts(2023, 1, 12)),
    ),
    # busybox ftpd (runs "ls -l"): numeric ids.
    (
        "busybox-brackets",
        "-rw-r--r--    1 0        0        2147483648 Mar 14 23:59 [Group] Show - 01 [1080p].mkv",
        f("[Group] Show - 01 [1080p].mkv", 2 * GiB, ts(2024, 3, 14, 23, 59)),
    ),
    (
        "busybox-char-device",
        "crw-rw-rw-    1 0        0          1,   3 Mar 14 10:00 null",
        f("null", None, ts(2024, 3, 14, 10, 0)),
    ),
    (
        "block-device",
        "brw-rw----    1 root     disk       8,   0 Mar 14 10:00 sda",
        f("sda", None, ts(2024, 3, 14, 10, 0)),
    ),
    # FileZilla Server: "ftp ftp", single spaces.
    (
        "filezilla-leap-day",
        "-rw-r--r-- 1 ftp ftp     1610612736 Feb 29 20:00 Leap (2024).mkv",
        f("Leap (2024).mkv", 1610612736, ts(2024, 2, 29, 20, 0)),
    ),
    (
        "filezilla-leap-day-year",
        "-rw-r--r-- 1 ftp ftp     1610612736 Feb 29  2020 Leap (2020).mkv",
        f("Leap (2020).mkv", 1610612736, ts(2020, 2, 29)),
    ),
    (
        "filezilla-dir",
        "drwxr-xr-x 1 ftp ftp              0 Mar 02 07:07 TV Shows",
        d("TV Shows", 0, ts(2024, 3, 2, 7, 7)),
    ),
    # Synology DSM ftpd / QNAP (proftpd).
    (
        "synology-recycle",
        "drwxrwxrwx   1 admin    users           0 Mar 10 10:10 #recycle",
        d("#recycle", 0, ts(2024, 3, 10, 10, 10)),
    ),
    (
        "synology-accents",
        "-rwxrwxrwx   1 admin    users  4831838208 Mar 10 10:10 Le Fabuleux Destin d'Amélie Poulain.mkv",
        f("Le Fabuleux Destin d'Amélie Poulain.mkv", 4831838208, ts(2024, 3, 10, 10, 10)),
    ),
    (
        "qnap-quotes",
        '-rw-rw-rw-   1 admin    administrators 3221225472 Jan 15 22:00 "Quoted" Title (2020).mkv',
        f('"Quoted" Title (2020).mkv', 3 * GiB, ts(2024, 1, 15, 22, 0)),
    ),
    # Column variants.
    (
        "no-group-column",
        "-rw-r--r--   1 ftp  734003200 Dec 24  2022 Miracle on 34th Street.avi",
        f("Miracle on 34th Street.avi", 734003200, ts(2022, 12, 24)),
    ),
    (
        "acl-marker",
        "-rw-r--r--+  1 alice    users        1000 Mar 01 10:00 acl.mkv",
        f("acl.mkv", 1000, ts(2024, 3, 1, 10, 0)),
    ),
    (
        "selinux-marker-sticky",
        "drwxrwxrwt.  2 root     root         4096 Mar 01 10:00 tmp",
        d("tmp", 4096, ts(2024, 3, 1, 10, 0)),
    ),
    (
        "owner-named-like-month",
        "-rw-r--r--   1 may      jun           100 Mar 01 10:00 x.mkv",
        f("x.mkv", 100, ts(2024, 3, 1, 10, 0)),
    ),
    (
        "name-contains-a-date",
        "-rw-r--r--   1 ftp      ftp           100 Mar 01 10:00 1 2 Jan 12 14:05 weird.mkv",
        f("1 2 Jan 12 14:05 weird.mkv", 100, ts(2024, 3, 1, 10, 0)),
    ),
    (
        "owner-month-numeric-group-cannot-pose-as-date",
        "-rw-r--r--   1 ftp      0            1000 Jan  1 00:00 0",
        f("0", 1000, ts(2024, 1, 1, 0, 0)),
    ),
    (
        "owner-jan-group-12",
        "-rw-r--r--   1 jan      12           2023 Mar 01 10:00 Jan 12 2023.mkv",
        f("Jan 12 2023.mkv", 2023, ts(2024, 3, 1, 10, 0)),
    ),
    (
        "group-with-space",
        "-rwxrwxrwx   1 owner    Domain Users  100 Mar 01 10:00 x.mkv",
        f("x.mkv", 100, ts(2024, 3, 1, 10, 0)),
    ),
    (
        "no-link-owner-group-columns",
        "-rw-r--r-- 1234 Mar 01 10:00 bare.mkv",
        f("bare.mkv", 1234, ts(2024, 3, 1, 10, 0)),
    ),
    # Names: spaces, semicolons, arrows, emoji.
    (
        "multiple-spaces",
        "-rw-r--r--   1 ftp      ftp           100 Mar 01 10:00 Two  spaces   here.mkv",
        f("Two  spaces   here.mkv", 100, ts(2024, 3, 1, 10, 0)),
    ),
    (
        "leading-spaces",
        "-rw-r--r--   1 ftp      ftp           100 Mar 01 10:00   leading.mkv",
        f("  leading.mkv", 100, ts(2024, 3, 1, 10, 0)),
    ),
    (
        "trailing-spaces",
        "-rw-r--r--   1 ftp      ftp           100 Mar 01 10:00 trailing.mkv  \r\n",
        f("trailing.mkv  ", 100, ts(2024, 3, 1, 10, 0)),
    ),
    (
        "semicolons-and-equals",
        "-rw-r--r--   1 ftp      ftp           100 Mar 01 10:00 Title; Part=2.mkv",
        f("Title; Part=2.mkv", 100, ts(2024, 3, 1, 10, 0)),
    ),
    (
        "arrow-in-regular-file",
        "-rw-r--r--   1 ftp      ftp           100 Mar 01 10:00 a -> b.mkv",
        f("a -> b.mkv", 100, ts(2024, 3, 1, 10, 0)),
    ),
    (
        "symlink-to-folder",
        "lrwxrwxrwx   1 ftp      ftp            15 Mar 01 10:00 Series -> /mnt/nas/Series",
        link("Series", 15, ts(2024, 3, 1, 10, 0), "/mnt/nas/Series"),
    ),
    (
        "symlink-without-target",
        "lrwxrwxrwx   1 ftp      ftp            15 Mar 01 10:00 dangling",
        link("dangling", 15, ts(2024, 3, 1, 10, 0), None),
    ),
    (
        "emoji",
        "-rw-r--r--   1 ftp      ftp           100 Mar 01 10:00 🎬 Film Night 🍿.mp4",
        f("🎬 Film Night 🍿.mp4", 100, ts(2024, 3, 1, 10, 0)),
    ),
    # Dates: old years, localised and unknown month names.
    (
        "year-1999",
        "-rw-r--r--   1 ftp      ftp           100 Dec 31  1999 Y2K.mkv",
        f("Y2K.mkv", 100, ts(1999, 12, 31)),
    ),
    (
        "german-month",
        "-rw-r--r--   1 ftp      ftp           100 Mär  1 10:00 März.mkv",
        f("März.mkv", 100, ts(2024, 3, 1, 10, 0)),
    ),
    (
        "french-month-with-dot",
        "-rw-r--r--   1 ftp      ftp           100 févr. 12  2023 Février.mkv",
        f("Février.mkv", 100, ts(2023, 2, 12)),
    ),
    (
        "unknown-month-keeps-entry",
        "-rw-r--r--   1 ftp      ftp           100 Xyz  1 10:00 x.mkv",
        f("x.mkv", 100, None),
    ),
    (
        "invalid-time-keeps-entry",
        "-rw-r--r--   1 ftp      ftp           100 Mar 01 25:61 x.mkv",
        f("x.mkv", 100, None),
    ),
    (
        "huge-size-is-unknown",
        f"-rw-r--r--   1 ftp      ftp      {'9' * 5000} Mar 01 10:00 x.mkv",
        f("x.mkv", None, ts(2024, 3, 1, 10, 0)),
    ),
    # Lines that are not entries.
    ("total", "total 24\r\n", None),
    ("total-zero", "total 0", None),
    ("blank", "\r\n", None),
    ("spaces-only", "   ", None),
    ("dot", "drwxr-xr-x   2 ftp      ftp          4096 Mar 01 10:00 .", None),
    ("dotdot", "drwxr-xr-x   2 ftp      ftp          4096 Mar 01 10:00 ..", None),
    ("no-name", "-rw-r--r--   1 ftp      ftp           100 Mar 01 10:00 ", None),
    ("no-date", "-rw-r--r--   1 ftp      ftp           100 x.mkv", None),
    ("server-message", "226 Transfer complete.", None),
]


@pytest.mark.parametrize(("line", "expected"), [c[1:] for c in UNIX_CASES], ids=[c[0] for c in UNIX_CASES])
def test_parse_list_line_unix(line: str, expected: ListingEntry | None) -> None:
    assert parse_list_line(line, NOW) == expected


# -------------------------------------------------------------------- DOS LIST lines

DOS_CASES: list[tuple[str, str, ListingEntry | None]] = [
    (
        "iis-dir-12h",
        "01-12-23  02:05PM       <DIR>          Folder Name\r\n",
        d("Folder Name", None, ts(2023, 1, 12, 14, 5)),
    ),
    (
        "iis-file-12h-over-4gib",
        "03-14-24  11:30AM           5368709120 Amélie (2001).mkv\r\n",
        f("Amélie (2001).mkv", 5 * GiB, ts(2024, 3, 14, 11, 30)),
    ),
    (
        "iis-cjk",
        "03-14-24  11:30AM                12345 千と千尋の神隠し.mkv",
        f("千と千尋の神隠し.mkv", 12345, ts(2024, 3, 14, 11, 30)),
    ),
    (
        "four-digit-year-24h",
        "01-12-2023  14:05  1234567 file name.mkv",
        f("file name.mkv", 1234567, ts(2023, 1, 12, 14, 5)),
    ),
    (
        "midnight-am",
        "12-31-99  12:00AM       <DIR>          Millennium",
        d("Millennium", None, ts(1999, 12, 31, 0, 0)),
    ),
    (
        "noon-pm",
        "06-01-2024  12:30PM                  100 lunch.mkv",
        f("lunch.mkv", 100, ts(2024, 6, 1, 12, 30)),
    ),
    (
        "year-70-is-1970",
        "01-01-70  12:00AM                    0 epoch.txt",
        f("epoch.txt", 0, ts(1970, 1, 1)),
    ),
    (
        "year-68-is-2068",
        "01-01-68  01:00AM                    0 future.txt",
        f("future.txt", 0, ts(2068, 1, 1, 1, 0)),
    ),
    (
        "thousands-separators",
        "03-14-2024  09:00PM      1,073,741,824 big.mkv",
        f("big.mkv", GiB, ts(2024, 3, 14, 21, 0)),
    ),
    (
        "dir-leading-space-iis-columns",
        "03-14-24  09:00PM       <DIR>           Spaced",
        d(" Spaced", None, ts(2024, 3, 14, 21, 0)),
    ),
    (
        "dir-other-padding",
        "03-14-2024  21:00  <DIR>  The Wire [S01-S05]",
        d("The Wire [S01-S05]", None, ts(2024, 3, 14, 21, 0)),
    ),
    (
        "file-leading-space",
        "03-14-24  09:00PM                  100  spaced.mkv",
        f(" spaced.mkv", 100, ts(2024, 3, 14, 21, 0)),
    ),
    (
        "file-quotes-semicolons",
        '03-14-24  09:00PM                  100 "Heat"; Director\'s Cut.mkv',
        f('"Heat"; Director\'s Cut.mkv', 100, ts(2024, 3, 14, 21, 0)),
    ),
    (
        "day-first-when-month-impossible",
        "25-12-2023  18:00               100 xmas.mkv",
        f("xmas.mkv", 100, ts(2023, 12, 25, 18, 0)),
    ),
    (
        "bad-12h-hour-keeps-entry",
        "03-14-24  13:00PM                  100 odd.mkv",
        f("odd.mkv", 100, None),
    ),
    (
        "dos-huge-size-is-unknown",
        f"03-14-24  09:00PM  {'9' * 5000} x.mkv",
        f("x.mkv", None, ts(2024, 3, 14, 21, 0)),
    ),
    ("dos-no-name", "03-14-24  09:00PM       <DIR>          ", None),
    (
        "dotted-date-is-day-first",
        "05.11.2023  20:15       <DIR>          Films",
        d("Films", None, ts(2023, 11, 5, 20, 15)),
    ),
    (
        "dotted-two-digit-year-and-dotted-groups",
        "04.01.24  09:05             1.234.567 Heat (1995).mkv",
        f("Heat (1995).mkv", 1_234_567, ts(2024, 1, 4, 9, 5)),
    ),
    (
        "nbsp-groups",
        "04.01.24  09:05        5\u00a0368\u00a0709\u00a0120 big.mkv",
        f("big.mkv", 5 * GiB, ts(2024, 1, 4, 9, 5)),
    ),
    (
        "slash-date-stays-month-first",
        "01/04/24  09:05AM                  100 us.mkv",
        f("us.mkv", 100, ts(2024, 1, 4, 9, 5)),
    ),
    ("mixed-date-separators-are-no-date", "04.01-24  09:05                  100 x.mkv", None),
]


@pytest.mark.parametrize(("line", "expected"), [c[1:] for c in DOS_CASES], ids=[c[0] for c in DOS_CASES])
def test_parse_list_line_dos(line: str, expected: ListingEntry | None) -> None:
    assert parse_list_line(line, NOW) == expected


# ------------------------------------------------------------------------ MLSD lines

MLSD_CASES: list[tuple[str, str, ListingEntry | None]] = [
    # pure-ftpd
    (
        "pure-ftpd-file",
        "type=file;size=5368709120;modify=20240314213000;UNIX.mode=0644;UNIX.uid=1000;"
        "UNIX.gid=1000;unique=803g12a4f; Amélie (2001).mkv\r\n",
        f("Amélie (2001).mkv", 5 * GiB, ts(2024, 3, 14, 21, 30)),
    ),
    (
        "pure-ftpd-dir",
        "type=dir;sizd=4096;modify=20231130080000;UNIX.mode=0755;UNIX.uid=1000;"
        "UNIX.gid=1000;unique=803g12a50; 千と千尋の神隠し (2001)\r\n",
        d("千と千尋の神隠し (2001)", 4096, ts(2023, 11, 30, 8, 0)),
    ),
    (
        "pure-ftpd-cdir",
        "type=cdir;sizd=4096;modify=20240314213000;UNIX.mode=0755;UNIX.uid=0;UNIX.gid=0;unique=803g2; .",
        None,
    ),
    (
        "pure-ftpd-pdir",
        "type=pdir;sizd=4096;modify=20240314213000;UNIX.mode=0755;UNIX.uid=0;UNIX.gid=0;unique=803g1; ..",
        None,
    ),
    # proftpd
    (
        "proftpd-file",
        "modify=20230112140500;perm=adfr;size=4294967296;type=file;unique=FD00U1A2B;"
        "UNIX.group=100;UNIX.groupname=users;UNIX.mode=0644;UNIX.owner=1000;"
        "UNIX.ownername=alice; 千と千尋の神隠し.mkv",
        f("千と千尋の神隠し.mkv", 4 * GiB, ts(2023, 1, 12, 14, 5)),
    ),
    (
        "proftpd-dir",
        "modify=20230112140500;perm=flcdmpe;type=dir;unique=FD00U1A2C;UNIX.group=100;"
        "UNIX.groupname=users;UNIX.mode=0755;UNIX.owner=1000;UNIX.ownername=alice; Breaking Bad",
        d("Breaking Bad", None, ts(2023, 1, 12, 14, 5)),
    ),
    (
        "proftpd-slink-target-with-spaces",
        "modify=20240301100000;perm=adfr;size=23;type=OS.unix=slink:/srv/films/Sintel (2010).mkv;"
        "unique=FD00U1A2D;UNIX.mode=0777; latest.mkv",
        link("latest.mkv", 23, ts(2024, 3, 1, 10, 0), "/srv/films/Sintel (2010).mkv"),
    ),
    (
        "proftpd-symlink-no-target",
        "modify=20240301100000;perm=adfr;size=15;type=OS.unix=symlink;unique=FD00U1A2E; Series",
        link("Series", 15, ts(2024, 3, 1, 10, 0), None),
    ),
    (
        "proftpd-chardev",
        "modify=20240301100000;perm=r;type=OS.unix=chardev;unique=5U3; null",
        f("null", None, ts(2024, 3, 1, 10, 0)),
    ),
    # pyftpdlib: facts sorted by name.
    (
        "pyftpdlib-file",
        "modify=20240105183000;perm=r;size=10737418240;type=file;unique=803g1a; The.Matrix.1999.2160p.mkv\r\n",
        f("The.Matrix.1999.2160p.mkv", 10 * GiB, ts(2024, 1, 5, 18, 30)),
    ),
    (
        "pyftpdlib-dir",
        "modify=20230112000000;perm=el;type=dir;unique=803g1b; Season 01\r\n",
        d("Season 01", None, ts(2023, 1, 12)),
    ),
    (
        "pyftpdlib-cdir",
        "modify=20230112000000;perm=el;type=cdir;unique=803g1c; .",
        None,
    ),
    # Microsoft IIS: milliseconds on modify.
    (
        "iis-dir",
        "type=dir;modify=20230112140523.123; Folder Name",
        d("Folder Name", None, ts(2023, 1, 12, 14, 5, 23.123)),
    ),
    (
        "iis-file",
        "type=file;size=10737418240;modify=20240101000000.000;create=20231231000000.000; The Matrix (1999).mkv",
        f("The Matrix (1999).mkv", 10 * GiB, ts(2024, 1, 1)),
    ),
    # FileZilla Server, Serv-U (capitalised fact names).
    (
        "filezilla-file",
        "type=file;modify=20240314120000;size=1234;perm=adfrw; [Group] Show - 01 [1080p].mkv",
        f("[Group] Show - 01 [1080p].mkv", 1234, ts(2024, 3, 14, 12, 0)),
    ),
    (
        "servu-capitalised",
        "Type=File;Size=1234;Modify=20240314120000.000;Perm=rw; Heat (1995).mkv",
        f("Heat (1995).mkv", 1234, ts(2024, 3, 14, 12, 0)),
    ),
    (
        "upper-case-dir",
        "TYPE=DIR;MODIFY=20240314120000; Films",
        d("Films", None, ts(2024, 3, 14, 12, 0)),
    ),
    # Names.
    (
        "name-semicolons-equals",
        "type=file;size=1;modify=20240314120000; a=b; c;d.mkv",
        f("a=b; c;d.mkv", 1, ts(2024, 3, 14, 12, 0)),
    ),
    (
        "name-leading-and-trailing-spaces",
        "type=file;size=1;modify=20240314120000;   spaced  \r\n",
        f("  spaced  ", 1, ts(2024, 3, 14, 12, 0)),
    ),
    (
        "name-quotes",
        "type=file;size=1;modify=20240314120000; \"Quoted\" 'Title'.mkv",
        f("\"Quoted\" 'Title'.mkv", 1, ts(2024, 3, 14, 12, 0)),
    ),
    (
        "no-trailing-semicolon",
        "type=file;size=7 my film.mkv",
        f("my film.mkv", 7, None),
    ),
    # Odd facts.
    (
        "leap-second",
        "type=file;size=1;modify=20161231235960; leap.mkv",
        f("leap.mkv", 1, ts(2017, 1, 1)),
    ),
    ("bad-modify", "type=file;size=1;modify=20241399000000; x.mkv", f("x.mkv", 1, None)),
    (
        "bad-size",
        "type=file;size=abc;modify=20240314120000; x.mkv",
        f("x.mkv", None, ts(2024, 3, 14, 12)),
    ),
    ("huge-size", f"type=file;size={'9' * 5000}; x.mkv", f("x.mkv", None, None)),
    (
        "huge-fraction",
        f"type=file;modify=20240314120000.{'5' * 5000}; x",
        f("x", None, ts(2024, 3, 14, 12, 0, 0.555555555)),
    ),
    ("size-beats-sizd", "type=dir;size=5;sizd=4096; d", d("d", 5, None)),
    # Not entries.
    ("dot-as-dir", "type=dir;modify=20240314120000; .", None),
    ("dotdot-as-dir", "type=dir;modify=20240314120000; ..", None),
    ("missing-type", "size=1;modify=20240314120000; x.mkv", None),
    ("unknown-type", "type=weird;size=1; x.mkv", None),
    ("no-facts", " x.mkv", None),
    ("empty", "", None),
    ("crlf-only", "\r\n", None),
    ("no-name", "type=file;size=1; ", None),
    ("plain-text", "hello", None),
    ("list-line-is-not-mlsd", "-rw-r--r--   1 ftp ftp 100 Mar 01 10:00 x.mkv", None),
]


@pytest.mark.parametrize(("line", "expected"), [c[1:] for c in MLSD_CASES], ids=[c[0] for c in MLSD_CASES])
def test_parse_mlsd_line(line: str, expected: ListingEntry | None) -> None:
    assert parse_mlsd_line(line) == expected


# ------------------------------------------------------------------ whole listings

VSFTPD_LISTING = (
    "drwxr-xr-x    2 ftp      ftp          4096 Feb 03 18:22 Films\r\n"
    "-rw-r--r--    1 ftp      ftp      1288490189 Mar 01 10:00 Sintel (2010).mkv\r\n"
    "lrwxrwxrwx    1 ftp      ftp            23 Feb 28 09:15 latest.mkv -> Sintel (2010).mkv\r\n"
)

PROFTPD_LISTING = (
    "total 12582928\r\n"
    "drwxr-xr-x   3 alice    users        4096 Mar 14 09:00 .\r\n"
    "drwxr-xr-x   5 alice    users        4096 Jan 02  2023 ..\r\n"
    "-rw-r--r--   1 alice    users    6442450944 Mar 14 08:59 Amélie (2001).mkv\r\n"
    "-rw-r--r--   1 alice    users       48213 Mar 14 09:00 Amélie (2001).fr.srt\r\n"
    "\r\n"
)

IIS_LISTING = (
    "02-25-14  10:49AM       <DIR>          aspnet_client\r\n"
    "03-14-24  11:30AM           5368709120 千と千尋の神隠し.mkv\r\n"
)

PURE_FTPD_MLSD = (
    "type=cdir;sizd=4096;modify=20240314090000;UNIX.mode=0755;UNIX.uid=1000;UNIX.gid=100;"
    "unique=803g2; .\r\n"
    "type=pdir;sizd=4096;modify=20230102000000;UNIX.mode=0755;UNIX.uid=1000;UNIX.gid=100;"
    "unique=803g1; ..\r\n"
    "type=file;size=6442450944;modify=20240314085900;UNIX.mode=0644;UNIX.uid=1000;"
    "UNIX.gid=100;unique=803g3; Amélie (2001).mkv\r\n"
    "type=dir;sizd=4096;modify=20240310101000;UNIX.mode=0755;UNIX.uid=1000;UNIX.gid=100;"
    "unique=803g4; Extras; Bonus\r\n"
)


def test_parse_list_vsftpd_listing() -> None:
    assert parse_list(VSFTPD_LISTING.splitlines(keepends=True), NOW) == [
        d("Films", 4096, ts(2024, 2, 3, 18, 22)),
        f("Sintel (2010).mkv", 1288490189, ts(2024, 3, 1, 10, 0)),
        link("latest.mkv", 23, ts(2024, 2, 28, 9, 15), "Sintel (2010).mkv"),
    ]


def test_parse_list_proftpd_listing_skips_total_dots_blank() -> None:
    assert parse_list(PROFTPD_LISTING.splitlines(keepends=True), NOW) == [
        f("Amélie (2001).mkv", 6 * GiB, ts(2024, 3, 14, 8, 59)),
        f("Amélie (2001).fr.srt", 48213, ts(2024, 3, 14, 9, 0)),
    ]


def test_parse_list_iis_listing() -> None:
    assert parse_list(IIS_LISTING.splitlines(), NOW) == [
        d("aspnet_client", None, ts(2014, 2, 25, 10, 49)),
        f("千と千尋の神隠し.mkv", 5 * GiB, ts(2024, 3, 14, 11, 30)),
    ]


def test_parse_list_mixed_styles_line_by_line() -> None:
    lines = [*VSFTPD_LISTING.splitlines(), *IIS_LISTING.splitlines(), "garbage"]
    assert [e.name for e in parse_list(lines, NOW)] == [
        "Films",
        "Sintel (2010).mkv",
        "latest.mkv",
        "aspnet_client",
        "千と千尋の神隠し.mkv",
    ]


def test_parse_mlsd_pure_ftpd_listing() -> None:
    assert parse_mlsd(PURE_FTPD_MLSD.splitlines(keepends=True)) == [
        f("Amélie (2001).mkv", 6 * GiB, ts(2024, 3, 14, 8, 59)),
        d("Extras; Bonus", 4096, ts(2024, 3, 10, 10, 10)),
    ]


def test_parse_list_accepts_generator() -> None:
    assert len(parse_list((line for line in VSFTPD_LISTING.splitlines()), NOW)) == 3
    assert len(parse_mlsd(line for line in PURE_FTPD_MLSD.splitlines())) == 2


# --------------------------------------------------------------------- clock and year


def test_year_rule_uses_now_in_utc() -> None:
    line = "-rw-r--r--   1 ftp ftp 100 Jan 01 00:30 x.mkv"
    # 2023-12-31 23:00 at UTC-5 is 2024-01-01 04:00 UTC: the year is 2024.
    eastern = datetime(2023, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
    entry = parse_list_line(line, eastern)
    assert entry is not None and entry.mtime == ts(2024, 1, 1, 0, 30)


def test_naive_now_is_utc() -> None:
    line = "-rw-r--r--   1 ftp ftp 100 Oct  2 14:05 x.mkv"
    naive = parse_list_line(line, NOW.replace(tzinfo=None))
    assert naive == parse_list_line(line, NOW)


def test_leap_day_time_form_in_non_leap_year_falls_back() -> None:
    # 2025 has no Feb 29; the file must be from 2024.
    entry = parse_list_line("-rw-r--r-- 1 ftp ftp 1 Feb 29 10:00 x", datetime(2025, 3, 1, tzinfo=UTC))
    assert entry is not None and entry.mtime == ts(2024, 2, 29, 10, 0)


# ------------------------------------------------------------------------ properties

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

names = st.text(
    alphabet=st.characters(exclude_characters="/\r\n\x00", codec="utf-8"),
    min_size=1,
    max_size=60,
).filter(lambda s: s not in (".", ".."))

sizes = st.integers(min_value=0, max_value=2**63 - 1)

nows = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9000, 12, 31), timezones=st.just(UTC))

# A naive UTC wall time with whole minutes.
minute_times = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)).map(
    lambda t: t.replace(second=0, microsecond=0)
)

# Owners and groups that look like months, days, sizes and years on purpose.
owners = st.sampled_from(["ftp", "0", "12", "1000", "2023", "alice", "jan", "may", "root"])


def unix_line(kind: str, name: str, size: int, date: str, owner: str, group: str | None) -> str:
    mode = {"-": "-rw-r--r--", "d": "drwxr-xr-x", "l": "lrwxrwxrwx"}[kind]
    group_col = f" {group:<8}" if group is not None else ""
    return f"{mode} {1:>3} {owner:<8}{group_col} {size:>8} {date} {name}\r\n"


@given(
    name=names,
    is_dir=st.booleans(),
    size=sizes,
    now=nows,
    age=st.integers(min_value=0, max_value=int(SIX_MONTHS) - 86400),
    owner=owners,
    group=st.none() | owners,
)
@example(name="0", is_dir=False, size=1000, now=NOW, age=0, owner="ftp", group="0")
@example(name=" lead", is_dir=False, size=0, now=NOW, age=0, owner="ftp", group="ftp")
@example(name="trail ", is_dir=True, size=4096, now=NOW, age=0, owner="0", group=None)
@example(name="Mar 01 10:00 x", is_dir=False, size=1, now=NOW, age=60, owner="ftp", group="ftp")
def test_unix_time_form_round_trips(
    name: str, is_dir: bool, size: int, now: datetime, age: int, owner: str, group: str | None
) -> None:
    when = (now - timedelta(seconds=age)).replace(second=0, microsecond=0)
    date = f"{MONTHS[when.month - 1]} {when.day:2d} {when.hour:02d}:{when.minute:02d}"
    line = unix_line("d" if is_dir else "-", name, size, date, owner, group)
    assert parse_list_line(line, now) == ListingEntry(name, is_dir, size, when.timestamp())


@given(name=names, is_dir=st.booleans(), size=sizes, when=minute_times, owner=owners)
def test_unix_year_form_round_trips(name: str, is_dir: bool, size: int, when: datetime, owner: str) -> None:
    date = f"{MONTHS[when.month - 1]} {when.day:02d}  {when.year}"
    line = unix_line("d" if is_dir else "-", name, size, date, owner, owner)
    midnight = datetime(when.year, when.month, when.day, tzinfo=UTC).timestamp()
    assert parse_list_line(line, NOW) == ListingEntry(name, is_dir, size, midnight)


@given(name=names, target=names, size=sizes)
def test_unix_symlink_round_trips(name: str, target: str, size: int) -> None:
    # The first " -> " ends the name; a name that contains (or ends into) one is ambiguous.
    assume((name + " -> ").find(" -> ") == len(name))
    line = unix_line("l", f"{name} -> {target}", size, "Mar 01 10:00", "ftp", "ftp")
    assert parse_list_line(line, NOW) == link(name, size, ts(2024, 3, 1, 10, 0), target)


@given(
    name=names,
    is_dir=st.booleans(),
    size=sizes,
    when=minute_times.filter(lambda t: 1969 < t.year < 2069),
    four_digit=st.booleans(),
    twelve_hour=st.booleans(),
)
def test_dos_round_trips(
    name: str, is_dir: bool, size: int, when: datetime, four_digit: bool, twelve_hour: bool
) -> None:
    year = f"{when.year:04d}" if four_digit else f"{when.year % 100:02d}"
    if twelve_hour:
        clock = f"{(when.hour + 11) % 12 + 1:02d}:{when.minute:02d}{'PM' if when.hour >= 12 else 'AM'}"
    else:
        clock = f"{when.hour:02d}:{when.minute:02d}"
    middle = "       <DIR>         " if is_dir else f"{size:>20}"
    line = f"{when.month:02d}-{when.day:02d}-{year}  {clock}{middle} {name}\r\n"
    expected_size = None if is_dir else size
    assert parse_list_line(line, NOW) == ListingEntry(name, is_dir, expected_size, when.replace(tzinfo=UTC).timestamp())


FACT_EXTRAS = ["perm=adfr", "unique=803g1a", "UNIX.mode=0644", "UNIX.uid=1000", "lang=en"]


@given(
    name=names,
    is_dir=st.booleans(),
    size=sizes,
    when=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    millis=st.none() | st.integers(min_value=0, max_value=999),
    extras=st.lists(st.sampled_from(FACT_EXTRAS), unique=True),
    upper=st.booleans(),
    data=st.data(),
)
def test_mlsd_round_trips(
    name: str,
    is_dir: bool,
    size: int,
    when: datetime,
    millis: int | None,
    extras: list[str],
    upper: bool,
    data: st.DataObject,
) -> None:
    stamp = f"{when.year:04d}{when.month:02d}{when.day:02d}{when.hour:02d}{when.minute:02d}{when.second:02d}"
    if millis is not None:
        stamp += f".{millis:03d}"
    facts = [
        f"type={'dir' if is_dir else 'file'}",
        f"{'sizd' if is_dir else 'size'}={size}",
        f"modify={stamp}",
        *extras,
    ]
    facts = data.draw(st.permutations(facts))
    text = "".join(f"{key.upper() if upper else key}={value};" for key, _, value in (p.partition("=") for p in facts))
    line = f"{text} {name}\r\n"
    expected_mtime = when.replace(microsecond=0, tzinfo=UTC).timestamp() + (millis or 0) / 1000
    entry = parse_mlsd_line(line)
    assert entry is not None
    assert (entry.name, entry.is_dir, entry.size) == (name, is_dir, size)
    assert entry.mtime == pytest.approx(expected_mtime, abs=1e-4)


@given(text=st.text())
def test_parsers_never_raise_on_text(text: str) -> None:
    for candidate in (text, text + "\r\n"):
        assert isinstance(parse_mlsd_line(candidate), ListingEntry | None)
        assert isinstance(parse_list_line(candidate, NOW), ListingEntry | None)


LISTING_TOKENS = [
    "-rw-r--r--", "drwxr-xr-x", "lrwxrwxrwx", "crw-rw-rw-", "1", "0", "12", "1,", "3",
    "4096", "99999999999", "ftp", "Jan", "Feb", "févr.", "Mär", "31", "29", "00:00",
    "24:60", "12:00", "2023", "0000", "->", "<DIR>", "01-12-23", "13-13-2023", "00-00-00",
    "02:05PM", "12:00AM", "13:00PM", "AM", "type=file;", "type=dir;", "type=cdir;",
    "type=OS.unix=slink:", "size=", "size=12;", "modify=20241301000000;",
    "modify=99999999999999.9;", "sizd=;", ";", "=", " ", "  ", ".", "..", "total", "\t",
    "\r", "\x00", "千", "", "9" * 5000, "modify=20240101000000." + "1" * 5000 + ";",
    "2024-03-05", "14:22:33.123456789", "+0100", "-9999", "03-05", "3月", "5日", "2024年", "12월", "31일",
    "2024년", "合計", "9" * 12 + "月",
]  # fmt: skip


@given(
    tokens=st.lists(st.sampled_from(LISTING_TOKENS), max_size=14),
    sep=st.sampled_from([" ", "  ", "", "\t"]),
    now=nows,
)
def test_parsers_never_raise_on_listing_like_text(tokens: list[str], sep: str, now: datetime) -> None:
    text = sep.join(tokens)
    assert isinstance(parse_mlsd_line(text), ListingEntry | None)
    assert isinstance(parse_list_line(text, now), ListingEntry | None)


@given(now=st.datetimes(timezones=st.just(UTC)))
def test_year_rule_never_raises_at_calendar_edges(now: datetime) -> None:
    for line in (
        "-rw-r--r-- 1 ftp ftp 1 Jan 01 00:00 x",
        "-rw-r--r-- 1 ftp ftp 1 Dec 31 23:59 x",
        "-rw-r--r-- 1 ftp ftp 1 Feb 29 12:00 x",
    ):
        entry = parse_list_line(line, now)
        assert entry is not None and entry.name == "x"


def test_hostile_long_lines_are_fast() -> None:
    # Possessive quantifiers keep the searches linear; these would be O(n²) or worse.
    for text in (
        "-rw-r--r-- " + " 1" * 50_000,
        "-rw-r--r-- " + " " * 100_000 + "x",
        "-rw-r--r-- " + "1" * 100_000,
        "-rw-r--r-- " + " 1 Jan 1" * 20_000,
        "01-01-01 " + " " * 100_000,
        "type=file;" * 20_000,
        "-rw-r--r-- " + " 1, 1" * 20_000,
        "-rw-r--r-- " + " a" * 50_000,
        "-rw-r--r-- " + " 1 Jan 1 2000" * 20_000 + "\n x",
        "-rw-r--r-- " + " 1 2024-01-0" * 20_000,
        "-rw-r--r-- " + " 1 3月 5日" * 20_000,
        "-rw-r--r-- " + " 1 2024年 3月" * 20_000,
        "-rw-r--r-- " + " 1 03-05 1" * 20_000,
    ):
        assert parse_list_line(text, NOW) is None
        assert parse_mlsd_line(text) is None


def test_entry_is_frozen_and_slotted() -> None:
    entry = f("x", 1, None)
    with pytest.raises(AttributeError):
        entry.name = "y"  # type: ignore[misc]
    assert not hasattr(entry, "__dict__")


def test_embedded_line_feed_is_not_one_line() -> None:
    assert parse_list_line("-rw-r--r-- 1 ftp ftp 1 Mar 01 10:00 a\nb", NOW) is None
    assert parse_mlsd_line("type=file;size=1; a\nb") is None


def test_dos_dir_marker_is_case_insensitive() -> None:
    entry = parse_list_line("01-12-23  02:05PM       <dir>          lower", NOW)
    assert entry == d("lower", None, ts(2023, 1, 12, 14, 5))


# ------------------------------------------------------------- ISO and CJK ls dates

#: Recorded from GNU ls 9.1 (`ls -la`, `--time-style=...` or `LC_ALL=xx_XX.UTF-8`) on
#: 29 Nov 2026 12:48 UTC: a.mkv dated 2024-03-05 14:22:33, b.mkv 2026-10-05 14:22.
LS_NOW = datetime(2026, 11, 29, 12, 48, 40, tzinfo=UTC)
LS_OUTPUTS = {
    "long-iso": """total 32
drwxr-xr-x   3 root root  4096 2026-11-29 12:48 .
drwxrwxrwt 105 root root 24576 2026-11-29 12:48 ..
-rw-r--r--   1 root root     0 2024-03-05 14:22 a.mkv
-rw-r--r--   1 root root     0 2026-10-05 14:22 b.mkv
drwxr-xr-x   2 root root  4096 2026-11-29 12:48 dir
""",
    "full-iso": """total 32
drwxr-xr-x   3 root root  4096 2026-11-29 12:48:34.979567869 +0000 .
drwxrwxrwt 105 root root 24576 2026-11-29 12:48:34.955567869 +0000 ..
-rw-r--r--   1 root root     0 2024-03-05 14:22:33.000000000 +0000 a.mkv
-rw-r--r--   1 root root     0 2026-10-05 14:22:00.000000000 +0000 b.mkv
drwxr-xr-x   2 root root  4096 2026-11-29 12:48:34.979567869 +0000 dir
""",
    "iso": """total 32
drwxr-xr-x   3 root root  4096 11-29 12:48 .
drwxrwxrwt 105 root root 24576 11-29 12:48 ..
-rw-r--r--   1 root root     0 2024-03-05  a.mkv
-rw-r--r--   1 root root     0 10-05 14:22 b.mkv
drwxr-xr-x   2 root root  4096 11-29 12:48 dir
""",
    "ja_JP": """合計 32
drwxr-xr-x   3 root root  4096 11月 29 12:48 .
drwxrwxrwt 107 root root 24576 11月 29 12:48 ..
-rw-r--r--   1 root root     0  3月  5  2024 a.mkv
-rw-r--r--   1 root root     0 10月  5 14:22 b.mkv
drwxr-xr-x   2 root root  4096 11月 29 12:48 dir
""",
    "zh_CN": """总计 32
drwxr-xr-x   3 root root  4096 11月29日 12:48 .
drwxrwxrwt 107 root root 24576 11月29日 12:48 ..
-rw-r--r--   1 root root     0 2024年 3月 5日 a.mkv
-rw-r--r--   1 root root     0 10月 5日 14:22 b.mkv
drwxr-xr-x   2 root root  4096 11月29日 12:48 dir
""",
    "ko_KR": """합계 32
drwxr-xr-x   3 root root  4096 11월 29일  12:48 .
drwxrwxrwt 107 root root 24576 11월 29일  12:48 ..
-rw-r--r--   1 root root     0 2024년  3월  5일 a.mkv
-rw-r--r--   1 root root     0 10월  5일  14:22 b.mkv
drwxr-xr-x   2 root root  4096 11월 29일  12:48 dir
""",
    "zh_TW": """總用量 32
drwxr-xr-x   3 root root  4096 11月 29 12:48 .
drwxrwxrwt 107 root root 24576 11月 29 12:48 ..
-rw-r--r--   1 root root     0  3月  5  2024 a.mkv
-rw-r--r--   1 root root     0 10月  5 14:22 b.mkv
drwxr-xr-x   2 root root  4096 11月 29 12:48 dir
""",
}


@pytest.mark.parametrize("style", sorted(LS_OUTPUTS))
def test_iso_and_cjk_ls_dates_are_read(style: str) -> None:
    """Servers whose ``ls`` runs with ``--time-style`` or a CJK LC_TIME: each of these
    lines was 'unread' (the folder named in the scan's errors, its files neither added
    nor marked gone); now entries with their dates (a day only where ls prints one,
    seconds where full-iso does). The one-pass parser agrees and leaves nothing unread."""
    from reelhouse.sources.ftp.listing_text import list_entries, parse_list_text

    text = LS_OUTPUTS[style]
    a_time = {"full-iso": ts(2024, 3, 5, 14, 22, 33), "long-iso": ts(2024, 3, 5, 14, 22)}.get(style, ts(2024, 3, 5))
    want = [f("a.mkv", 0, a_time), f("b.mkv", 0, ts(2026, 10, 5, 14, 22)),
            d("dir", 4096, ts(2026, 11, 29, 12, 48, 34.979567869 if style == "full-iso" else 0))]
    got = parse_list(text.splitlines(), LS_NOW)
    assert [(e.name, e.is_dir, e.size) for e in got] == [(e.name, e.is_dir, e.size) for e in want]
    assert [e.mtime for e in got] == pytest.approx([e.mtime for e in want], abs=1e-6)
    assert parse_list_text(text, LS_NOW, strict=True) == got
    unread: list[str] = []
    assert [e.name for e in list_entries(text, LS_NOW, "F/", unread=unread)] == ["a.mkv", "b.mkv", "dir"]
    assert unread == []


@pytest.mark.parametrize(("line", "expected"), [
    # the brief's forms, and a link, a zone and a year-first CJK date with a time
    ("-rw-r--r-- 1 ftp ftp 1234 2024-03-05 14:22 Show S01E01.mkv", f("Show S01E01.mkv", 1234, ts(2024, 3, 5, 14, 22))),
    ("-rw-r--r-- 1 ftp ftp 1234 3月 5 14:22 x.mkv", f("x.mkv", 1234, ts(2024, 3, 5, 14, 22))),
    ("-rw-r--r-- 1 ftp ftp 1234 2024年3月5日 x.mkv", f("x.mkv", 1234, ts(2024, 3, 5))),
    ("-rw-r--r-- 1 ftp ftp 1234 2023年12月31日 23:59 x y.mkv", f("x y.mkv", 1234, ts(2023, 12, 31, 23, 59))),
    ("-rw-r--r-- 1 ftp ftp 9 2024-03-05 14:22:33.5 +0130 z.mkv", f("z.mkv", 9, ts(2024, 3, 5, 12, 52, 33.5))),
    ("lrwxrwxrwx 1 ftp ftp 5 2024-03-05 14:22 latest -> a.mkv", link("latest", 5, ts(2024, 3, 5, 14, 22), "a.mkv")),
    ("-rw-r--r-- 1 ftp ftp 1 2024-03-05 one space.mkv", f("one space.mkv", 1, ts(2024, 3, 5))),
    ("-rw-r--r-- 1 ftp ftp 1 12月 25 2023年 x.mkv", f("x.mkv", 1, ts(2023, 12, 25))),
    # a year-less date more than six months ahead is last year's (ls's rule)
    ("-rw-r--r-- 1 ftp ftp 1 12-25 10:00 x.mkv", f("x.mkv", 1, ts(2023, 12, 25, 10))),
    # not dates: no entry, never an error
    ("-rw-r--r-- 1 ftp ftp 1 2024-13-45 14:22 x.mkv", f("x.mkv", 1, None)),
    ("-rw-r--r-- 1 ftp ftp 1 13月 5 14:22 x.mkv", f("x.mkv", 1, None)),
    ("-rw-r--r-- 1 ftp ftp 1 3月 x.mkv", None),
])
def test_iso_and_cjk_list_lines(line: str, expected: ListingEntry | None) -> None:
    assert parse_list_line(line, NOW) == expected


@given(name=names, is_dir=st.booleans(), size=sizes, when=minute_times, owner=owners)
def test_long_iso_and_cjk_forms_round_trip(name: str, is_dir: bool, size: int, when: datetime, owner: str) -> None:
    for date in (when.strftime("%Y-%m-%d %H:%M"), f"{when.year}年{when.month}月{when.day}日 {when:%H:%M}"):
        line = unix_line("d" if is_dir else "-", name, size, date, owner, "ftp")
        assert parse_list_line(line, NOW) == ListingEntry(name, is_dir, size, when.timestamp())


GROUP_SEPARATORS = [",", ".", "'", "\u2019", "\u00a0", "\u202f"]


@given(name=names, size=sizes, sep=st.sampled_from(GROUP_SEPARATORS), day=st.integers(1, 28),
       month=st.integers(1, 12))
def test_grouped_sizes_and_dotted_dates_round_trip(name: str, size: int, sep: str, day: int, month: int) -> None:
    """Sizes printed with a locale's thousands separator (``ls --block-size="'1"``,
    Windows regional settings) and dotted day-first dates read back exactly, in Unix
    and DOS lines and through the whole-text parser."""
    grouped = f"{size:,}".replace(",", sep)
    unix = f"-rw-r--r--   1 ftp      ftp      {grouped} Mar 01 10:00 {name}"
    assert parse_list_line(unix, NOW) == ListingEntry(name, False, size, ts(2024, 3, 1, 10, 0))
    dos = f"{day:02d}.{month:02d}.2023  10:00 {grouped:>20} {name}"
    assert parse_list_line(dos, NOW) == ListingEntry(name, False, size, ts(2023, month, day, 10, 0))
    assert parse_list_text(unix + "\r\n" + dos + "\r\n", NOW) == [parse_list_line(unix, NOW), parse_list_line(dos, NOW)]
