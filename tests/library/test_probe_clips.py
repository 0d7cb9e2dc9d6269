"""Deep probing of real clips (made with ffmpeg at test time, reelhouse/demo/
probe_clips.py): recorded results, bytes read over FTP against the 2 MiB goal, damaged
and non-media files, the byte budget, and the scanner storing streams.

Recorded results live in tests/library/probe_records/<clip>.json (the probe result
minus what varies from run to run: bytes read, bitrate, exact duration). Regenerate
them with ``REELHOUSE_RECORD=1 pytest tests/library/test_probe_clips.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, MediaStream
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import ProbeFailed
from reelhouse.library.probe import ProbeResult, probe
from reelhouse.library.scanner import scan_source
from reelhouse.sources.ftp import FtpConfig, FtpSource
from reelhouse.sources.local import LocalSource
from reelhouse.sources.memory import MemorySource
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER

pytestmark = pytest.mark.requires_ffmpeg

RECORDS = Path(__file__).with_name("probe_records")
RECORD = os.environ.get("REELHOUSE_RECORD", "") not in ("", "0")
GOAL = 2 * 1024 * 1024  # bytes per probe (issue 4)
MEDIA = ("moov_at_end.mp4", "two_audio_subs.mkv", "hevc_hdr10.mkv")
DAMAGED = {"truncated.mkv": "damaged: the file is truncated",
           "not_media.mkv": "not a readable media file"}


def record_of(result: ProbeResult | ProbeFailed) -> dict[str, Any]:
    """What a recorded probe result keeps: no bytes read, bitrate or exact duration."""
    if isinstance(result, ProbeFailed):
        return {"error": result.message.split(" (")[0]}
    return {
        "container": result.container,
        "duration": round(result.duration, 1) if result.duration is not None else None,
        "video_codec": result.video_codec,
        "audio_codec": result.audio_codec,
        "width": result.width,
        "height": result.height,
        "streams": [asdict(s) for s in result.streams],
    }


def probe_or_error(src: LocalSource | FtpSource, name: str, size: int) -> ProbeResult | ProbeFailed:
    try:
        return probe(src, name, size)
    except ProbeFailed as exc:
        return exc


@pytest.mark.parametrize("name", [*MEDIA, *DAMAGED])
def test_recorded_probe_results(name: str, probe_clips: dict[str, Path]) -> None:
    clip = probe_clips[name]
    got = record_of(probe_or_error(LocalSource(clip.parent), name, clip.stat().st_size))
    path = RECORDS / f"{name}.json"
    if RECORD:
        RECORDS.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert got == json.loads(path.read_text(encoding="utf-8")), f"regenerate with REELHOUSE_RECORD=1: {name}"


def test_records_say_what_the_issue_asks(probe_clips: dict[str, Path]) -> None:
    """The recordings themselves hold the facts the clips were made to show."""
    mp4 = json.loads((RECORDS / "moov_at_end.mp4.json").read_text())
    assert mp4["container"] == "mp4" and [s["type"] for s in mp4["streams"]] == ["video", "audio"]
    mkv = json.loads((RECORDS / "two_audio_subs.mkv.json").read_text())
    audio = [s for s in mkv["streams"] if s["type"] == "audio"]
    assert [(a["language"], a["title"], a["channels"], a["is_default"]) for a in audio] == [
        ("eng", "English 5.1", 6, True), ("ger", "Deutsch Stereo", 2, False)]
    (sub,) = [s for s in mkv["streams"] if s["type"] == "subtitle"]
    assert (sub["codec"], sub["subtitle_format"], sub["language"], sub["is_forced"]) == (
        "subrip", "text", "eng", True)
    (video,) = json.loads((RECORDS / "hevc_hdr10.mkv.json").read_text())["streams"]
    assert (video["codec"], video["profile"], video["bit_depth"], video["pixel_format"]) == (
        "hevc", "Main 10", 10, "yuv420p10le")
    assert (video["color_primaries"], video["color_transfer"], video["hdr"]) == (
        "bt2020", "smpte2084", "HDR10")


@pytest.fixture
def ftp(ftp_server: EmbeddedFtpServer, ftp_root: Path,
        probe_clips: dict[str, Path]) -> Iterator[FtpSource]:
    for name, clip in probe_clips.items():
        shutil.copyfile(clip, ftp_root / name)
    src = FtpSource(FtpConfig("127.0.0.1", ftp_server.port, FTP_USER, FTP_PASSWORD, pool_size=2))
    yield src
    src.close()


def test_bytes_read_over_ftp_stay_under_the_goal(ftp: FtpSource, probe_clips: dict[str, Path]) -> None:
    for name in MEDIA:
        size = probe_clips[name].stat().st_size
        result = probe(ftp, name, size)
        assert result.bytes_read <= GOAL, (name, result.bytes_read)
        assert result.range_reads <= 4, (name, result.range_reads)
        assert record_of(result) == json.loads((RECORDS / f"{name}.json").read_text())
    # the big clips are bigger than the goal, so the goal means something, and the
    # moov-at-end MP4 and the MKV are read at a small fraction of their size
    for name in ("moov_at_end.mp4", "two_audio_subs.mkv"):
        size = probe_clips[name].stat().st_size
        assert size > GOAL
        assert probe(ftp, name, size).bytes_read < size / 8
    assert ftp.pool.stats["in_use"] == 0


def test_damaged_and_non_media_over_ftp(ftp: FtpSource, probe_clips: dict[str, Path]) -> None:
    for name, message in DAMAGED.items():
        with pytest.raises(ProbeFailed, match=message):
            probe(ftp, name, probe_clips[name].stat().st_size)
    assert ftp.pool.stats["in_use"] == 0


def test_budget_stops_the_probe_over_ftp(ftp: FtpSource, probe_clips: dict[str, Path]) -> None:
    size = probe_clips["two_audio_subs.mkv"].stat().st_size
    needed = probe(ftp, "two_audio_subs.mkv", size).bytes_read
    with pytest.raises(ProbeFailed, match=f"exceed the budget of {needed - 1} bytes"):
        probe(ftp, "two_audio_subs.mkv", size, budget=needed - 1)
    assert ftp.pool.stats["in_use"] == 0


# -- the scanner stores what the probe found ---------------------------------------------
LAYOUT = {
    "Films/Clip (2020)/Clip.2020.mp4": "moov_at_end.mp4",
    "Films/Tracks (2021)/Tracks.2021.mkv": "two_audio_subs.mkv",
    "Films/Bright (2022)/Bright.2022.2160p.HDR.mkv": "hevc_hdr10.mkv",
    "Films/Broken (2019)/Broken.2019.mkv": "truncated.mkv",
    "Films/Notes (2018)/Notes.2018.mkv": "not_media.mkv",
}


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[Core]:
    core = Core(load_settings(data_dir=tmp_path / "data"))
    yield core
    core.close()


def rows(core: Core) -> dict[str, tuple[MediaFile, list[MediaStream]]]:
    with core.sessions() as s:
        files = s.scalars(select(MediaFile)).all()
        return {f.path: (f, list(f.streams)) for f in files}


def test_scan_stores_streams_and_damage(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                        lib: Core, probe_clips: dict[str, Path]) -> None:
    for rel, name in LAYOUT.items():
        (ftp_root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(probe_clips[name], ftp_root / rel)
    sid = lib.sources.create(SourceSpec(name="ftp", kind="ftp", host="127.0.0.1",
                                        port=ftp_server.port, username=FTP_USER,
                                        password=FTP_PASSWORD)).id
    src = lib.sources.source(sid)
    report = scan_source(lib.sessions, sid, src, probe_budget=GOAL)
    assert (report.files_seen, report.probed, len(report.errors)) == (5, 3, 2)
    got = rows(lib)
    for rel, name in LAYOUT.items():
        mf, streams = got[rel]
        if name in DAMAGED:
            assert mf.probe_error is not None and mf.probe_error.startswith(DAMAGED[name])
            assert streams == [] and mf.probe_bytes is None and mf.container == "mkv"
            continue
        want = json.loads((RECORDS / f"{name}.json").read_text())
        assert mf.probe_error is None
        assert 0 < (mf.probe_bytes or 0) <= GOAL
        assert [{c: getattr(r, c) for c in want["streams"][0]} for r in streams] == want["streams"]
        assert (mf.video_codec, mf.audio_codec, mf.width, mf.height) == (
            want["video_codec"], want["audio_codec"], want["width"], want["height"])

    # the file changes: a re-probe replaces its streams as a whole
    tracks = ftp_root / "Films/Tracks (2021)/Tracks.2021.mkv"
    shutil.copyfile(probe_clips["hevc_hdr10.mkv"], tracks)
    os.utime(tracks, (1_600_000_000, 1_600_000_000))
    report = scan_source(lib.sessions, sid, src, probe_budget=GOAL)
    assert report.updated == 1 and report.probed == 1
    mf, streams = rows(lib)["Films/Tracks (2021)/Tracks.2021.mkv"]
    assert [(r.index, r.type, r.codec, r.hdr) for r in streams] == [(0, "video", "hevc", "HDR10")]
    assert mf.audio_codec is None
    with lib.sessions() as s:
        assert len(s.scalars(select(MediaStream)).all()) == 2 + 1 + 1  # mp4, hdr, new hdr
    src.close()


def test_scan_over_budget_is_recorded_and_goes_on(tmp_path: Path, lib: Core,
                                                  probe_clips: dict[str, Path]) -> None:
    root = tmp_path / "disk"
    for rel, name in LAYOUT.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(probe_clips[name], root / rel)
    sid = lib.sources.create(SourceSpec(name="disk", kind="local", path=str(root))).id
    needed = probe(LocalSource(probe_clips["hevc_hdr10.mkv"].parent), "hevc_hdr10.mkv",
                   probe_clips["hevc_hdr10.mkv"].stat().st_size).bytes_read
    report = scan_source(lib.sessions, sid, LocalSource(root), probe_budget=needed)
    got = rows(lib)
    assert got["Films/Bright (2022)/Bright.2022.2160p.HDR.mkv"][0].probe_error is None
    over = {p for p, (mf, _) in got.items() if mf.probe_error and "budget" in mf.probe_error}
    assert over == {"Films/Clip (2020)/Clip.2020.mp4", "Films/Tracks (2021)/Tracks.2021.mkv",
                    "Films/Broken (2019)/Broken.2019.mkv"}  # the truncation check comes later
    assert got["Films/Notes (2018)/Notes.2018.mkv"][0].probe_error is not None
    assert (report.files_seen, report.probed, len(report.errors)) == (5, 1, 4)


@pytest.fixture(scope="module")
def extras(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MKV with an ASS track and a font attachment, an MP4 with cover art
    (attached_pic) and mov_text subtitles (streams PyAV describes only in part), and a
    one-second AV1 clip."""
    from reelhouse.demo.media import ffmpeg_exe

    folder = tmp_path_factory.mktemp("probe_extras")
    (folder / "font.ttf").write_bytes(b"not really a font")
    (folder / "subs.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nHi\n", encoding="utf-8")
    ff = [ffmpeg_exe(), "-nostdin", "-v", "error", "-y"]
    src = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=24:duration=1", "-f", "lavfi",
           "-i", "sine=sample_rate=48000:duration=1", "-i", str(folder / "subs.srt")]
    subprocess.run([*ff, "-f", "lavfi", "-i", "color=red:size=64x64", "-frames:v", "1",
                    str(folder / "cover.png")], check=True, timeout=60)
    subprocess.run([*ff, *src, "-map", "0:v", "-map", "1:a", "-map", "2:s",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-c:s", "ass",
                    "-attach", str(folder / "font.ttf"), "-metadata:s:t", "mimetype=font/ttf",
                    str(folder / "fonts.mkv")], check=True, timeout=60)
    subprocess.run([*ff, *src, "-i", str(folder / "cover.png"),
                    "-map", "0:v", "-map", "1:a", "-map", "2:s", "-map", "3:v",
                    "-c:v:0", "libx264", "-preset", "ultrafast", "-c:v:1", "png",
                    "-disposition:v:1", "attached_pic", "-c:a", "aac", "-c:s", "mov_text",
                    str(folder / "cover.mp4")], check=True, timeout=60)
    subprocess.run([*ff, "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=24:duration=1",
                    "-c:v", "libaom-av1", "-cpu-used", "8", "-b:v", "100k",
                    str(folder / "av1.mkv")], check=True, timeout=120)
    return folder


