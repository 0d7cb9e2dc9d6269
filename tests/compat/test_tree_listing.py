"""A pure-ftpd walk by ``LIST -R`` (sources/ftp/treelist.py) against the real daemon: the
same folders, names, kinds and sizes as the walk by MLSD, times the same to the minute,
with odd names, dot files, symlinks, empty folders and the ``-L`` limits cutting it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelhouse.library.known import same_mtime
from reelhouse.sources.ftp import FtpConfig, FtpSource, treelist

from helpers import PURE_PASSWORD, PURE_USER, daemon_sessions, pure_ftpd

pytestmark = [pytest.mark.ftpd]

ODD = ["213 foo.mkv", " leading space.mkv", "trailing space .mkv", "Amélie (2001).mkv", "two  spaces.mkv",
       "a -> b.mkv", "[x]*?.mkv", "千と千尋.mkv", "0123", 'q"uote.mkv', "x .", "226 1 matches total"]


def _fill(home: Path) -> None:
    """The odd names at the root (listed alone, MLSD) and in "Odd" (by LIST -R)."""
    (home / "Odd").mkdir()
    for name in ODD:
        (home / name).write_bytes(b"x" * len(name))
        (home / "Odd" / name).write_bytes(b"x" * len(name))
    (home / "Odd" / os.fsdecode(b"caf\xe9.mkv")).write_bytes(b"latin-1")
    (home / "Odd" / ".hidden.mkv").write_bytes(b"h")
    (home / os.fsdecode(b"caf\xe9.mkv")).write_bytes(b"latin-1")
    (home / ".hidden.mkv").write_bytes(b"h")
    for show in ("Show A", "Shöw B", "./Show C".lstrip("./")):
        for season in range(1, 4):
            folder = home / show / f"Season {season:02d}"
            folder.mkdir(parents=True)
            for ep in range(1, 6):
                (folder / f"{show}.S{season:02d}E{ep:02d}.mkv").write_bytes(b"e" * ep)
    (home / "Empty").mkdir()
    (home / "Show A" / "Season 01" / "Empty Inside").mkdir()
    deep = home / "Deep" / "d1" / "d2" / "d3" / "d4" / "d5"
    deep.mkdir(parents=True)
    (deep / "bottom.mkv").write_bytes(b"bottom")
    (home / "Links").mkdir()
    (home / "Links" / "plain.mkv").write_bytes(b"p")
    (home / "Links" / "to-file.mkv").symlink_to("plain.mkv")
    (home / "Links" / "to-show").symlink_to("../Show A")
    (home / "Links" / "dangling.mkv").symlink_to("nowhere.mkv")
    (home / "Many").mkdir()
    for i in range(30):
        (home / "Many" / f"m{i:02d}.mkv").write_bytes(b"m")
    os.utime(home / "0123", (0, 1_600_000_000))
    (home / "Show A" / "Locked").mkdir()  # its CWD is refused (pure-ftpd runs as nobody)
    (home / "Show A" / "Locked").chmod(0o000)
    (home / "Show A" / "old.mkv").write_bytes(b"old")
    os.utime(home / "Show A" / "old.mkv", (0, 1_600_000_000))
    os.utime(home / "Show A" / "Season 01" / "Show A.S01E01.mkv", (0, 1_790_000_037))


@pytest.fixture(scope="module", params=[[], ["-L", "40:3"]], ids=["default-limits", "cut"])
def pureftpd(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """pure-ftpd as installed, and with ``-L 40:3``: listings cut at 40 lines, 3 levels."""
    with pure_ftpd(tmp_path_factory.mktemp("tree"), _fill, request.param) as (port, _home):
        yield port


def _walk(port: int) -> dict[str, dict[str, tuple[bool, int | None, float | None]]]:
    src = FtpSource(FtpConfig("127.0.0.1", port, PURE_USER, PURE_PASSWORD, pool_size=3))
    try:
        out: dict[str, dict[str, tuple[bool, int | None, float | None]]] = {}
        for folder, result in src.walk(""):
            if isinstance(result, Exception):
                out[folder] = {"error": (False, None, None)}
                continue
            assert folder not in out
            out[folder] = {e.name: (e.is_dir, e.size, e.mtime) for e in result}
        return out
    finally:
        src.close()


def test_tree_walk_lists_what_the_mlsd_walk_lists(pureftpd: int, monkeypatch: pytest.MonkeyPatch) -> None:
    treelist.forget_all()
    trees: list[int] = []
    parse = treelist.parse_tree

    def counted(*args: object, **kw: object) -> dict[str, list[object]]:
        got = parse(*args, **kw)  # type: ignore[arg-type]
        trees.append(len(got))
        return got  # type: ignore[return-value]
    monkeypatch.setattr(treelist, "parse_tree", counted)
    by_tree = _walk(pureftpd)
    assert trees and max(trees) > 1  # listings came whole subtrees at a time
    monkeypatch.setattr(treelist, "tried", lambda key: False)
    by_mlsd = _walk(pureftpd)
    assert by_tree.keys() == by_mlsd.keys()
    assert "Show A/Season 01/Empty Inside" in by_tree and "Deep/d1/d2/d3/d4/d5" in by_tree
    for folder, mlsd in by_mlsd.items():
        tree = by_tree[folder]
        assert {n: v[:2] for n, v in tree.items()} == {n: v[:2] for n, v in mlsd.items()}, folder
        for name, (_d, _s, mtime) in mlsd.items():
            listed = tree[name][2]
            assert same_mtime(mtime, listed) and same_mtime(listed, mtime), (folder, name, mtime, listed)
    old = by_mlsd["Show A"]["old.mkv"][2], by_tree["Show A"]["old.mkv"][2]
    assert old == (1_600_000_000, 1_600_000_000 - 1_600_000_000 % 86400)  # LIST's day past six months
    assert by_mlsd["Show A/Season 01"]["Show A.S01E01.mkv"][2] == 1_790_000_037
    assert by_tree["Show A/Season 01"]["Show A.S01E01.mkv"][2] == 1_790_000_037 - 1_790_000_037 % 60  # LIST's minute
    assert len(by_tree["Many"]) == 30
    assert by_tree["Show A/Locked"] == by_mlsd["Show A/Locked"] == {"error": (False, None, None)}
    deadline = time.monotonic() + 15
    while daemon_sessions(pureftpd) and time.monotonic() < deadline:  # a refused CWD left none waiting
        time.sleep(0.05)
    assert daemon_sessions(pureftpd) == 0


def test_a_reply_from_another_server_turns_it_off() -> None:
    key = ("h", 21, "220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------", "LIST")
    treelist.forget_all()
    assert treelist.tried(key)
    with pytest.raises(treelist.TreeUnusable) as info:
        treelist.parse_tree("", "226 Transfer complete", __import__("datetime").datetime.now(), "")
    assert info.value.server_wide
    treelist.forget(key)
    assert not treelist.tried(key)
    treelist.forget_all()
