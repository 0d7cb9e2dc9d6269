"""Listing over the control connection (sources/ftp/statlist.py) against the real
daemons: vsftpd (LIST only: listed by STAT once its first folder agreed; its STAT shows
dot files its LIST hides) and pure-ftpd (answers STAT but cuts it at its ``-L`` limit
without a word, so it is never listed that way; its cut LIST/MLSD now fails loudly)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reelhouse.errors import NotFound, SourceUnavailable
from reelhouse.sources.ftp import FtpConfig, FtpSource, statlist
from reelhouse.sources.ftp.client import FtpClient
from reelhouse.sources.ftp.limits import ListingBudget

from helpers import PURE_PASSWORD, PURE_USER, pure_ftpd, vsftpd

pytestmark = [pytest.mark.ftpd, pytest.mark.usefixtures("fresh_stat_verdicts")]

ODD = ["213 foo.mkv", " leading space.mkv", "trailing space .mkv", "Amélie (2001).mkv", "two  spaces.mkv",
       "a -> b.mkv", "[x]*?.mkv", "千と千尋.mkv", "0123", 'q"uote.mkv']




def _tree(root: Path) -> None:
    for name in ODD:
        (root / name).write_bytes(b"x" * len(name))
    for folder in ("dir with space", "Dots", "Big", "Films [2]"):
        (root / folder).mkdir()
        (root / folder / "inner.mkv").write_bytes(b"12345")
    (root / "Dots" / ".hidden.mkv").write_bytes(b"h")
    for i in range(12):
        (root / "Big" / f"e{i:02d}.mkv").write_bytes(b"b" * i)
    os.utime(root / "0123", (0, 1_600_000_000))


def _local(root: Path, folder: str) -> dict[str, tuple[bool, int | None]]:
    return {p.name: (p.is_dir(), None if p.is_dir() else p.stat().st_size)
            for p in (root / folder).iterdir() if not p.name.startswith(".")}


def _listed(src: FtpSource, folder: str) -> dict[str, tuple[bool, int | None]]:
    return {e.name: (e.is_dir, e.size) for e in src.list(folder)}




@pytest.fixture
def vsftpd_ro(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    anon = tmp_path / "anon"
    anon.mkdir()
    _tree(anon)
    for p in anon.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    with vsftpd(tmp_path, anon) as port:
        yield port, anon


def test_vsftpd_is_listed_by_stat_with_odd_names(vsftpd_ro: tuple[int, Path],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statlist, "MAX_ENTRIES", 10)  # "Big" (13 files) goes over a data connection
    port, anon = vsftpd_ro
    src = FtpSource(FtpConfig("127.0.0.1", port, pool_size=2))
    try:
        for _ in range(2):
            for folder in ("", "dir with space", "Big", "Films [2]"):
                assert _listed(src, folder) == _local(anon, folder)
        key = next(iter(statlist._SAME))
        assert statlist._SAME[key] is True and "vsFTPd" in key[2]
        # vsftpd's STAT shows ".hidden.mkv", its LIST does not: learnt on "Dots", then hidden
        assert statlist._DOTS == {}
        for _ in range(2):
            assert _listed(src, "Dots") == {"inner.mkv": (False, 5)}
        assert statlist._DOTS == {key: False}
        old = {e.name: e for e in src.list("")}["0123"]
        assert old.mtime == datetime(2020, 9, 13, tzinfo=UTC).timestamp()  # day precision, as LIST
        with pytest.raises(NotFound):
            src.list("No Such Folder")
        walked = {folder: len(r) for folder, r in src.walk("") if not isinstance(r, Exception)}
        assert walked == {"": len(_local(anon, "")), "dir with space": 1, "Dots": 1, "Big": 13, "Films [2]": 1}
    finally:
        src.close()


@pytest.fixture(scope="module")
def pureftpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """pure-ftpd with ``-L 20:5``: listings cut at 20 entries."""
    def fill(home: Path) -> None:
        _tree(home)
        (home / "Many").mkdir()
        for i in range(30):
            (home / "Many" / f"m{i:02d}.mkv").write_bytes(b"m")
    with pure_ftpd(tmp_path_factory.mktemp("pure"), fill, ["-L", "20:5"]) as got:
        yield got


def test_pureftpd_stat_reply_reads_odd_names(pureftpd: tuple[int, Path]) -> None:
    """The control-connection reader and strict parser on pure-ftpd's real STAT reply."""
    port, home = pureftpd
    client = FtpClient(FtpConfig("127.0.0.1", port, PURE_USER, PURE_PASSWORD))
    client.connect()
    try:
        assert client.ftp is not None
        entries = statlist.stat_listing(client.ftp, "/", ListingBudget(1 << 20, "test"), datetime.now(UTC))
        assert {e.name: (e.is_dir, None if e.is_dir else e.size) for e in entries} == _local(home, "") | {
            "Many": (True, None)}
        client.noop()  # still in step
        key = statlist.server_key(client.ftp, "127.0.0.1", port)
        assert "Pure-FTPd" in key[2] and not statlist.tried(key)  # never used for listings
    finally:
        client.quit()


@pytest.mark.parametrize("mlsd", [True, False], ids=["mlsd", "list"])
def test_pureftpd_cut_listing_fails_instead_of_hiding_entries(
        pureftpd: tuple[int, Path], mlsd: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """30 files, ``-L 20``: pure-ftpd sends 20 and says "Output truncated" in its 226;
    the listing fails (a scan keeps the files) instead of showing 20. Its STAT would cut
    at 20 without a word: it is never asked."""
    port, _home = pureftpd
    if not mlsd:
        connect = FtpClient.connect

        def list_only(self: FtpClient) -> None:
            connect(self)
            self.features.discard("MLST")
        monkeypatch.setattr(FtpClient, "connect", list_only)
    src = FtpSource(FtpConfig("127.0.0.1", port, PURE_USER, PURE_PASSWORD, pool_size=1))
    try:
        with pytest.raises(SourceUnavailable, match="truncated"):
            src.list("Many")
        assert statlist._SAME == {}
    finally:
        src.close()
