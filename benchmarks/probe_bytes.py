"""Probe cost over FTP: bytes and time per probe of each test clip, for reelhouse's
probe (PyAV through SourceReader) and for ffprobe reading the same file over ftp://
(the peer), next to the file's size and the time to download it whole (the limit a
naive prober would pay). Goal (issue 4): at most 2 MiB read per file.

    .venv/bin/python benchmarks/probe_bytes.py [--samples 5] [--long-seconds 40]

The clips are those of the tests (reelhouse/demo/probe_clips.py) plus two long ones
(``--long-seconds`` of 1280x720 at 8 Mb/s: a moov-at-end MP4 and an MKV with cues at
the end) to show that the cost does not grow with the file. The FTP server
(pyftpdlib, loopback) runs in its own process and counts the bytes it sends on data
connections (``server_bytes_sent``), with a 16 KiB send buffer so that what it counts
has left the machine: that is the wire cost of both probers, including what a client
receives after the bytes it wanted and before its hang-up reaches the server. reelhouse
also reports what its reader consumed (``bytes_read``) and its range reads. Times are medians of
``--samples`` runs, each with a fresh connection (reelhouse: a new FtpSource; ffprobe:
a new process). Prints one JSON object on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import ftplib
import json
import os
import shutil
import signal
import socket
import statistics
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

GOAL = 2 * 1024 * 1024
SNDBUF = 16 * 1024  # the server's data-socket send buffer (Linux doubles it: 32 KiB)


def _ftpd_main(root: str, counter: str) -> None:
    """Child: a pyftpdlib server on ``root`` that writes the total bytes sent on data
    connections to the file ``counter`` after each transfer."""
    import logging

    from pyftpdlib.handlers import DTPHandler

    from reelhouse.demo.ftpd import EmbeddedFtpServer

    logging.basicConfig(level=logging.WARNING)
    total = [0]

    class CountingDTP(DTPHandler):  # type: ignore[misc]
        def __init__(self, sock: socket.socket, cmd_channel: Any) -> None:
            # a small send buffer: what the server counts as sent has (nearly) left
            # the machine; without it the kernel takes megabytes that a client which
            # hangs up early never receives
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SNDBUF)
            super().__init__(sock, cmd_channel)

        def close(self) -> None:
            if not self._closed:
                total[0] += self.tot_bytes_sent
                Path(counter).write_text(str(total[0]))
            super().close()

    server = EmbeddedFtpServer(root, user=FTP_USER, password=FTP_PASSWORD,
                               handler_overrides={"dtp_handler": CountingDTP,
                                                  "use_sendfile": False}).start()
    Path(counter).write_text("0")
    print(json.dumps({"port": server.port}), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop()


class Counter:
    """Reads the server's byte counter; :meth:`settled` waits until it stops moving
    (transfers that were aborted close a moment after the client is done)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def value(self) -> int:
        try:
            return int(self.path.read_text() or 0)
        except (OSError, ValueError):
            return 0

    def settled(self, quiet: float = 0.3, timeout: float = 5.0) -> int:
        last, since = self.value(), time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.value()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
        return last


def _long_clip(path: Path, seconds: int, ext: str) -> Path:
    from reelhouse.demo.media import ffmpeg_exe

    if path.exists():
        return path
    cmd = [ffmpeg_exe(), "-v", "error", "-y",
           "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=24",
           "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", str(seconds),
           "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "8M", "-g", "48",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k"]
    if ext == "mp4":
        cmd += ["-movflags", "-faststart"]
    subprocess.run([*cmd, str(path)], check=True, timeout=600)
    return path


