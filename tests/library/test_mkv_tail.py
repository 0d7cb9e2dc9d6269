"""A Matroska recording without a ``Duration`` element (OBS, a DVB recorder, ``ffmpeg -f
matroska`` to a pipe: the muxer cannot seek back to write it) gets its duration from
the last cluster in the file's tail (library/mkv_tail.py), read by one range read near
the end and counted against the probe's budget. Before, the probe reported no duration:
HLS refused the file (422), the player had no seek bar, Jellyfin no RunTimeTicks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reelhouse.library.mkv_tail import CLUSTER_ID, last_timestamp
from reelhouse.library.probe import probe
from reelhouse.sources.ftp import FtpSource
from reelhouse.sources.memory import MemorySource

from helpers import local_or_ftp

pytestmark = pytest.mark.requires_ffmpeg


def piped(out: Path, seconds: int, fmt: str = "matroska", noise: bool = False) -> Path:
    """A ``seconds`` long H.264/AAC recording written by ffmpeg to a pipe (so it cannot
    seek back to write a duration), as ``out``; ``noise`` makes it ~1 MB/s."""
    out.parent.mkdir(parents=True, exist_ok=True)
    args = ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=duration={seconds}",
            *(["-vf", "noise=alls=40:allf=t"] if noise else []),
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", fmt, "pipe:1"]
    done = subprocess.run(args, stdout=subprocess.PIPE, check=True, timeout=120)
    out.write_bytes(done.stdout)
    return out


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("live")
    return {"short": piped(root / "short.mkv", 8), "long": piped(root / "long.mkv", 12, noise=True),
            "ts": piped(root / "rec.ts", 8, fmt="mpegts")}


def test_ffmpeg_to_a_pipe_writes_no_duration(recordings: dict[str, Path]) -> None:
    """The premise: FFmpeg itself finds no duration in these files."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                          str(recordings["short"])], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "N/A"


@pytest.mark.parametrize("kind", ["local", "ftp"])
def test_a_recording_without_duration_gets_it_from_its_last_cluster(
        kind: str, request: pytest.FixtureRequest, tmp_path: Path, recordings: dict[str, Path]) -> None:
    root, src = local_or_ftp(kind, request, tmp_path)
    try:
        for name, seconds in (("short", 8), ("long", 12)):
            data = recordings[name].read_bytes()
            (root / f"{name}.mkv").write_bytes(data)
            r = probe(src, f"{name}.mkv", len(data))
            assert r.container == "mkv"
            assert r.duration == pytest.approx(seconds, abs=0.2), name
            assert r.bitrate is not None and r.bitrate > 0
        # the long one (~12 MB) is not read whole: its head and one read of its tail
        assert r.bytes_read < len(data) / 4, (r.bytes_read, len(data))
        if isinstance(src, FtpSource):
            assert src.pool.stats["in_use"] == 0
    finally:
        src.close()


def test_the_tail_read_stays_within_the_probe_budget(recordings: dict[str, Path]) -> None:
    data = recordings["long"].read_bytes()
    src = MemorySource({"f.mkv": data})
    head = probe(src, "f.mkv", len(data), budget=len(data))
    tight = probe(src, "f.mkv", len(data), budget=head.bytes_read - 200_000)  # less than a cluster's tail
    assert tight.bytes_read <= head.bytes_read - 200_000
    assert tight.duration is None or tight.duration == pytest.approx(12, abs=0.2)
    assert tight.video_codec == "h264"  # the probe itself did not fail


def test_an_mpegts_recording_without_duration_has_one(recordings: dict[str, Path]) -> None:
    """FFmpeg reads an MPEG-TS file's last PTS itself (through the same budgeted reader)."""
    data = recordings["ts"].read_bytes()
    r = probe(MemorySource({"rec.ts": data}), "rec.ts", len(data))
    assert r.duration == pytest.approx(8, abs=0.3)


def test_a_recording_cut_off_mid_cluster_counts_what_arrived(recordings: dict[str, Path]) -> None:
    data = recordings["long"].read_bytes()
    cut = data[: len(data) * 2 // 3 + 12345]  # the recorder died mid-write
    r = probe(MemorySource({"f.mkv": cut}), "f.mkv", len(cut))
    assert r.duration is not None and 6 < r.duration < 10


def _cluster(timestamp: int, *blocks: int) -> bytes:
    """A Cluster with its Timestamp (2 bytes) and SimpleBlocks of track 1 at ``blocks``
    (relative, signed 16-bit), each with 4 bytes of payload."""
    body = b"\xe7\x82" + timestamp.to_bytes(2, "big")
    for rel in blocks:
        block = b"\x81" + rel.to_bytes(2, "big", signed=True) + b"\x80" + b"\x00" * 4
        body += b"\xa3" + bytes([0x80 | len(block)]) + block
    return CLUSTER_ID + bytes([0x80 | len(body)]) + body


def test_last_timestamp_table() -> None:
    assert last_timestamp(b"") is None
    assert last_timestamp(b"\x00" * 1000) is None
    assert last_timestamp(_cluster(5000, 0, 40, 20)) == 5040  # B-frames: the latest, not the last
    assert last_timestamp(_cluster(1000, 0) + _cluster(2000, 0, 33)) == 2033
    # the Cluster ID inside a block's data is not a cluster: no Timestamp follows it
    fake = CLUSTER_ID + b"\x85\x00\x00\x00\x00\x00"
    assert last_timestamp(_cluster(3000, 0, 10) + b"\xa3\x8a\x81\x00\x00\x80" + fake[:6]) == 3010
    # a block cut off after its header still counts
    assert last_timestamp(_cluster(7000, 0) + CLUSTER_ID + b"\x90\xe7\x82\x1f\x40\xa3\x8c\x81\x00\x64") == 8100
    # a negative relative timestamp before a cluster at 0 is not a time
    assert last_timestamp(_cluster(0, -5)) is None
