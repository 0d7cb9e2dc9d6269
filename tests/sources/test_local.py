"""Tests for reelhouse.sources.local: nothing outside the root can be named or read."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from reelhouse.errors import InvalidInput, NotFound, PermissionDenied, SourceUnavailable
from reelhouse.sources.local import LocalSource


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "media"
    outside = tmp_path / "secret"
    (root / "Films").mkdir(parents=True)
    outside.mkdir()
    (outside / "passwords.mkv").write_bytes(b"top secret")
    (outside / "dir").mkdir()
    (outside / "dir" / "x.mkv").write_bytes(b"x")
    (root / "Films" / "ok.mkv").write_bytes(b"0123456789")
    (root / "Films" / "link-inside.mkv").symlink_to(root / "Films" / "ok.mkv")
    (root / "Films" / "link-outside.mkv").symlink_to(outside / "passwords.mkv")
    (root / "Films" / "rel-outside.mkv").symlink_to("../../secret/passwords.mkv")
    (root / "dir-outside").symlink_to(outside / "dir")
    (root / "dangling.mkv").symlink_to(root / "nothing-here.mkv")
    (root / "loop-a").symlink_to(root / "loop-b")
    (root / "loop-b").symlink_to(root / "loop-a")
    return root, outside


def read(src: LocalSource, path: str, offset: int = 0, length: int = 100) -> bytes:
    return b"".join(src.read_range(path, offset, length))


@pytest.mark.parametrize("path", ["..", "../secret/passwords.mkv", "Films/../../secret/passwords.mkv",
                                  "/../secret/passwords.mkv", "Films/../.."])
def test_dot_dot_is_refused(layout: tuple[Path, Path], path: str) -> None:
    src = LocalSource(layout[0])
    with pytest.raises(InvalidInput):
        src.stat(path)
    with pytest.raises(InvalidInput):
        src.list(path)
    with pytest.raises(InvalidInput):
        read(src, path)


def test_nul_is_refused(layout: tuple[Path, Path]) -> None:
    src = LocalSource(layout[0])
    for call in (lambda: src.stat("Films/ok.mkv\x00.txt"), lambda: src.list("Films\x00"),
                 lambda: read(src, "Films/ok.mkv\x00")):
        with pytest.raises(InvalidInput):
            call()


def test_symlinks_outside_the_root_are_not_listed_nor_readable(layout: tuple[Path, Path]) -> None:
    src = LocalSource(layout[0])
    films = {e.path for e in src.list("Films")}
    assert films == {"Films/ok.mkv", "Films/link-inside.mkv"}
    root = {e.name for e in src.list("")}
    assert root == {"Films"}  # dir-outside, dangling and looping links are left out
    for path in ("Films/link-outside.mkv", "Films/rel-outside.mkv", "dir-outside",
                 "dir-outside/x.mkv"):
        with pytest.raises(PermissionDenied):
            src.stat(path)
        with pytest.raises(PermissionDenied):
            read(src, path)
    with pytest.raises(PermissionDenied):
        src.list("dir-outside")
    walked = [e.path for _, entries in src.walk() if isinstance(entries, list) for e in entries]
    assert not any("outside" in p or "secret" in p for p in walked)


def test_symlink_inside_the_root_is_followed(layout: tuple[Path, Path]) -> None:
    src = LocalSource(layout[0])
    assert read(src, "Films/link-inside.mkv") == b"0123456789"
    assert src.stat("Films/link-inside.mkv").size == 10


def test_symlink_entry_keeps_the_link_name(layout: tuple[Path, Path]) -> None:
    src = LocalSource(layout[0])
    assert src.stat("Films/link-inside.mkv").name == "link-inside.mkv"
    assert {e.name for e in src.list("Films")} == {"ok.mkv", "link-inside.mkv"}


def test_symlinked_root_is_resolved(layout: tuple[Path, Path], tmp_path: Path) -> None:
    link = tmp_path / "root-link"
    link.symlink_to(layout[0])
    src = LocalSource(link)
    assert read(src, "Films/ok.mkv") == b"0123456789"
    with pytest.raises(PermissionDenied):
        read(src, "Films/link-outside.mkv")


def test_loops_and_dangling(layout: tuple[Path, Path]) -> None:
    src = LocalSource(layout[0])
    with pytest.raises((PermissionDenied, NotFound)):
        src.stat("loop-a")
    with pytest.raises(NotFound):
        src.stat("dangling.mkv")
    with pytest.raises(NotFound):
        read(src, "dangling.mkv")


def test_a_folder_link_back_to_an_ancestor_ends_the_walk(tmp_path: Path) -> None:
    """``Films/up -> ..`` and two folders linking to each other: the walk ends and lists
    each real folder once per path that is no cycle (it never ended before: Films/up/
    Films/up/… until the path was 4 KiB long, every film indexed thousands of times)."""
    root = tmp_path / "media"
    (root / "Films").mkdir(parents=True)
    (root / "Films/Heat (1995).mkv").write_bytes(b"x")
    (root / "Films/up").symlink_to("..")
    (root / "A").mkdir()
    (root / "B").mkdir()
    (root / "A/to-b").symlink_to("../B")
    (root / "B/to-a").symlink_to("../A")
    (root / "Same").symlink_to("Films")  # an alias, no cycle: followed
    folders = [folder for folder, _ in LocalSource(root).walk("")]
    assert sorted(folders) == ["", "A", "A/to-b", "B", "B/to-a", "Films", "Same"]


def test_reads(layout: tuple[Path, Path]) -> None:
    src = LocalSource(layout[0], chunk_size=3)
    assert list(src.read_range("Films/ok.mkv", 1, 7)) == [b"123", b"456", b"7"]
    assert read(src, "Films/ok.mkv", 8, 100) == b"89"
    assert read(src, "Films/ok.mkv", 10, 5) == b""
    assert read(src, "Films/ok.mkv", 50, 5) == b""
    with pytest.raises(InvalidInput):
        read(src, "Films/ok.mkv", -1, 5)
    with pytest.raises(NotFound):
        read(src, "Films/none.mkv")
    with pytest.raises(NotFound):
        read(src, "Films/ok.mkv/below")


def test_early_close_closes_the_file(layout: tuple[Path, Path]) -> None:
    src = LocalSource(layout[0], chunk_size=2)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        it = src.read_range("Films/ok.mkv", 0, 10)
        next(it)
        it.close()  # type: ignore[attr-defined]

    async def main() -> None:
        for _ in range(20):
            agen = src.aread_range("Films/ok.mkv", 0, 10)
            assert await agen.__anext__() == b"0123456789"
            await agen.aclose()  # type: ignore[attr-defined]

    asyncio.run(main())
    assert len(os.listdir("/proc/self/fd")) <= before + 1


def test_list_errors(layout: tuple[Path, Path]) -> None:
    src = LocalSource(layout[0])
    with pytest.raises(NotFound):
        src.list("nope")
    with pytest.raises(NotFound):
        src.list("Films/ok.mkv")
    root = src.list("")
    assert all(e.mtime is not None for e in root)
    assert src.stat("").is_dir and src.stat("").path == ""


def test_missing_root(tmp_path: Path) -> None:
    src = LocalSource(tmp_path / "gone")
    with pytest.raises(NotFound):
        src.test()
    with pytest.raises(SourceUnavailable):
        src.list("")
    src.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_unreadable_file_is_permission_denied(layout: tuple[Path, Path]) -> None:
    path = layout[0] / "Films" / "ok.mkv"
    path.chmod(0)
    try:
        with pytest.raises(PermissionDenied):
            read(LocalSource(layout[0]), "Films/ok.mkv")
    finally:
        path.chmod(0o644)


def test_a_folder_named_like_its_parent_is_walked(tmp_path: Path) -> None:
    """``Films/Films/Films/Heat (1995).mp4`` made by one ``mkdir -p``: each level lists
    one folder ``Films`` with the same time (to the clock's tick), as a link back up would
    list; the scan skipped the film ("Films: listed as '/', a folder above it (a link back
    up?): not walked", found by an outside-in hunt). A local disk tells two folders apart
    by their inodes; a real link back up is still not walked."""
    root = tmp_path / "media"
    deep = root / "Films" / "Films" / "Films"
    deep.mkdir(parents=True)
    (deep / "Heat (1995).mp4").write_bytes(b"x")
    for level in (deep, deep.parent, deep.parent.parent, root):  # one time for every level
        os.utime(level, (1_700_000_000, 1_700_000_000))
    src = LocalSource(root)
    walked = dict(src.walk(""))
    assert [e.path for e in walked["Films/Films/Films"]] == ["Films/Films/Films/Heat (1995).mp4"]  # type: ignore[union-attr]
    assert src.same_folder("Films", "Films/Films") is False and src.same_folder("Films", "Films/.") is True
    assert src.same_folder("Films", "nope") is None
