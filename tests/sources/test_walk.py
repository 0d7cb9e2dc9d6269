"""The folder walk (reelhouse/sources/walk.py): failed folders, batches of listings,
the loop guard's cost."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reelhouse.errors import NotFound
from reelhouse.sources import walk
from reelhouse.sources.base import Entry
from reelhouse.sources.memory import MemorySource
from reelhouse.sources.walk import walk_parallel, walk_source


def test_walk_source_reports_failed_folders_and_goes_on() -> None:
    src = MemorySource({"A/1.mkv": b"1", "A/B/2.mkv": b"2", "C/3.mkv": b"3", "C/D/4.mkv": b"4"})
    src.failing = {"A"}
    out = list(walk_source(src))
    folders = [f for f, _ in out]
    assert folders == ["", "A", "C", "C/D"]  # depth-first, by name, A not descended
    assert isinstance(dict(out)["A"], Exception)
    assert [e.name for e in dict(out)["C/D"]] == ["4.mkv"]  # type: ignore[union-attr]
    src.failing = {""}
    assert [(f, type(r).__name__) for f, r in walk_source(src)] == [("", "SourceUnavailable")]


@pytest.mark.parametrize("workers", [1, 3])
@settings(max_examples=40, deadline=None)
@given(folders=st.sets(st.text("abc", min_size=1, max_size=3), max_size=12), listed_per_call=st.integers(1, 4))
def test_walk_parallel_with_batches_lists_every_folder_once(
        workers: int, folders: set[str], listed_per_call: int) -> None:
    """``list_many`` may list a leading part of its batch only: the rest are listed
    later, each folder exactly once; a failed folder is reported and not descended."""
    files = {f"{'/'.join(folder)}/f.mkv": b"x" for folder in folders}
    src = MemorySource(files)
    src.failing = {"b"}
    batches: list[list[str]] = []

    def list_many(paths: list[str]) -> list[list[Entry] | Exception]:
        batches.append(paths)
        out: list[list[Entry] | Exception] = []
        for path in paths[:listed_per_call]:
            try:
                out.append(src.list(path))
            except Exception as exc:
                out.append(exc)
        return out

    walked = list(walk_parallel(src, "", workers=workers, list_many=list_many, batch=5))
    assert sorted(f for f, _ in walked) == sorted(f for f, _ in walk_source(src))
    assert {f: r for f, r in walked if not isinstance(r, Exception)} == {
        f: r for f, r in walk_source(src) if not isinstance(r, Exception)}
    assert all(1 <= len(b) <= 5 for b in batches)


def test_walk_parallel_gives_a_raised_error_to_the_first_folder_of_the_batch() -> None:
    src = MemorySource({"a/1.mkv": b"1", "b/2.mkv": b"2", "c/3.mkv": b"3"})

    def list_many(paths: list[str]) -> list[list[Entry] | Exception]:
        if "a" in paths[:1]:
            raise NotFound("a is gone")
        return [src.list(paths[0])]

    walked = dict(walk_parallel(src, "", workers=1, list_many=list_many))
    assert isinstance(walked.pop("a"), NotFound)
    assert sorted(walked) == ["", "b", "c"]


@pytest.mark.parametrize("workers", [1, 3])
def test_the_loop_guard_hashes_each_listing_once(workers: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk's loop guard sorts and hashes a folder's entries once (``distinct`` got
    the entries and made the key again before looking whether the source can tell two
    folders apart at all; ``check`` made it a third time): on the rescan's path, per
    folder."""
    hashed: list[int] = []

    def counting_hash(value: object) -> int:
        hashed.append(1)
        return hash(value)

    monkeypatch.setattr(walk, "hash", counting_hash, raising=False)
    src = MemorySource({f"Show {i}/Season {s}/e{s}.mkv": b"x" for i in range(3) for s in range(2)})
    walked = list(walk_parallel(src, "", workers=workers))
    with_folders = sum(1 for _, r in walked if isinstance(r, list) and any(e.is_dir for e in r))
    assert with_folders == 4 and len(hashed) == with_folders