def test_codec_names_are_canonical(extras: Path) -> None:
    """PyAV decodes AV1 with libdav1d; the file's codec is still ``av1``."""
    result = probe(LocalSource(extras), "av1.mkv", (extras / "av1.mkv").stat().st_size)
    assert result.video_codec == "av1" and [s.codec for s in result.streams] == ["av1"]


def test_attachments_and_cover_art(extras: Path) -> None:
    src = LocalSource(extras)
    fonts = probe(src, "fonts.mkv", (extras / "fonts.mkv").stat().st_size)
    assert [(s.type, s.codec, s.subtitle_format, s.title) for s in fonts.streams] == [
        ("video", "h264", None, None), ("audio", "aac", None, None),
        ("subtitle", "ass", "text", None), ("attachment", None, None, "font.ttf")]
    cover = probe(src, "cover.mp4", (extras / "cover.mp4").stat().st_size)
    assert [(s.type, s.codec, s.subtitle_format) for s in cover.streams] == [
        ("video", "h264", None), ("audio", "aac", None), ("subtitle", "mov_text", "text"),
        ("attachment", "png", None)]
    assert (cover.video_codec, cover.width, cover.height) == ("h264", 160, 120)  # not the cover


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(clip=st.sampled_from(["moov_at_end.mp4", "two_audio_subs.mkv", "hevc_hdr10.mkv"]),
       flips=st.lists(st.tuples(st.integers(0, 8191), st.integers(1, 255)), min_size=1, max_size=8),
       tail=st.booleans())
