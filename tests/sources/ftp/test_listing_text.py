"""Whole-listing parsers (``parse_list_text``, ``parse_mlsd_text``: one regex pass) give
exactly what the line parsers give for the same text, on real server output and on any
text; ``strict`` LIST parsing refuses junk lines and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reelhouse.sources.base import Entry
from reelhouse.sources.ftp.listing import ListingEntry, parse_list, parse_mlsd
from reelhouse.sources.ftp.listing_text import (
    UnparsableLine,
    is_folder_entry_name,
    list_entries,
    mlsd_entries,
    parse_list_text,
    parse_mlsd_text,
)

NOW = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)

# vsftpd's STAT/LIST lines, pure-ftpd's, pyftpdlib's: recorded from the real servers
VSFTPD = (
    "-rw-r--r--    1 0        0            1234 Nov 27 22:35  leading space.mkv\r\n"
    "drwxr-xr-x    3 0        0            4096 Nov 27 22:35 .\r\n"
    "drwxr-xr-x    4 0        0            4096 Nov 27 22:35 ..\r\n"
    "-rw-r--r--    1 0        0            1234 Sep 13  2020 0123\r\n"
    "-rw-r--r--    1 0        0            1234 Nov 27 22:35 213 foo.mkv\r\n"
    "-rw-r--r--    1 0        0            1234 Nov 27 22:35 Am\u00e9lie (2001).mkv\r\n"
    "-rw-r--r--    1 0        0            1234 Nov 27 22:35 [x]*?.mkv\r\n"
    "-rw-r--r--    1 0        0            1234 Nov 27 22:35 a -> b.mkv\r\n"
    "drwxr-xr-x    2 0        0            4096 Nov 27 22:35 dir with space\r\n"
    "lrwxrwxrwx    1 0        0               7 May 20  2025 bin -> usr/bin\r\n"
    "-rw-r--r--    1 0        0            1234 Nov 27 22:35 trailing space .mkv\r\n"
    "-rw-r--r--    1 0        0            1234 Nov 27 22:35 \u5343\u3068\u5343\u5c0b.mkv\r\n"
)
PUREFTPD_LIST = (
    "-rw-r--r--    1 65534      nogroup          1234 Nov 27 22:47  leading space.mkv\r\n"
    "drwxr-xr-x    2 65534      nogroup        323584 Nov 27 22:47 big\r\n"
    "crw-rw-rw-    1 0          0              1,   3 Nov 27 22:47 null\r\n"
)
PYFTPDLIB_MLSD = (
    "modify=20261127174627;size=0;type=file; Show.Number.001.S01E08.mkv\r\n"
    "modify=20261127174627;size=4096;type=dir; Season 01\r\n"
    "type=file;size=12;perm=r;modify=20071029155301;unique=8012; music.mp3\r\n"
    "type=cdir;sizd=4096;modify=20261127174627; .\r\n"
)
PUREFTPD_MLSD = (
    "type=file;size=1234;modify=20261127224700;UNIX.mode=0644;UNIX.uid=65534;UNIX.gid=65534;"
    "unique=803g1a; 213 foo.mkv\r\n"
    "type=dir;sizd=4096;modify=20261127224700;UNIX.mode=0755;unique=803g1b; dir with space\r\n"
    "type=OS.unix=slink:/etc;modify=20261127224700; etc\r\n"
)


@pytest.mark.parametrize("text", [VSFTPD, PUREFTPD_LIST, VSFTPD.replace("\r\n", "\n")])
def test_list_text_of_real_servers(text: str) -> None:
    got = parse_list_text(text, NOW)
    assert got == parse_list(text.split("\n"), NOW)
    assert got == parse_list_text(text, NOW, strict=True)  # nothing in them is junk
    assert len(got) >= 3


def test_list_text_keeps_odd_names() -> None:
    names = [e.name for e in parse_list_text(VSFTPD, NOW)]
    assert names == [" leading space.mkv", "0123", "213 foo.mkv", "Amélie (2001).mkv", "[x]*?.mkv",
                     "a -> b.mkv", "dir with space", "bin", "trailing space .mkv", "千と千尋.mkv"]


@pytest.mark.parametrize("text", [PYFTPDLIB_MLSD, PUREFTPD_MLSD])
def test_mlsd_text_of_real_servers(text: str) -> None:
    assert parse_mlsd_text(text) == parse_mlsd(text.split("\n"))


@pytest.mark.parametrize("junk", ["-rw-r--r--    1 0 0 12 Nov 27 22:46 b\r\n213 End of status\r\n",
                                  "x.mkv\r\n", "\u00a0garbage\r\n"])
def test_strict_list_text_refuses_junk(junk: str) -> None:
    with pytest.raises(UnparsableLine):
        parse_list_text(VSFTPD + junk, NOW, strict=True)


def test_strict_list_text_takes_total_blank_and_dot_lines() -> None:
    text = "total 12\r\n\r\n" + VSFTPD
    assert parse_list_text(text, NOW, strict=True) == parse_list(text.split("\n"), NOW)


PIECES = st.sampled_from([
    "-rw-r--r--", "drwxr-xr-x", "lrwxrwxrwx", "crw-rw-rw-", "brw-------", " ", "   ", "\t", "1", "0", "owner",
    "1234", "1, 3", "Jan", "Feb", "jan", "Mär", "Dec.", "12", "1", "14:05", "24:99", "2023", " name", "a -> b",
    "\r", "\n", "\r\n", ".", "..", "total 5", "213 foo", "01-12-23", "02:05PM", "<DIR>", "type=file;",
    "type=dir;", "Type=DIR;", "type=cdir;", "type=OS.unix=slink:/x;", "size=5;", "size=;", "sizd=4096;",
    "modify=20200101000000;", "modify=20200101000000.123;", "modify=20201301000000;", "unique=ab;", "perm=r;",
    "UNIX.mode=0644;", "; ", ";", "=", "x y", "é", "\u2028",
])


@settings(max_examples=600)
@given(text=st.lists(PIECES, max_size=40).map("".join) | st.text())
@example(text="modify=20200101000000;size=1;type=file; a\r\nmodify=20200101000000;size=2;type=dir; b\n")
@example(text="-rw-r--r--   1 o g 5 Jan  1 14:05 x\r\r\n")
def test_text_parsers_equal_the_line_parsers(text: str) -> None:
    assert parse_list_text(text, NOW) == parse_list(text.split("\n"), NOW)
    assert parse_mlsd_text(text) == parse_mlsd(text.split("\n"))


def _as_entries(parsed: list[ListingEntry], prefix: str) -> list[Entry]:
    """What a folder listing made of the parsed entries before the Entry builders."""
    return [Entry(e.name, prefix + e.name, e.is_dir, None if e.is_dir else e.size, e.mtime, e.is_link)
            for e in parsed if e.name not in ("", ".", "..") and not any(c in e.name for c in "/\r\n")]


@settings(max_examples=600)
@given(text=st.lists(PIECES | st.sampled_from(["a/b", "/", " x\ry"]), max_size=40).map("".join) | st.text(),
       prefix=st.sampled_from(["", "Show/", "a b/Season 01/"]))
@example(text="-rw-r--r--   1 o g 5 Jan  1 14:05 a/b\r\nlrwxrwxrwx 1 o g 5 Jan 1 2020 l -> /x\r\n", prefix="d/")
@example(text="type=FILE;size=1;modify=20200101000000; f\r\ntype=Dir;size=1;modify=20200101000000; d\r\n",
         prefix="")
def test_entry_builders_equal_parse_then_convert(text: str, prefix: str) -> None:
    assert list_entries(text, NOW, prefix) == _as_entries(parse_list_text(text, NOW), prefix)
    assert mlsd_entries(text, prefix) == _as_entries(parse_mlsd_text(text), prefix)
    try:
        strict = list_entries(text, NOW, prefix, strict=True)
    except UnparsableLine:
        with pytest.raises(UnparsableLine):
            parse_list_text(text, NOW, strict=True)
    else:
        assert strict == _as_entries(parse_list_text(text, NOW, strict=True), prefix)


@pytest.mark.parametrize("name", ["a", " a ", "a b", ".x", "...", "a\\b"])
def test_folder_entry_names(name: str) -> None:
    assert is_folder_entry_name(name)
    assert not any(is_folder_entry_name(bad) for bad in ["", ".", "..", "a/b", "a\rb", "a\nb"])


@settings(max_examples=300)
@given(lines=st.lists(st.tuples(
    st.sampled_from(["-rw-r--r--", "drwxr-xr-x", "lrwxrwxrwx"]), st.sampled_from(["1", "12"]),
    st.sampled_from(["0", "ftp", "jan"]), st.integers(0, 10**13), st.sampled_from(["Jan", "Nov", "Dec."]),
    st.integers(1, 31), st.sampled_from(["14:05", "2023", "00:00"]),
    st.text(st.characters(blacklist_characters="\n"), max_size=12)), max_size=8),
    end=st.sampled_from(["\r\n", "\n"]))
def test_list_text_of_ls_lines(lines: list[tuple[str, str, str, int, str, int, str, str]], end: str) -> None:
    text = "".join(f"{m} {n} {o} {o} {s} {mo} {d:2} {t} {name}{end}" for m, n, o, s, mo, d, t, name in lines)
    assert parse_list_text(text, NOW) == parse_list(text.split("\n"), NOW)


def test_unread_lines_are_collected() -> None:
    """Lines that hold no entry and are no ``total``/blank/``.``/``cdir`` line: a name
    split by its line feed, a listing form not read (VMS). Entries around them are
    kept; an ISO date is read (it was unread before)."""
    from datetime import UTC, datetime

    from reelhouse.sources.ftp.listing_text import list_entries, mlsd_entries

    now = datetime(2026, 11, 29, tzinfo=UTC)
    unread: list[str] = []
    text = ("total 3\r\n-rw-r--r-- 1 u g 10 Jan 12 14:05 a.mkv\r\n-rw-r--r-- 1 u g 11 Jan 12 14:05 New\r\n"
            "Line.mkv\r\n-rw-r--r-- 1 u g 12 2023-01-12 14:05 iso.mkv\r\n\r\n"
            "FILM.MKV;1  2/4  12-JAN-2023 14:05 [USER] (RWED,RWED,,)\r\n")
    assert [e.name for e in list_entries(text, now, unread=unread)] == ["a.mkv", "New", "iso.mkv"]
    assert unread == ["Line.mkv", "FILM.MKV;1  2/4  12-JAN-2023 14:05 [USER] (RWED,RWED,,)"]
    unread = []
    text = ("type=cdir;modify=20240101000000; .\r\ntype=file;size=1;modify=20240101000000; a.mkv\r\n"
            "type=file;size=2;modify=20240101000000; New\r\nLine.mkv\r\ntype=file;size=3; C\rR.mkv\r\n")
    assert [e.name for e in mlsd_entries(text, unread=unread)] == ["a.mkv", "New"]
    assert unread == ["Line.mkv", "type=file;size=3; C\rR.mkv"]


# past the largest file size (off_t, SQLite INTEGER and PostgreSQL bigint are signed
# 64-bit): a server that lists one crashed the whole scan with "Python int too large to
# convert to SQLite INTEGER", and no file of the source was indexed
@pytest.mark.parametrize("size", [2**63, 2**64, 10**20 - 1, 10**29])
def test_sizes_past_the_largest_file_are_unknown(size: int) -> None:
    mlsd = f"type=file;size={size};modify=20261127224700; big.mkv\r\ntype=file;size=5;modify=20261127224700; ok.mkv\r\n"
    odd = f"size={size};type=file;x=1;modify=20261127224700; big.mkv\r\n"  # the line parser's path
    ls = f"-rw-r--r--    1 0        0  {size} Nov 27 22:35 big.mkv\r\n"
    for entries in (mlsd_entries(mlsd), mlsd_entries(odd), list_entries(ls, NOW), parse_mlsd_text(mlsd),
                    parse_list_text(ls, NOW), parse_mlsd(odd.split("\r\n")), parse_list(ls.split("\r\n"), NOW)):
        big = [e for e in entries if e.name == "big.mkv"]
        assert len(big) == 1 and big[0].size is None, entries
    assert [e.size for e in mlsd_entries(mlsd) if e.name == "ok.mkv"] == [5]
    largest = 2**63 - 1
    assert next(e.size for e in mlsd_entries(mlsd.replace(str(size), str(largest)))) == largest