def _median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def measure(name: str, size: int, port: int, counter: Counter, samples: int) -> dict[str, Any]:
    from reelhouse.errors import ProbeFailed
    from reelhouse.library.probe import probe
    from reelhouse.sources.ftp import FtpConfig, FtpSource

    row: dict[str, Any] = {"clip": name, "size_bytes": size}
    # reelhouse
    times, wire, result, error = [], [], None, None
    for _ in range(samples):
        before = counter.settled()
        src = FtpSource(FtpConfig("127.0.0.1", port, FTP_USER, FTP_PASSWORD, pool_size=1))
        t0 = time.perf_counter()
        try:
            result = probe(src, name, size)
        except ProbeFailed as exc:
            error = exc.message
        times.append(time.perf_counter() - t0)
        src.close()
        wire.append(counter.settled() - before)
    row["reelhouse"] = {
        "ms": _median_ms(times),
        "bytes_read": result.bytes_read if result else None,
        "range_reads": result.range_reads if result else None,
        "server_bytes_sent": max(wire),
        "streams": len(result.streams) if result else 0,
        "error": error,
    }
    # ffprobe over ftp:// (peer)
    url = f"ftp://{FTP_USER}:{FTP_PASSWORD.replace(' ', '%20')}@127.0.0.1:{port}/{name}"
    times, wire, codes = [], [], []
    for _ in range(samples):
        before = counter.settled()
        t0 = time.perf_counter()
        proc = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams",
                               "-of", "json", url], capture_output=True, timeout=120)
        times.append(time.perf_counter() - t0)
        codes.append(proc.returncode)
        wire.append(counter.settled() - before)
    row["ffprobe"] = {"ms": _median_ms(times), "server_bytes_sent": max(wire),
                      "ok": all(c == 0 for c in codes)}
    # the limit: downloading the whole file
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        with ftplib.FTP() as ftp:
            ftp.connect("127.0.0.1", port)
            ftp.login(FTP_USER, FTP_PASSWORD)
            ftp.retrbinary(f"RETR {name}", lambda _chunk: None, blocksize=256 * 1024)
        times.append(time.perf_counter() - t0)
    counter.settled()
    row["download_ms"] = _median_ms(times)
    rb = row["reelhouse"]["server_bytes_sent"]
    row["reelhouse_within_goal"] = rb <= GOAL
    row["reelhouse_vs_ffprobe_bytes"] = (round(rb / row["ffprobe"]["server_bytes_sent"], 3)
                                         if row["ffprobe"]["server_bytes_sent"] else None)
    row["reelhouse_vs_size"] = round(rb / size, 4) if size else None
    return row


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--samples", type=int, default=5, help="runs per clip and prober (median)")
    p.add_argument("--long-seconds", type=int, default=40,
                   help="length of the two long 720p clips, seconds (0: none)")
    args = p.parse_args()
    from reelhouse.demo.probe_clips import make_probe_clips

    with tempfile.TemporaryDirectory(prefix="reelhouse-probe-bench-") as tmp:
        root = Path(tmp) / "ftp"
        log("making clips")
        clips = make_probe_clips(Path(tmp) / "clips")
        root.mkdir()
        for name, path in clips.items():
            shutil.copyfile(path, root / name)
        if args.long_seconds > 0:
            for ext in ("mp4", "mkv"):
                _long_clip(root / f"long_{args.long_seconds}s_720p.{ext}", args.long_seconds, ext)
        counter_file = Path(tmp) / "sent"
        server = spawn([sys.executable, __file__, "ftpd", str(root), str(counter_file)])
        try:
            port = int(read_ready(server, "ftpd", 20)["port"])
            counter = Counter(counter_file)
            rows = []
            for path in sorted(root.iterdir()):
                log("probing", path.name)
                rows.append(measure(path.name, path.stat().st_size, port, counter, args.samples))
        finally:
            kill_groups([server])
    media = [r for r in rows if r["reelhouse"]["error"] is None]
    emit({
        "benchmark": "probe_bytes",
        "goal_bytes_per_probe": GOAL,
        "samples": args.samples,
        "clips": rows,
        "all_within_goal": all(r["reelhouse_within_goal"] for r in rows),
        "max_reelhouse_server_bytes": max(r["reelhouse"]["server_bytes_sent"] for r in rows),
        "max_ffprobe_server_bytes": max(r["ffprobe"]["server_bytes_sent"] for r in rows),
        "median_reelhouse_ms_media": statistics.median(r["reelhouse"]["ms"] for r in media),
        "median_ffprobe_ms_media": statistics.median(r["ffprobe"]["ms"] for r in media),
    })
    return 0 if all(r["reelhouse_within_goal"] for r in rows) else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "ftpd":
        _ftpd_main(sys.argv[2], sys.argv[3])
    else:
        os.environ.setdefault("REELHOUSE_LOG_LEVEL", "WARNING")
        sys.exit(main())
