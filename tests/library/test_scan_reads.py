"""A scan reads each new file's head and tail once: the probe and the move fingerprint
share one SourceReader (issue 15). Counted on a MemorySource that records every range
read; the clips are real (ffmpeg)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.library.fingerprint import EDGE_BYTES, content_hash
from reelhouse.library.scanner import scan_source
from reelhouse.sources.memory import MemorySource
from reelhouse.sources.registry import SourceSpec

pytestmark = pytest.mark.requires_ffmpeg


class CountingSource(MemorySource):
    """A MemorySource that records ``(path, offset, length)`` of every range read."""

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__(files)
        self.reads: list[tuple[str, int, int]] = []

    def read_range(self, path: str, offset: int, length: int) -> Iterator[bytes]:
        self.reads.append((path, offset, length))
        return super().read_range(path, offset, length)


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    c = Core(load_settings(data_dir=tmp_path / "data"), consume_jobs=False)
    yield c
    c.close()


@pytest.mark.parametrize("clip", ["sample_mp4", "sample_mkv", "moov_at_end"])
def test_head_and_tail_are_read_once(core: Core, tmp_path: Path, clip: str, request: pytest.FixtureRequest,
                                     probe_clips: dict[str, Path]) -> None:
    path = probe_clips["moov_at_end.mp4"] if clip == "moov_at_end" else request.getfixturevalue(clip)
    data = path.read_bytes()
    assert len(data) > 4 * EDGE_BYTES
    name = f"Film (2020)/Film (2020){path.suffix}"
    source = CountingSource({name: data})
    sid = core.sources.create(SourceSpec(name="mem", kind="local", path=str(tmp_path))).id
    report = scan_source(core.sessions, sid, source)
    assert report.probed == 1 and not report.errors
    covered: dict[int, int] = {}
    for _, offset, length in source.reads:
        for byte in (0, len(data) - 1):  # the first and the last byte of the file
            if offset <= byte < offset + length:
                covered[byte] = covered.get(byte, 0) + 1
    assert covered == {0: 1, len(data) - 1: 1}
    # the shared reads hash the same bytes as reads of their own
    from sqlalchemy import select

    from reelhouse.db.models import MediaFile
    with core.sessions() as s:
        row = s.scalar(select(MediaFile))
        assert row is not None and row.content_hash == content_hash(source, name, len(data))
