"""pure-ftpd's ``LIST -R`` replies read by sources/ftp/treelist.parse_tree: what is kept,
what goes back to the walk (empty, cut, symlinks) and what drops the reply."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reelhouse.sources.ftp.treelist import TreeUnusable, parse_tree

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def line(kind: str, name: str, size: int = 0) -> str:
    mode = "drwxr-xr-x" if kind == "d" else "lrwxrwxrwx" if kind == "l" else "-rw-r--r--"
    return f"{mode}    1 0          0          {size:10d} Nov 27 17:46 {name}\r\n"


def head(path: str) -> str:
    return f"\r\n\r\n./{path}:\r\n\r\n"


def final(n: int, cut: bool = False) -> str:
    return "226-Options: -a -l -R \n" + (f"226 Output truncated to {n} matches" if cut else f"226 {n} matches total")


TREE = (line("d", "Show A") + line("f", "x y.mkv", 5) + line("d", "Empty")
        + head("Show A") + line("d", "Season 01") + line("f", "a.nfo", 1)
        + head("Show A/Season 01") + line("f", "S01E01.mkv", 7)
        + head("Empty"))


def test_sections_by_folder() -> None:
    got = parse_tree(TREE, final(6), NOW, "Films")
    assert sorted(got) == ["Films", "Films/Show A", "Films/Show A/Season 01"]  # "Empty": the walk's
    assert [(e.name, e.path, e.is_dir, e.size) for e in got["Films"]] == [
        ("Show A", "Films/Show A", True, None), ("x y.mkv", "Films/x y.mkv", False, 5),
        ("Empty", "Films/Empty", True, None)]
    assert got["Films/Show A/Season 01"][0].mtime == datetime(2026, 11, 27, 17, 46, tzinfo=UTC).timestamp()


def test_the_last_section_of_a_cut_reply_goes_back_to_the_walk() -> None:
    text = TREE.removesuffix(head("Empty"))
    got = parse_tree(text, final(6, cut=True), NOW, "")
    assert sorted(got) == ["", "Show A"]


def test_names_like_dot_lines_are_entries() -> None:
    text = line("f", "x .") + line("f", "y ..") + line("f", ". .")
    assert [e.name for e in parse_tree(text, final(3), NOW, "")[""]] == ["x .", "y ..", ". ."]


def test_dot_entries_and_symlinks() -> None:
    text = (line("d", ".") + line("d", "..") + line("d", "L") + line("f", ".hidden", 1)
            + head("L") + line("d", ".") + line("d", "..") + line("l", "to -> there"))
    got = parse_tree(text, final(7), NOW, "")
    assert [e.name for e in got[""]] == ["L", ".hidden"] and got["L"] is None  # a link: MLSD says what it is


@pytest.mark.parametrize(("text", "reply", "server_wide"), [
    (TREE, final(7), False),  # the count is not the server's
    (TREE + head("Nowhere"), final(6), False),  # a section of no folder listed
    (TREE.replace(head("Show A/Season 01"), head("Season 01")), final(6), False),
    (TREE + "garbage\r\n", final(7), False),
    (TREE + line("f", "v2 ."), final(7), False),  # read as a "." line: the counts differ
    (TREE.replace("a.nfo\r\n", "a.nfo\n"), final(6), False),
    (TREE, "226 6 matches total", True),  # no -R among the options: not pure-ftpd's reply
    (TREE, "226-Options: -a -l \n226 6 matches total", True),
    (TREE, "226 Transfer complete", True),
])
def test_untrusted_replies(text: str, reply: str, server_wide: bool) -> None:
    with pytest.raises(TreeUnusable) as info:
        parse_tree(text, reply, NOW, "")
    assert info.value.server_wide is server_wide
