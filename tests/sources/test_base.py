"""Tests for reelhouse.sources.base: path rules and the Source
contract run against every implementation (MemorySource, LocalSource, FtpSource on a
real FTP server) with the same files."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reelhouse.errors import InvalidInput, NotFound
from reelhouse.sources.base import Entry, Source, join, normalize_path, parent_of
from reelhouse.sources.ftp import FtpConfig, FtpSource
from reelhouse.sources.memory import MemorySource

from helpers import local_or_ftp

FILES = {
    "Films/Sintel.2010.mkv": os.urandom(200_000),
    "Films/Amélie [1080p] \"Director's Cut\".mkv": os.urandom(1234),
    "Shows/The Office (US)/Season 01/The.Office.S01E01.mkv": os.urandom(10),
    "千と千尋の神隠し.mp4": os.urandom(5000),
    "empty.mkv": b"",
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", ""), ("/", ""), (".", ""), ("//", ""), ("a", "a"), ("/a/b/", "a/b"),
        ("a//b", "a/b"), ("./a/./b", "a/b"), ("a\\b", "a\\b"), ("Amélie (2001)", "Amélie (2001)"),
        (" spaced /x ", " spaced /x "), ("...", "..."), ("..a", "..a"), ("a..", "a.."),
    ],
)
def test_normalize_path(path: str, expected: str) -> None:
    assert normalize_path(path) == expected


@pytest.mark.parametrize("path", ["..", "../x", "a/../b", "a/..", "/..", "a/b/../../..",
                                  "a\x00b", "\x00"])
def test_normalize_path_refuses(path: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_path(path)


@settings(max_examples=200)
@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=8),
                max_size=6).map("/".join))
def test_normalize_path_properties(path: str) -> None:
    try:
        out = normalize_path(path)
    except InvalidInput:
        assert ".." in path.split("/")
        return
    assert not out.startswith("/") and not out.endswith("/") and "//" not in out
    assert ".." not in out.split("/") and "." not in out.split("/")
    assert normalize_path(out) == out  # idempotent


def test_join_and_parent() -> None:
    assert join("", "a.mkv") == "a.mkv"
    assert join("Films", "a.mkv") == "Films/a.mkv"
    assert join("/Films/", "a b.mkv") == "Films/a b.mkv"
    with pytest.raises(InvalidInput):
        join("Films", "..")
    assert parent_of("Films/a.mkv") == "Films"
    assert parent_of("a.mkv") == ""
    assert parent_of("/a/b/c") == "a/b"


# ---------------------------------------------------------------- the Source contract

@pytest.fixture(params=["memory", "local", "ftp"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Source]:
    kind = request.param
    if kind == "memory":
        yield MemorySource(FILES)
        return
    root, src = local_or_ftp(kind, request, tmp_path / "local")
    for rel, data in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / "Empty Folder").mkdir()
    yield src
    src.close()


def read(source: Source, path: str, offset: int, length: int) -> bytes:
    return b"".join(source.read_range(path, offset, length))


def test_is_a_source(source: Source) -> None:
    assert isinstance(source, Source)
    source.test()


def test_list_and_stat(source: Source) -> None:
    root = {e.name: e for e in source.list("")}
    assert {"Films", "Shows", "千と千尋の神隠し.mp4", "empty.mkv"} <= set(root)
    assert root["Films"].is_dir and root["Films"].path == "Films"
    mp4 = root["千と千尋の神隠し.mp4"]
    assert (mp4.is_dir, mp4.size, mp4.path) == (False, 5000, "千と千尋の神隠し.mp4")
    films = sorted(source.list("/Films/"), key=lambda e: e.name)
    assert [(e.name, e.path, e.size) for e in films] == [
        ("Amélie [1080p] \"Director's Cut\".mkv", "Films/Amélie [1080p] \"Director's Cut\".mkv",
         1234),
        ("Sintel.2010.mkv", "Films/Sintel.2010.mkv", 200_000),
    ]
    for rel, data in FILES.items():
        e = source.stat(rel)
        assert isinstance(e, Entry)
        assert (e.name, e.path, e.is_dir, e.size) == (rel.rsplit("/", 1)[-1], rel, False, len(data))
    assert source.stat("Shows/The Office (US)").is_dir


def test_walk_finds_every_file(source: Source) -> None:
    found = {}
    for folder, entries in source.walk():
        assert isinstance(entries, list), (folder, entries)
        found.update({e.path: e.size for e in entries if not e.is_dir})
    assert found == {rel: len(data) for rel, data in FILES.items()}


@pytest.mark.parametrize(("offset", "length"), [(0, 1), (0, 200_000), (1, 10), (65535, 65538),
                                                (199_999, 1), (199_990, 1000), (0, 10**9)])
def test_read_range(source: Source, offset: int, length: int) -> None:
    data = FILES["Films/Sintel.2010.mkv"]
    assert read(source, "Films/Sintel.2010.mkv", offset, length) == data[offset : offset + length]


def test_read_empty_file_and_zero_length(source: Source) -> None:
    assert read(source, "empty.mkv", 0, 100) == b""
    assert read(source, "Films/Sintel.2010.mkv", 5, 0) == b""


def test_read_at_end_of_file_is_empty(source: Source) -> None:
    assert read(source, "千と千尋の神隠し.mp4", 5000, 10) == b""


def test_read_past_end_of_file_is_empty(source: Source) -> None:
    """The contract: "fewer bytes only if the file ends first" (a file that shrank; an
    FTP server answers '554 REST position > file size')."""
    assert read(source, "千と千尋の神隠し.mp4", 5001, 10) == b""
    assert read(source, "千と千尋の神隠し.mp4", 10**6, 10) == b""


def test_negative_offset_is_invalid(source: Source) -> None:
    with pytest.raises(InvalidInput):
        read(source, "Films/Sintel.2010.mkv", -1, 10)


def test_missing_is_not_found(source: Source) -> None:
    with pytest.raises(NotFound):
        source.list("No Such Folder")
    with pytest.raises(NotFound):
        source.stat("Films/nope.mkv")
    with pytest.raises(NotFound):
        read(source, "Films/nope.mkv", 0, 10)


@pytest.mark.parametrize("path", ["../x", "Films/../../x", "a\x00b"])
def test_escaping_paths_are_refused(source: Source, path: str) -> None:
    with pytest.raises(InvalidInput):
        source.stat(path)
    with pytest.raises(InvalidInput):
        read(source, path, 0, 1)
    with pytest.raises(InvalidInput):
        source.list(path)


def test_early_close_then_reuse(source: Source) -> None:
    data = FILES["Films/Sintel.2010.mkv"]
    for i in range(3):
        it = source.read_range("Films/Sintel.2010.mkv", i, 200_000)
        assert next(iter(it))[:5] == data[i : i + 5]
        it.close()  # type: ignore[attr-defined]
    assert read(source, "Films/Sintel.2010.mkv", 100, 5) == data[100:105]


def test_aread_range_matches_read_range(source: Source) -> None:
    async def collect(offset: int, length: int) -> bytes:
        return b"".join([c async for c in source.aread_range("Films/Sintel.2010.mkv", offset,
                                                             length)])

    async def main() -> None:
        data = FILES["Films/Sintel.2010.mkv"]
        for offset, length in [(0, 200_000), (3, 7), (199_000, 5000), (0, 0)]:
            assert await collect(offset, length) == data[offset : offset + length]
        agen = source.aread_range("Films/Sintel.2010.mkv", 0, 200_000)
        await agen.__anext__()
        await agen.aclose()  # type: ignore[attr-defined]

    asyncio.run(main())


@pytest.mark.parametrize(("name", "controls", "line_break"), [
    ("plain name.mkv", False, False), ("tab\there", True, False), ("bell\x07", True, False),
    ("del\x7f", True, False), ("esc\x1b[31m", True, False), ("new\nline", True, True), ("cr\r", True, True),
    ("Films/a\r\nb", True, True), ("trailing space ", False, False), ("千と千尋 é", False, False),
])
def test_every_door_asks_one_rule_for_the_characters_of_new_names(
        name: str, controls: bool, line_break: bool) -> None:
    """:func:`bad_name_characters`: the API and the transfer queue (check_new_path, a
    400) refuse every control character (and a trailing space); the FTP layer and the drive (name_error,
    new_name_errno: EINVAL) CR and LF only; the drive's risky_name knows the rest."""
    import errno

    from reelhouse.drive.names import new_name_errno, risky_name
    from reelhouse.sources.base import bad_name_characters, check_new_path

    assert (bad_name_characters(name) is not None) is controls
    assert (bad_name_characters(name, line_breaks_only=True) is not None) is line_break
    if controls:
        with pytest.raises(InvalidInput, match="may not contain control characters"):
            check_new_path(name)
    elif name.endswith(" "):  # pure-ftpd stores it as "_", Windows drops it
        with pytest.raises(InvalidInput, match="may not end with a space"):
            check_new_path(name)
    else:
        assert check_new_path(name) == name
    assert new_name_errno(MemorySource({}), name, False) == ((errno.EINVAL, "CR or LF") if line_break else None)
    ftp = FtpSource(FtpConfig("127.0.0.1", 21))  # never connects
    try:
        assert ftp.name_error(name) == ("an FTP path cannot contain CR or LF" if line_break else None)
        assert (new_name_errno(ftp, name, False) is not None) is line_break
    finally:
        ftp.close()
    assert risky_name(name) is (controls or name.endswith(" "))
