"""Listing over the control connection (``CWD`` + ``STAT .`` + ``PWD``, sources/ftp/statlist.py)
on a real pyftpdlib server that has no MLSD: used only once a folder listed both ways
agreed, never for one folder's listing of an MLSD server (its walk:
test_statlist_mlsd.py), and every odd reply falls back to a data connection
without losing an entry."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sources.ftp.counting import Counting

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import NotFound
from reelhouse.sources.ftp import FtpConfig, FtpSource, statlist

from helpers import FTP_PASSWORD, FTP_USER

pytestmark = pytest.mark.usefixtures("fresh_stat_verdicts")

ODD = ["213 foo.mkv", " leading space.mkv", "trailing space .mkv", "Amélie (2001).mkv", "two  spaces.mkv",
       "a -> b.mkv", "[x]*?.mkv", "千と千尋.mkv", "0123", 'q"uote.mkv', "-dash.mkv", "%s.mkv"]




def _tree(root: Path) -> None:
    for name in ODD:
        (root / name).write_bytes(b"x" * len(name))
    for folder in ("dir with space", "Films", "Films/Sub [1]"):
        (root / folder).mkdir()
        (root / folder / "inner.mkv").write_bytes(b"12345")
    os.utime(root / "0123", (0, 1_600_000_000))



@pytest.fixture
def counting(ftp_root: Path) -> Iterator[Counting]:
    _tree(ftp_root)
    server = Counting(ftp_root, mlsd=False, pool_size=2)
    yield server
    server.close()


def _local(root: Path, folder: str) -> dict[str, tuple[bool, int | None]]:
    return {p.name: (p.is_dir(), None if p.is_dir() else p.stat().st_size) for p in (root / folder).iterdir()}


def _listed(src: FtpSource, folder: str) -> dict[str, tuple[bool, int | None]]:
    return {e.name: (e.is_dir, e.size) for e in src.list(folder)}


def test_odd_names_list_over_the_control_connection(counting: Counting, ftp_root: Path) -> None:
    src = counting.src
    assert _listed(src, "") == _local(ftp_root, "")  # both ways: they agree
    assert statlist._SAME[counting.key()] is True
    pasv = counting.counts["PASV"]
    for _ in range(2):
        for folder in ("", "dir with space", "Films", "Films/Sub [1]"):
            assert _listed(src, folder) == _local(ftp_root, folder)
    assert counting.counts["PASV"] == pasv  # no data connection once trusted
    assert counting.counts["STAT"] == 9
    by_name = {e.name: e for e in src.list("")}
    assert by_name["0123"].mtime == 1_600_000_000 // 86400 * 86400  # an old file: day precision, as LIST
    with pytest.raises(NotFound):  # CWD's 550, not an empty listing
        src.list("No Such Folder")
    assert _listed(src, "Films") == _local(ftp_root, "Films")  # the connection is still in step
    walked = {folder: {e.name for e in r} for folder, r in src.walk("") if not isinstance(r, Exception)}
    assert walked["Films/Sub [1]"] == {"inner.mkv"} and len(walked) == 4


def test_mlsd_servers_are_never_listed_by_stat(ftp_server: EmbeddedFtpServer, ftp_root: Path) -> None:
    """MLSD gives seconds, STAT only LIST's minutes: one folder's listing of an MLSD
    server (browsing, the drive) keeps MLSD's seconds; only a walk goes by STAT."""
    (ftp_root / "a.mkv").write_bytes(b"x")
    os.utime(ftp_root / "a.mkv", (0, 1_700_000_007))
    src = FtpSource(FtpConfig("127.0.0.1", ftp_server.port, FTP_USER, FTP_PASSWORD, pool_size=1))
    try:
        for _ in range(3):
            assert [(e.name, e.mtime) for e in src.list("")] == [("a.mkv", 1_700_000_007)]
        assert statlist._SAME == {}
    finally:
        src.close()


HOSTILE = "b\r\n213 End of status.\r\n-rw-r--r--   1 root root 5 Nov 27 22:35 fake.mkv"


