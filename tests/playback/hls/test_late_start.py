"""A recording whose clock starts late (Matroska kept its broadcast timestamps: the film
begins 10 hours in). Matroska's Segment Duration and per-track DURATION tags are end
times on the segment's timeline, which starts at 0; read as lengths, an 8-second film
lasted 10 hours: the library showed 10:00:08, the HLS playlists listed 9,002 segments of
which two hold media (every other one an ffmpeg run that finds nothing)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reelhouse.library.probe import probe
from reelhouse.playback.hls.facts import probe_streams
from reelhouse.sources.local import LocalSource

pytestmark = pytest.mark.requires_ffmpeg


@pytest.fixture(scope="module")
def late(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("late") / "Late.2002.mkv"
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=160x90:rate=24:duration=8", "-f", "lavfi", "-i",
                    "sine=sample_rate=48000:duration=8", "-c:v", "libx264", "-preset", "ultrafast",
                    "-c:a", "aac", "-output_ts_offset", "36000", str(out)], check=True, timeout=120)
    return out


def test_the_hls_timeline_is_the_films(late: Path) -> None:
    streams = probe_streams(LocalSource(late.parent), late.name, late.stat().st_size, 50_000_000)
    assert streams.start_time == pytest.approx(36000, abs=0.1)
    assert streams.duration == pytest.approx(8.0, abs=0.1)


def test_the_library_duration_is_the_films(late: Path) -> None:
    result = probe(LocalSource(late.parent), late.name, late.stat().st_size)
    assert result.duration == pytest.approx(8.0, abs=0.1)
