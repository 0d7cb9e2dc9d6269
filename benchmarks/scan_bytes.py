"""What a scan reads of each new file over FTP: the bytes the FTP server sends (on the
wire) while reelhouse probes and fingerprints one new file, as a share of the file for
small files and beyond the container's index for large ones; next to the same work
done the previous way (probe and fingerprint each reading for themselves, a 64 KiB
range read asking a 64 KiB receive buffer that Linux doubles), ffprobe over ftp://
(the peer) and the whole file (the limit: a download).

    .venv/bin/python benchmarks/scan_bytes.py [--samples 3] [--small-seconds 15] [--large-seconds 90]

Goals (issue 15): a small file (a 15 s 720p clip, ~8 MB) costs < 5% of its size; a
large one (90 s of 720p at 8 Mb/s, ~90 MB) ≤ 1 MiB beyond its index (the MP4 ``moov``
box; the Matroska ``SeekHead``, ``Info``, ``Tracks``, ``Cues`` …: every top-level element
of the Segment but the clusters). Clips: MP4 with the moov first and last, MKV (cues at
the end). The server is probe_bytes.py's (its own process, 16 KiB send buffer, counting
what it sends on data connections). Figures are the worst of ``--samples`` runs. Prints
one JSON object on stdout; progress goes to stderr; exit status 1 if a goal is missed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _setup import FTP_PASSWORD, FTP_USER, emit, kill_groups, log, read_ready, spawn  # noqa: E402
from probe_bytes import Counter  # noqa: E402

SMALL_GOAL = 0.05  # of the file
LARGE_GOAL = 1024 * 1024  # bytes beyond the index


def _clip(path: Path, seconds: int, rate: str, moov_first: bool) -> Path:
    from reelhouse.demo.media import ffmpeg_exe

    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=24",
           "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", str(seconds),
           "-c:v", "libx264", "-preset", "ultrafast", "-b:v", rate, "-g", "48", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "128k"]
    if path.suffix == ".mp4":
        cmd += ["-movflags", "+faststart" if moov_first else "-faststart"]
    subprocess.run([*cmd, str(path)], check=True, timeout=900)
    return path


def _vint(data: bytes, pos: int, keep_marker: bool) -> tuple[int, int]:
    first = data[pos]
    length = 8 - first.bit_length() + 1
    value = first if keep_marker else first & (0xFF >> length)
    for b in data[pos + 1 : pos + length]:
        value = (value << 8) | b
    return value, length


def index_bytes(path: Path) -> int:
    """The container's index: the MP4 ``moov`` box, or every top-level element of the
    Matroska Segment but the clusters (ISO/IEC 14496-12 §4.2; RFC 9559)."""
    data = path.read_bytes()
    if path.suffix == ".mp4":
        pos = 0
        while pos + 8 <= len(data):
            size = int.from_bytes(data[pos : pos + 4], "big")
            if data[pos + 4 : pos + 8] == b"moov":
                return size
            pos += size
        return 0
    _, n = _vint(data, 0, True)
    size, m = _vint(data, n, False)
    pos = n + m + size  # after the EBML header: the Segment
    _, n = _vint(data, pos, True)
    _, m = _vint(data, pos + n, False)
    pos += n + m
    total = 0
    while pos < len(data):
        element, n = _vint(data, pos, True)
        size, m = _vint(data, pos + n, False)
        if element != 0x1F43B675:  # Cluster
            total += n + m + size
        pos += n + m + size
    return total


def _scan_once(port: int, name: str, size: int, shared: bool) -> None:
    """Probe and fingerprint ``name`` as a scan of a new file does: with one shared
    reader (now), or each on its own with the old receive buffer (before)."""
    import reelhouse.sources.ftp.reads as ftp_source
    from reelhouse.errors import ProbeFailed
    from reelhouse.library.fingerprint import content_hash
    from reelhouse.library.probe import PROBE_SLOW_START, probe
    from reelhouse.sources.ftp import FtpConfig, FtpSource
    from reelhouse.sources.reader import SourceReader

    src = FtpSource(FtpConfig("127.0.0.1", port, FTP_USER, FTP_PASSWORD, pool_size=1))
    saved = ftp_source._cap_receive_window
    if not shared:
        def old_cap(sock: Any, length: int) -> None:
            if length <= ftp_source.SHORT_READ:
                sock.setsockopt(ftp_source.socket.SOL_SOCKET, ftp_source.socket.SO_RCVBUF, max(64 * 1024, length))
        ftp_source._cap_receive_window = old_cap
    try:
        reader = SourceReader(src, name, size, slow_start=PROBE_SLOW_START) if shared else None
        try:
            # before: the probe's own reader, doubling its read-ahead from the start
            probe(src, name, size, reader=reader or SourceReader(src, name, size))
        except ProbeFailed as exc:
            log("probe failed:", exc.message)
        content_hash(src, name, size, reader=reader)
    finally:
        ftp_source._cap_receive_window = saved
        src.close()


def measure(name: str, path: Path, port: int, counter: Counter, samples: int) -> dict[str, Any]:
    size = path.stat().st_size
    row: dict[str, Any] = {"clip": name, "size_bytes": size, "index_bytes": index_bytes(path)}
    for mode, shared in (("reelhouse", True), ("before", False)):
        wire, times = [], []
        for _ in range(samples):
            before = counter.settled()
            t0 = time.perf_counter()
            _scan_once(port, name, size, shared)
            times.append(time.perf_counter() - t0)
            wire.append(counter.settled() - before)
        row[mode] = {"server_bytes_sent": max(wire), "ms": round(min(times) * 1000, 1)}
    url = f"ftp://{FTP_USER}:{FTP_PASSWORD}@127.0.0.1:{port}/{name}"
    wire = []
    for _ in range(samples):
        before = counter.settled()
        subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", url],
                       capture_output=True, timeout=120)
        wire.append(counter.settled() - before)
    row["ffprobe"] = {"server_bytes_sent": max(wire)}
    sent = row["reelhouse"]["server_bytes_sent"]
    row["share_of_file"] = round(sent / size, 4)
    row["beyond_index_bytes"] = sent - row["index_bytes"]
    return row


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--samples", type=int, default=3)
    p.add_argument("--small-seconds", type=int, default=15)
    p.add_argument("--large-seconds", type=int, default=90)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="reelhouse-scan-bytes-") as tmp:
        root = Path(tmp) / "ftp"
        root.mkdir()
        clips: dict[str, tuple[Path, str]] = {}
        for kind, seconds, rate in (("small", args.small_seconds, "4M"), ("large", args.large_seconds, "8M")):
            for label, ext, first in (("moov_first", "mp4", True), ("moov_last", "mp4", False),
                                      ("cues_last", "mkv", False)):
                name = f"{kind}_{seconds}s_{label}.{ext}"
                log("making", name)
                clips[name] = (_clip(root / name, seconds, rate, first), kind)
        counter_file = Path(tmp) / "sent"
        server = spawn([sys.executable, str(HERE / "probe_bytes.py"), "ftpd", str(root), str(counter_file)])
        try:
            port = int(read_ready(server, "ftpd", 20)["port"])
            counter = Counter(counter_file)
            rows = []
            for name, (path, kind) in clips.items():
                log("measuring", name)
                row = measure(name, path, port, counter, args.samples)
                row["kind"] = kind
                row["within_goal"] = (row["share_of_file"] < SMALL_GOAL if kind == "small"
                                      else row["beyond_index_bytes"] <= LARGE_GOAL)
                rows.append(row)
        finally:
            kill_groups([server])
    emit({
        "benchmark": "scan_bytes",
        "load_average_1m": round(os.getloadavg()[0], 2),
        "goals": {"small_share_of_file": SMALL_GOAL, "large_bytes_beyond_index": LARGE_GOAL},
        "samples": args.samples,
        "clips": rows,
        "all_within_goal": all(r["within_goal"] for r in rows),
    })
    return 0 if all(r["within_goal"] for r in rows) else 1


if __name__ == "__main__":
    os.environ.setdefault("REELHOUSE_LOG_LEVEL", "WARNING")
    sys.exit(main())