@pytest.mark.parametrize("trusted_first", [False, True], ids=["first-folder", "later-folder"])
def test_a_name_that_forges_the_end_of_the_reply_loses_nothing(
        counting: Counting, ftp_root: Path, trusted_first: bool) -> None:
    """A file name with CRLF + a fake end line would cut a STAT reply short: the replies
    go out of step, the folder is listed over a data connection (every real entry
    there), and the server is never listed by STAT again."""
    folder = ftp_root / "Hostile"
    folder.mkdir()
    for name in ("a.mkv", HOSTILE, "y.mkv", "z.mkv"):
        (folder / name).write_bytes(b"data")
    src = counting.src
    if trusted_first:
        src.list("Films")
        assert statlist._SAME[counting.key()] is True
    names = {e.name for e in src.list("Hostile")}
    assert {"a.mkv", "y.mkv", "z.mkv"} <= names
    assert statlist._SAME[counting.key()] is False
    stats = counting.counts["STAT"]
    assert {e.name for e in src.list("Hostile")} == names
    assert _listed(src, "Films") == _local(ftp_root, "Films")
    assert counting.counts["STAT"] == stats


def test_a_name_with_a_line_feed_lists_that_folder_over_a_data_connection(
        counting: Counting, ftp_root: Path) -> None:
    (ftp_root / "LF").mkdir()
    for name in ("a.mkv", "c\nx.mkv", "z.mkv"):
        (ftp_root / "LF" / name).write_bytes(b"data")
    src = counting.src
    src.list("Films")
    pasv = counting.counts["PASV"]
    assert {"a.mkv", "z.mkv"} <= {e.name for e in src.list("LF")}
    assert counting.counts["PASV"] == pasv + 1  # that folder only
    assert statlist._SAME[counting.key()] is True
    src.list("Films")
    assert counting.counts["PASV"] == pasv + 1


