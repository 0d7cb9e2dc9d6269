"""keyframe_before: the keyframe at or before a time in an MPEG-TS (no keyframe
index), read through a SourceReader as the HLS encoders' seek does."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import pytest

from reelhouse.playback.hls.keyframes import first_keyframe, keyframe_before
from reelhouse.sources.local import LocalSource
from reelhouse.sources.reader import SourceReader

pytestmark = pytest.mark.requires_ffmpeg


@pytest.fixture(scope="module")
def gop10(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """36 s of 25 fps H.264 + AAC in MPEG-TS, keyframes at 0, 10, 20, 30 s (the TS
    clock starts at 1.4 s: 1.421, 11.421, …)."""
    out = tmp_path_factory.mktemp("kf") / "gop.ts"
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=96x54:rate=25:duration=36", "-f", "lavfi", "-i",
                    "sine=duration=36", "-c:v", "libx264", "-preset", "ultrafast", "-g", "250",
                    "-keyint_min", "250", "-sc_threshold", "0", "-c:a", "aac", "-shortest",
                    str(out)], check=True, timeout=120)
    return out


def _reader(path: Path, budget: int | None = None) -> SourceReader:
    return SourceReader(LocalSource(path.parent), path.name, path.stat().st_size, budget=budget)


@pytest.mark.parametrize(("at", "want"), [(13.4, 11.42), (11.43, 11.42), (21.4, 11.42),
                                          (29.0, 21.42), (37.0, 31.42), (5.0, 1.42)])
def test_finds_the_keyframe_before(gop10: Path, at: float, want: float) -> None:
    found = keyframe_before(_reader(gop10), at)
    assert found == pytest.approx(want, abs=0.01)


def test_a_gop_longer_than_the_windows_is_not_found(gop10: Path) -> None:
    assert keyframe_before(_reader(gop10), 21.0, windows=(2.0, 5.0)) is None


def test_over_budget_or_not_media_is_none(gop10: Path, tmp_path: Path) -> None:
    assert keyframe_before(_reader(gop10, budget=64 * 1024), 29.0) is None
    junk = tmp_path / "junk.ts"
    junk.write_bytes(b"\x00" * 10_000)
    assert keyframe_before(_reader(junk), 3.0) is None


def test_first_keyframe_of_a_recording_cut_mid_gop(gop10: Path, tmp_path: Path) -> None:
    data = gop10.read_bytes()
    cut = tmp_path / "cut.ts"
    cut.write_bytes(data[len(data) // 5 // 188 * 188:])  # from ~7 s: next keyframe at 10 s
    with av.open(str(cut)) as c:
        assert first_keyframe(c, c.streams.video[0]) == pytest.approx(11.42, abs=0.01)
    with av.open(str(gop10)) as c:
        assert first_keyframe(c, c.streams.video[0]) == pytest.approx(1.42, abs=0.01)