def test_garbled_headers_fail_cleanly(probe_clips: dict[str, Path], clip: str,
                                      flips: list[tuple[int, int]], tail: bool) -> None:
    """Bytes flipped in the header (the head, or the tail where a moov-at-end lives):
    the probe returns or raises ProbeFailed — nothing else, no hang."""
    data = bytearray(probe_clips[clip].read_bytes())
    for pos, xor in flips:
        i = len(data) - 1 - pos if tail else pos
        data[i] ^= xor
    try:
        probe(MemorySource({clip: bytes(data)}), clip, len(data), budget=GOAL)
    except ProbeFailed:
        pass


def test_dolby_vision_configuration_is_found_in_the_header(probe_clips: dict[str, Path]) -> None:
    """FFmpeg keeps a DV configuration record in stream side data that PyAV does not
    expose, so the probe looks for the ``dvcC`` box in the bytes it read. Here a
    top-level box holding one is appended after the moov of a real clip (the plumbing:
    bytes read → facts → the video stream's HDR kind); without it the clip is SDR."""
    data = probe_clips["moov_at_end.mp4"].read_bytes()
    dvcc = b"\x00\x00\x00\x18dvcC" + bytes([1, 0, 0x10, 0x35]) + bytes(12)
    tagged = data + (8 + len(dvcc)).to_bytes(4, "big") + b"free" + dvcc
    plain = probe(MemorySource({"f.mp4": data}), "f.mp4", len(data))
    dv = probe(MemorySource({"f.mp4": tagged}), "f.mp4", len(tagged))
    assert [s.hdr for s in plain.streams] == [None, None]
    assert [s.hdr for s in dv.streams] == ["Dolby Vision", None]


def test_files_probed_before_streams_existed_are_probed_once_more(
        tmp_path: Path, lib: Core, probe_clips: dict[str, Path]) -> None:
    root = tmp_path / "disk"
    rel = "Films/Tracks (2021)/Tracks.2021.mkv"
    (root / rel).parent.mkdir(parents=True)
    shutil.copyfile(probe_clips["two_audio_subs.mkv"], root / rel)
    sid = lib.sources.create(SourceSpec(name="disk", kind="local", path=str(root))).id
    src = LocalSource(root)
    scan_source(lib.sessions, sid, src)
    with lib.sessions() as s:  # as a scan before migration 0003 left it
        mf = s.scalars(select(MediaFile)).one()
        mf.streams.clear()
        mf.probe_bytes = None
        s.commit()
    report = scan_source(lib.sessions, sid, src)
    assert (report.probed, report.unchanged) == (1, 0)
    mf, streams = rows(lib)[rel]
    assert len(streams) == 4 and mf.probe_bytes
    report = scan_source(lib.sessions, sid, src)
    assert (report.probed, report.unchanged) == (0, 1)  # and then never again
