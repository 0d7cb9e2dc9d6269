"""No HLS segment is ever answered 200 with no bytes: an MPEG-TS recording with a
keyframe only every 10 s (no keyframe index: ffmpeg's seek lands on a packet, and the
decoder starts at the next keyframe), entered near its end as a seek does — an encoder
started after the last keyframe decoded nothing and ffmpeg wrote a 0-byte segment with
exit status 0, until encoders decoded from the keyframe before their first segment
(test_long_gop.py) — and a truncated recording. Each segment is a non-empty MPEG-TS, or a 404
(hls.js does not retry it); never an empty 200, and an empty answer is never cached."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from api.odd_files import CHROMIUM_CAPS, NEEDS_FFMPEG
from fastapi.testclient import TestClient
from hls_clips import hls_track, segment_duration

from reelhouse.core import Core

from helpers import scanned_local

pytestmark = NEEDS_FFMPEG

GOP10 = "Films/Sparse (2010)/Sparse.2010.ts"
CUT = "Films/Cut (2011)/Cut.2011.ts"


def _make_ts(out: Path, seconds: int) -> None:
    """H.264 + AAC in MPEG-TS, 25 fps, a keyframe every 250 frames (10 s) only."""
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i",
                    f"testsrc2=size=160x90:rate=25:duration={seconds}", "-f", "lavfi", "-i",
                    f"sine=frequency=440:sample_rate=48000:duration={seconds}",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "250", "-keyint_min", "250",
                    "-sc_threshold", "0", "-c:a", "aac", "-shortest", str(out)],
                   check=True, timeout=120)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Core, TestClient, dict[str, int]]]:
    root = tmp_path_factory.mktemp("sparse-media")
    _make_ts(root / GOP10, 36)  # keyframes at 0, 10, 20, 30 s: segment 8 (32-36 s) has none
    _make_ts(root / CUT, 32)
    data = (root / CUT).read_bytes()
    (root / CUT).write_bytes(data[: len(data) * 2 // 5 // 188 * 188])  # 40 %, whole TS packets
    with scanned_local(tmp_path_factory.mktemp("sparse-data"), root, hls_preset="ultrafast",
                       hls_segment_seconds=4) as (core, client, by_path):
        yield core, client, {"gop10": by_path[GOP10], "cut": by_path[CUT]}


def _segments(client: TestClient, file_id: int, track: str) -> tuple[str, list[str]]:
    base, lines = hls_track(client, file_id, CHROMIUM_CAPS, track)
    return base, [ln for ln in lines if ln and not ln.startswith("#")]


def _fetch(client: TestClient, url: str) -> tuple[int, bytes]:
    r = client.get(url)
    assert r.status_code in (200, 404), (url, r.status_code, r.text)
    assert r.status_code == 404 or r.content, (url, "an empty 200")
    return r.status_code, r.content


@pytest.mark.parametrize("track", ["90p", "audio0"])
def test_seeking_into_a_sparse_keyframe_ts_never_gives_an_empty_segment(
        world: tuple[Core, TestClient, dict[str, int]], track: str, tmp_path: Path) -> None:
    core, client, ids = world
    base, segs = _segments(client, ids["gop10"], track)
    assert len(segs) == 9
    answers = {}
    for seg in [segs[-1], *segs[4:-1], *segs[:4]]:  # a seek to the end first
        status, data = _fetch(client, base + seg)
        answers[seg] = status
        assert status == 404 or segment_duration(data, tmp_path) > 0, (track, seg)
    # every segment plays: an encoder started in the last GOP decodes from its keyframe
    assert all(answers[seg] == 200 for seg in segs), answers
    empty = [p for p in (core.settings.data_dir / "hls").rglob("*.ts") if p.stat().st_size == 0]
    assert not empty


@pytest.mark.parametrize("track", ["90p", "audio0"])
def test_truncated_ts_answers_404_past_its_data_and_caches_nothing_empty(
        world: tuple[Core, TestClient, dict[str, int]], track: str, tmp_path: Path) -> None:
    core, client, ids = world
    base, segs = _segments(client, ids["cut"], track)
    answers = [_fetch(client, base + seg) for seg in segs]
    assert answers[0][0] == 200 and segment_duration(answers[0][1], tmp_path) > 0
    again = [_fetch(client, base + seg)[0] for seg in segs]
    assert again == [status for status, _ in answers]
    empty = [p for p in (core.settings.data_dir / "hls").rglob("*.ts") if p.stat().st_size == 0]
    assert not empty
