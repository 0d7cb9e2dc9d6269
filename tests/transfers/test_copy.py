"""The pure parts of transfers (the rate/ETA meter, the retry backoff) with property
tests, and upload/download over a MemorySource: .part, resume, size check, cancel."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelhouse.errors import Cancelled, NotFound, SourceUnavailable, StorageFull
from reelhouse.sources.memory import MemorySource
from reelhouse.transfers.copy import CHUNK, download, upload
from reelhouse.transfers.meter import Meter
from reelhouse.transfers.runner import backoff

DATA = os.urandom(3 * 1024 * 1024 + 5)


@given(st.floats(0.1, 1e9), st.floats(0.01, 100), st.integers(2, 50))
def test_meter_measures_a_steady_rate(rate: float, step: float, n: int) -> None:
    m = Meter(window=1e12)
    for i in range(n):
        m.add(i * step, int(i * step * rate))
    assert m.rate is not None
    assert abs(m.rate - rate) <= max(1.0, rate * 1e-6) + 1 / step
    eta = m.eta(0, int(rate * 10))
    assert (eta is None) == (m.rate <= 0)  # bytes are whole: a tiny rate may read as 0
    assert eta is None or eta >= 0


def test_meter_without_data() -> None:
    m = Meter()
    assert m.rate is None and m.eta(0, 100) is None
    m.add(1.0, 10)
    assert m.rate is None
    m.add(2.0, 110)
    assert m.rate == 100.0 and m.eta(110, None) is None and m.eta(110, 310) == 2.0


@given(st.integers(1, 10), st.floats(0, 60), st.integers(0, 2**32))
def test_backoff_doubles_with_jitter(attempt: int, base: float, seed: int) -> None:
    step = base * 2 ** (attempt - 1)
    delay = backoff(attempt, base, random.Random(seed))
    assert step <= delay <= 2 * step


def test_download_resumes_a_part_and_renames(tmp_path: Path) -> None:
    src = MemorySource({"Films/f.mkv": DATA})
    dest = tmp_path / "store" / "f.mkv"
    dest.parent.mkdir()
    (tmp_path / "store" / "f.mkv.reelhouse.part").write_bytes(DATA[:1000])  # of an unknown version
    seen: list[int] = []
    with pytest.raises(Cancelled):
        download(src, "Films/f.mkv", dest, lambda d, t: seen.append(d),
                 should_stop=lambda: seen[-1] >= CHUNK)
    assert seen[0] == 0  # started over: the .part's version was not known
    have = (tmp_path / "store" / "f.mkv.reelhouse.part").stat().st_size
    seen.clear()
    assert download(src, "Films/f.mkv", dest, lambda d, t: seen.append(d)) == len(DATA)
    assert seen[0] == have > 0 and seen[-1] == len(DATA)
    assert os.listdir(tmp_path / "store") == ["f.mkv"]  # no .part, no signature left
    assert dest.read_bytes() == DATA and not (tmp_path / "store" / "f.mkv.reelhouse.part").exists()
    with pytest.raises(NotFound):
        download(src, "Films/nope.mkv", tmp_path / "x")


def test_a_file_in_the_way_of_a_download_is_a_conflict_naming_it(tmp_path: Path) -> None:
    """A file on the server replaced by a folder of its name: the earlier download of
    the file stands where the new file's folder goes. A Conflict names the file in the
    way (it was "cannot use local file …: File exists", about the new file); the earlier
    download is kept."""
    from reelhouse.errors import Conflict

    src = MemorySource({"Films/Heat (1995).mkv/Heat.1995.mkv": b"new"})
    store = tmp_path / "store"
    (store / "Films").mkdir(parents=True)
    (store / "Films/Heat (1995).mkv").write_bytes(b"old")
    for dest in (store / "Films/Heat (1995).mkv/Heat.1995.mkv", store / "Films/Heat (1995).mkv/sub/x.mkv"):
        with pytest.raises(Conflict, match=r"Heat \(1995\)\.mkv.* is a file"):
            download(src, "Films/Heat (1995).mkv/Heat.1995.mkv", dest)
    (store / "Films/Folder.mkv").mkdir()
    with pytest.raises(Conflict, match="is a folder"):
        download(src, "Films/Heat (1995).mkv/Heat.1995.mkv", store / "Films/Folder.mkv")
    assert (store / "Films/Heat (1995).mkv").read_bytes() == b"old"


def test_a_download_to_a_folder_reads_nothing_and_leaves_nothing(tmp_path: Path) -> None:
    """A download whose local name is a folder is refused before a byte is read; one
    whose name a folder takes while it runs drops its ``.part``. It used to read the
    whole file into ``NAME.part``, fail at the rename ("it is a folder") and leave the
    ``.part`` and its signature in the store for good (found by an outside-in hunt:
    ``reelhouse transfer download … --to`` an existing folder)."""
    from reelhouse.errors import Conflict

    class Counting(MemorySource):
        read = 0

        def read_range(self, path: str, offset: int, length: int):  # type: ignore[no-untyped-def]
            for chunk in super().read_range(path, offset, length):
                Counting.read += len(chunk)
                yield chunk

    store = tmp_path / "store"
    (store / "Films").mkdir(parents=True)
    src = Counting({"f.mkv": DATA})
    with pytest.raises(Conflict, match="is a folder"):
        download(src, "f.mkv", store / "Films")
    assert Counting.read == 0 and os.listdir(store) == ["Films"]

    def make_the_folder(done: int, total: int | None) -> None:
        if done == total:
            (store / "late.mkv").mkdir(exist_ok=True)

    with pytest.raises(Conflict, match="is a folder"):
        download(src, "f.mkv", store / "late.mkv", make_the_folder)
    assert sorted(os.listdir(store)) == ["Films", "late.mkv"]  # no .part, no .partsig


def test_download_keeps_the_reserve_free(tmp_path: Path) -> None:
    """Any user may queue downloads (and offline copies): one that would leave less than
    ``min_free`` bytes on the store's disk is StorageFull before its first byte, so a
    hostile user cannot fill the disk the database lives on."""
    src = MemorySource({"Films/f.mkv": DATA})
    dest = tmp_path / "store" / "f.mkv"
    free = shutil.disk_usage(tmp_path).free
    with pytest.raises(StorageFull, match="kept free"):
        download(src, "Films/f.mkv", dest, min_free=free - len(DATA) // 2)
    assert not dest.exists() and not dest.with_name("f.mkv.reelhouse.part").exists()
    assert download(src, "Films/f.mkv", dest, min_free=max(0, free - 64 * len(DATA))) == len(DATA)


def test_download_of_a_short_read_is_retryable(tmp_path: Path) -> None:
    class Short(MemorySource):
        def read_range(self, path: str, offset: int, length: int):  # type: ignore[no-untyped-def]
            yield from super().read_range(path, offset, min(length, 1000))

    with pytest.raises(SourceUnavailable, match="resumed"):
        download(Short({"f": DATA}), "f", tmp_path / "f")
    assert (tmp_path / "f.reelhouse.part").stat().st_size == 1000 and not (tmp_path / "f").exists()


def test_upload_resumes_from_the_sources_part_and_cancels(tmp_path: Path) -> None:
    local = tmp_path / "f.mkv"
    local.write_bytes(DATA)
    src = MemorySource()
    src.files["New/f.mkv.reelhouse.part"] = DATA[:12345]
    src.mtimes["New/f.mkv.reelhouse.part"] = 0.0
    assert upload(src, local, "New/f.mkv") == len(DATA)
    assert src.files["New/f.mkv"] == DATA and "New/f.mkv.reelhouse.part" not in src.files
    with pytest.raises(Cancelled):
        upload(src, local, "Other/g.mkv", should_stop=lambda: True)
    assert "Other/g.mkv" not in src.files


def test_upload_to_a_full_source(tmp_path: Path) -> None:
    local = tmp_path / "f.mkv"
    local.write_bytes(DATA)
    src = MemorySource()
    src.capacity = 1024 * 1024
    with pytest.raises(StorageFull):
        upload(src, local, "f.mkv")
    assert "f.mkv" not in src.files  # never renamed into place


def test_an_upload_does_not_need_room_in_the_store(tmp_path: Path) -> None:
    """An upload keeps its local file's version in a small signature file in the library
    store; when that cannot be written (the store's disk full, or a file in the way) the
    upload sends the whole file rather than failing: ``reelhouse transfer upload`` of a
    100 KB file to a source with room failed with "no space left in the local store for
    '1173bb7d…'", the signature's hash name (found by an outside-in hunt with the store on a
    full tmpfs). A stale ``.part`` is not resumed on a guess."""
    local = tmp_path / "f.mkv"
    local.write_bytes(DATA)
    (tmp_path / "store").write_text("a file where the store's .uploads folder goes")
    signature = tmp_path / "store" / ".uploads" / "sig"
    src = MemorySource()
    src.files["f.mkv.reelhouse.part"] = b"stale bytes of another file"
    src.mtimes["f.mkv.reelhouse.part"] = 0.0
    assert upload(src, local, "f.mkv", signature=signature) == len(DATA)
    assert src.files["f.mkv"] == DATA and "f.mkv.reelhouse.part" not in src.files
