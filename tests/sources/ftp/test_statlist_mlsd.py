"""A walk of an MLSD server (pyftpdlib) listed by ``STAT`` over the control connection
(sources/ftp/statlist.py, ``FtpLister.list_many``): learnt against MLSD on the first
folder, times MLSD's cut to the minute (or the day), folders with symlinks and servers
whose STAT differs listed by MLSD, odd names intact."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from sources.ftp.counting import Counting

from reelhouse.sources.ftp import statlist

pytestmark = pytest.mark.usefixtures("fresh_stat_verdicts")

ODD = [" leading space.mkv", "trailing space .mkv", "Amélie (2001).mkv", "two  spaces.mkv", "a -> b.mkv",
       "[x]*?.mkv", "千と千尋.mkv", "Jan 12 14:05 looks like a date.mkv", "Nov 27  2020 x.mkv", "-dash.mkv",
       ".hidden.mkv", "213 foo.mkv"]
RECENT = (int(time.time()) // 60 - 14400) * 60 + 7  # ten days ago, seconds: STAT gives the minute
OLD = 1_000_000_007  # past six months: STAT gives the day


def _tree(root: Path, shows: int = 20) -> None:
    for i in range(shows):
        season = root / f"Show {i:02d}" / "Season 1"
        season.mkdir(parents=True)
        for j, name in enumerate(ODD):
            (season / name).write_bytes(b"x" * (i + j))
            os.utime(season / name, (0, OLD if j % 2 else RECENT + i * 3600 + j * 13))



def _local(root: Path) -> dict[str, dict[str, tuple[bool, int | None, float | None]]]:
    """Each folder's entries as the walk gives them, times cut as ``ls -l`` cuts them."""
    out = {}
    for folder, dirs, files in os.walk(root):
        rel = os.path.relpath(folder, root)
        entries = {}
        for name in dirs + files:
            st = (Path(folder) / name).lstat()
            cut = 86400 if st.st_mtime == OLD else 60
            entries[name] = (name in dirs, None if name in dirs else st.st_size, None if name in dirs
                             else st.st_mtime - st.st_mtime % cut)
        out["" if rel == "." else rel] = entries
    return out


def _files(walk: dict[str, dict[str, tuple[bool, int | None, float | None]]]) -> dict[str, Any]:
    return {f: {n: v if not v[0] else v[:2] for n, v in e.items()} for f, e in walk.items()}


def test_the_walk_of_an_mlsd_server_goes_by_stat(ftp_root: Path) -> None:
    _tree(ftp_root)
    server = Counting(ftp_root, mlsd=True, pool_size=3)
    try:
        for _ in range(2):
            pasv = server.counts["PASV"]
            walked = server.walk()
            assert _files(walked) == _files(_local(ftp_root))
            assert len(walked) == 41
        assert server.counts["PASV"] == pasv  # the second walk: no data connection at all
        assert server.counts["STAT"] >= 41
        # a latin-1 name on this UTF-8 server: as MLSD gives it (the name's bytes as pyftpdlib sends them)
        os.close(os.open(os.fsencode(ftp_root / "Show 03" / "Season 1") + b"/caf\xe9.mkv", os.O_CREAT | os.O_WRONLY))
        walked = server.walk()
        mlsd = {e.name: (e.is_dir, e.size) for e in server.src.list("Show 03/Season 1")}
        assert {n: v[:2] for n, v in walked["Show 03/Season 1"].items()} == mlsd and len(mlsd) == len(ODD) + 1
        # one folder's listing (browsing, the drive) keeps MLSD's seconds
        first = ftp_root / "Show 00" / "Season 1" / ODD[0]
        listed = {e.name: e.mtime for e in server.src.list("Show 00/Season 1")}
        assert listed[ODD[0]] == first.stat().st_mtime == RECENT
    finally:
        server.close()


def test_a_folder_with_a_symlink_goes_by_mlsd(ftp_root: Path) -> None:
    _tree(ftp_root, shows=3)
    season = ftp_root / "Show 01" / "Season 1"
    (season / "link.mkv").symlink_to(season / ODD[2])
    server = Counting(ftp_root, mlsd=True, pool_size=3)
    try:
        server.walk()  # learnt
        walked = server.walk()
        mlsd = {e.name: (e.is_dir, e.size, e.mtime) for e in server.src.list("Show 01/Season 1")}
        assert walked["Show 01/Season 1"] == mlsd  # the link as MLSD gives it: its target's facts
        assert walked["Show 01/Season 1"]["link.mkv"][1] == (season / ODD[2]).stat().st_size
        assert _files(walked)["Show 02/Season 1"] == _files(_local(ftp_root))["Show 02/Season 1"]
    finally:
        server.close()


def _stat_an_hour_off(handler: Any, path: str) -> None:
    """A STAT printing times an hour off MLSD's (a server printing its local time)."""
    from pyftpdlib.handlers.ftp.producers import BufferedIteratorProducer

    fs = handler.fs
    listing = sorted(handler.run_as_current_user(fs.listdir, path))
    lstat = fs.lstat

    class Shifted:
        def __init__(self, st: os.stat_result) -> None:
            self._st = st
            self.st_mtime = st.st_mtime + 3600

        def __getattr__(self, name: str) -> Any:
            return getattr(self._st, name)

    fs.lstat = lambda p: Shifted(lstat(p))
    try:
        lines = list(fs.format_list(path, listing))
    finally:
        del fs.lstat
    handler.push("213-Status:\r\n")
    handler.push_with_producer(BufferedIteratorProducer(iter(lines)))
    handler.respond("213 End of status.")


def _stat_without_the_last_entry(handler: Any, path: str) -> None:
    from pyftpdlib.handlers.ftp.producers import BufferedIteratorProducer

    listing = sorted(handler.run_as_current_user(handler.fs.listdir, path))[:-1]
    handler.push("213-Status:\r\n")
    handler.push_with_producer(BufferedIteratorProducer(handler.fs.format_list(path, listing)))
    handler.respond("213 End of status.")


@pytest.mark.parametrize("stat", [_stat_an_hour_off, _stat_without_the_last_entry], ids=["local-time", "cut-short"])
def test_an_mlsd_server_whose_stat_differs_keeps_mlsd(ftp_root: Path, stat: Any) -> None:
    _tree(ftp_root, shows=4)
    server = Counting(ftp_root, mlsd=True, pool_size=3, ftp_STAT=stat)
    try:
        for _ in range(2):
            walked = server.walk()
            exact = {f: {e.name: (e.is_dir, e.size, e.mtime) for e in server.src.list(f)} for f in walked}
            assert walked == exact  # every folder by MLSD, seconds and all
        assert server.counts["STAT"] <= 2  # learnt on the first folder(s) with files
        assert statlist._SAME and not any(statlist._SAME.values())
    finally:
        server.close()