def _big_folder(ftp_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder ``Big`` of 6 entries, over a STAT limit of 3."""
    monkeypatch.setattr(statlist, "MAX_ENTRIES", 3)
    (ftp_root / "Big").mkdir()
    for i in range(6):
        (ftp_root / "Big" / f"e{i}.mkv").write_bytes(b"x")


def test_big_folders_go_over_a_data_connection(counting: Counting, ftp_root: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _big_folder(ftp_root, monkeypatch)
    src = counting.src
    src.list("Films")
    pasv = counting.counts["PASV"]
    assert _listed(src, "Big") == _local(ftp_root, "Big")
    assert counting.counts["PASV"] == pasv + 1
    assert statlist._SAME[counting.key()] is True


def _stat_without_the_last_entry(handler: Any, path: str) -> None:
    """A STAT that cuts its output short without a word (as pure-ftpd past -L)."""
    from pyftpdlib.handlers.ftp.producers import BufferedIteratorProducer

    listing = sorted(handler.run_as_current_user(handler.fs.listdir, path))[:-1]
    handler.push("213-Status:\r\n")
    handler.push_with_producer(BufferedIteratorProducer(handler.fs.format_list(path, listing)))
    handler.respond("213 End of status.")


def _stat_refused(handler: Any, path: str) -> None:
    handler.respond("502 Command not implemented.")


@pytest.mark.parametrize("stat", [_stat_without_the_last_entry, _stat_refused], ids=["cut-short", "refused"])
def test_a_server_whose_stat_differs_is_listed_over_data_connections(ftp_root: Path, stat: Any) -> None:
    _tree(ftp_root)
    server = Counting(ftp_root, mlsd=False, pool_size=2, ftp_STAT=stat)
    try:
        for _ in range(2):
            for folder in ("", "Films"):
                assert _listed(server.src, folder) == _local(ftp_root, folder)
        assert statlist._SAME[server.key()] is False
        assert server.counts["STAT"] == 1  # asked once
    finally:
        server.close()


def _batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of folders of every batch written (:func:`statlist.stat_texts`)."""
    sizes: list[int] = []
    stat_texts = statlist.stat_texts

    def spy(ftp: Any, key: Any, folders: list[str], budget: Any) -> Any:
        sizes.append(len(folders))
        return stat_texts(ftp, key, folders, budget)
    monkeypatch.setattr(statlist, "stat_texts", spy)
    return sizes


def test_several_folders_in_one_write(counting: Counting, ftp_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once trusted, a batch of folders is one write: each folder its entries or its
    error (a missing folder in the middle is NotFound, the next ones still list)."""
    sizes = _batches(monkeypatch)
    src = counting.src
    folders = ["dir with space", "No Such Folder", "Films", "Films/Sub [1]", ""]
    assert len(src._list_many(folders)) == 1  # not trusted yet: the first only
    src.list("Films")
    pasv = counting.counts["PASV"]
    got = src._list_many(folders)
    assert sizes == [5]
    assert isinstance(got[1], NotFound)
    assert [{e.name: (e.is_dir, e.size) for e in r} for r in got if isinstance(r, list)] == [
        _local(ftp_root, f) for f in folders if f != "No Such Folder"]
    assert [e.path for e in got[3]] == ["Films/Sub [1]/inner.mkv"]  # type: ignore[union-attr]
    assert counting.counts["PASV"] == pasv
    assert _listed(src, "Films") == _local(ftp_root, "Films")  # still in step


def test_the_walk_lists_in_batches(ftp_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(30):
        (ftp_root / f"Show {i:02d}" / "Season 1").mkdir(parents=True)
        (ftp_root / f"Show {i:02d}" / "Season 1" / f"e{i}.mkv").write_bytes(b"x" * i)
    sizes = _batches(monkeypatch)
    server = Counting(ftp_root, mlsd=False, pool_size=2)
    try:
        src = server.src
        src.list("")
        walked = {f: {(e.path, e.size) for e in r} for f, r in src.walk("") if isinstance(r, list)}
        assert len(walked) == 61 and walked["Show 07/Season 1"] == {("Show 07/Season 1/e7.mkv", 7)}
        assert max(sizes) > 1 and sum(sizes) >= 30  # the rest one by one (a batch of one: list())
        assert server.counts["PASV"] == 1  # the first listing only
    finally:
        server.close()


@pytest.mark.parametrize("where", ["first", "middle"])
def test_a_forged_reply_in_a_batch_loses_nothing(counting: Counting, ftp_root: Path, where: str) -> None:
    """A name forging the end of its STAT reply, in a batch: the folders before it keep
    their listings, it and the ones after are listed over data connections; the server
    is not listed by STAT again."""
    folder = ftp_root / "Hostile"
    folder.mkdir()
    for name in ("a.mkv", HOSTILE, "y.mkv", "z.mkv"):
        (folder / name).write_bytes(b"data")
    src = counting.src
    src.list("Films")
    batch = ["Hostile", "Films", "dir with space"] if where == "first" else ["Films", "Hostile", "dir with space"]
    got = src._list_many(batch)
    assert 1 <= len(got) and all(isinstance(r, list) for r in got)
    assert statlist._SAME[counting.key()] is False
    walked = {f: {e.name for e in r} for f, r in src.walk("") if isinstance(r, list)}
    assert {"a.mkv", "y.mkv", "z.mkv"} <= walked["Hostile"]
    assert walked["Films"] == {"inner.mkv", "Sub [1]"} and walked["dir with space"] == {"inner.mkv"}


def test_a_big_folder_in_a_batch_goes_its_own_way(counting: Counting, ftp_root: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _big_folder(ftp_root, monkeypatch)
    src = counting.src
    src.list("Films")
    got = src._list_many(["Films", "Big", "dir with space"])
    assert len(got) == 1  # Films; the rest are listed later
    assert _listed(src, "Big") == _local(ftp_root, "Big")
    assert statlist._SAME[counting.key()] is True
    walked = {f: len(r) for f, r in src.walk("") if isinstance(r, list)}
    assert walked["Big"] == 6


def test_a_batch_is_cut_to_a_few_kib_of_commands(counting: Counting, ftp_root: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from reelhouse.sources.ftp import lister

    monkeypatch.setattr(lister, "_BATCH_BYTES", 130)  # the commands of two of these folders
    src = counting.src
    src.list("Films")
    folders = ["Films", "dir with space", "Films/Sub [1]", "", "Films"]
    got = src._list_many(folders)
    assert len(got) == 2
    walked = {f: len(r) for f, r in src.walk("") if isinstance(r, list)}
    assert walked == {"": len(_local(ftp_root, "")), "dir with space": 1, "Films": 2, "Films/Sub [1]": 1}
