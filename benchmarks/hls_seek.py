"""HLS latency and speed on one synthetic 1080p H.264/AAC film on a loopback FTP server:

- time from request to the first segment, cold (no encoder, empty cache): the copy
  rendition (remux) and the 720p transcode;
- time to a segment far away while the 720p encoder runs (a seek: the encoder restarts
  there), at 30/50/70/90 % of the film;
- 720p encoding speed as a multiple of real time (reelhouse's encoder reading through
  FTP, unthrottled);

each next to **the limit**: the same ffmpeg command run alone on the local file (no
FTP, no HTTP, no reelhouse), timed until its first segment is on disk, and its whole
720p encode.

    .venv/bin/python benchmarks/hls_seek.py [--seconds 60] [--samples 3]

The FTP server runs in its own process (``_setup.py ftpd``); reelhouse (uvicorn, the
API) in this one, requests go over loopback HTTP. Prints one JSON object on stdout;
progress on stderr. Goals (issue 6): first segment ≤ 1.0 s remux, ≤ 2.0 s transcode;
seek ≤ 2.0 s; 720p ≥ 1.5× real time on 2 cores.
"""

from __future__ import annotations

import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _setup import (
    FTP_PASSWORD,
    FTP_USER,
    HERE,
    PYTHON,
    base_args,
    cache_root,
    emit,
    kill_groups,
    log,
    read_ready,
    spawn,
)

FILM = "Films/Synthetic.1080p.mkv"


def make_film(root: Path, seconds: int) -> Path:
    """A 1080p24 H.264 (keyframe every 2 s) + AAC MKV, made once and cached."""
    path = root / FILM
    if path.is_file():
        return path
    from reelhouse.demo.media import ffmpeg_exe

    path.parent.mkdir(parents=True, exist_ok=True)
    log(f"making a {seconds} s 1080p film at {path}")
    part = path.with_name("part.mkv")
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y",
                    "-f", "lavfi", "-t", str(seconds), "-i", "testsrc2=size=1920x1080:rate=24",
                    "-f", "lavfi", "-t", str(seconds), "-i", "sine=frequency=440:sample_rate=48000",
                    "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "6M", "-g", "48",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", str(part)], check=True)
    part.rename(path)
    return path


def ffmpeg_alone(argv: list[str], out: Path, first: int, last: int | None) -> tuple[float, float | None]:
    """Run an encoder command by itself; seconds until segment ``first`` is on disk and
    (if ``last``) until the process ends."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    first_at = None
    try:
        while first_at is None:
            if (out / f"{first}.ts").exists():
                first_at = time.perf_counter() - t0
            elif proc.poll() is not None:
                raise RuntimeError(f"ffmpeg alone failed: {argv}")
            time.sleep(0.005)
        if last is None:
            return first_at, None
        proc.wait()
        return first_at, time.perf_counter() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = base_args(__doc__ or "", 3, "seek samples per position")
    parser.add_argument("--seconds", type=int, default=60, help="film length, seconds")
    args = parser.parse_args()
    import uvicorn

    from reelhouse.config import load_settings
    from reelhouse.core import Core
    from reelhouse.playback.hls import ffmpeg
    from reelhouse.server import create_app
    from reelhouse.sources.registry import SourceSpec

    root = (Path(args.cache_dir) if args.cache_dir else cache_root()) / f"hls-{args.seconds}s"
    film = make_film(root, args.seconds)
    tmp = Path(tempfile.mkdtemp(prefix="reelhouse-hls-bench-"))
    ftpd = spawn([PYTHON, str(HERE / "_setup.py"), "ftpd", str(root), FTP_USER, FTP_PASSWORD])
    procs = [ftpd]
    server = None
    thread = None
    core = None
    try:
        port = read_ready(ftpd, "FTP server", 30)["port"]
        core = Core(load_settings(data_dir=tmp / "data", log_level="WARNING",
                                  hls_ahead_segments=1000, hls_max_encoders=4))
        source = core.sources.create(SourceSpec(name="bench", kind="ftp", host="127.0.0.1",
                                                port=port, username=FTP_USER, password=FTP_PASSWORD))
        core.jobs.run_scan_now(source.id)
        with core.sessions() as s:
            from reelhouse.library import queries

            file_id = queries.list_media_files(s, source.id, False, 0, 10)[0][0].id
        token = core.signer.playback(1, file_id)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        http_port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(core), log_level="warning",
                                               access_log=False))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        base = f"http://127.0.0.1:{http_port}/api/library/media-files/{file_id}/hls"
        http = httpx.Client(timeout=120)
        master = http.get(f"{base}/master.m3u8", params={"token": token})
        master.raise_for_status()
        streams = core.hls.streams(file_id)
        seg = core.settings.hls_segment_seconds
        count = int(streams.duration // seg)

        def get(track: str, n: int) -> float:
            t0 = time.perf_counter()
            with http.stream("GET", f"{base}/{track}/{n}.ts", params={"token": token}) as r:
                r.raise_for_status()
                chunks = r.iter_bytes()
                next(chunks)
                took = time.perf_counter() - t0
                for _ in chunks:
                    pass
            return took

        def cold(track: str, n: int = 0) -> float:
            core.hls.encoders.close()
            core.hls.cache.clear()
            return get(track, n)

        log("cold first segments")
        remux = [cold("copy") for _ in range(args.samples)]
        t720 = [cold("720p") for _ in range(args.samples)]
        log("seeks")
        seeks: dict[str, float] = {}
        for pct in (30, 50, 70, 90):
            samples = []
            for _ in range(args.samples):
                cold("720p")  # the encoder is running at the start
                samples.append(get("720p", int(count * pct / 100)))
            seeks[f"{pct}%"] = round(statistics.median(samples), 3)
        log("720p speed through reelhouse")
        core.hls.encoders.close()
        core.hls.cache.clear()
        t0 = time.perf_counter()
        get("720p", 0)
        enc = core.hls.encoders.running()[0]
        enc.proc.wait()
        rh_speed = streams.duration / (time.perf_counter() - t0)

        log("ffmpeg alone on the local file (the limit)")
        r720 = next(r for r in core.hls.renditions(streams) if r.name == "720p")
        rcopy = next(r for r in core.hls.renditions(streams) if r.name == "copy")
        exe = core.hls.ffmpeg_path()

        def alone(rendition: object, start: int, whole: bool = False) -> tuple[float, float | None]:
            out = tmp / "alone"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            argv = ffmpeg.video_command(exe, str(film), rendition, start, seg, str(out),  # type: ignore[arg-type]
                                        core.settings.hls_preset)
            return ffmpeg_alone(argv, out, start, count if whole else None)

        alone_remux = [alone(rcopy, 0)[0] for _ in range(args.samples)]
        alone_720 = [alone(r720, 0)[0] for _ in range(args.samples)]
        alone_seek = [alone(r720, int(count * 0.7))[0] for _ in range(args.samples)]
        whole = alone(r720, 0, whole=True)[1] or 1.0
        med = statistics.median
        result = {
            "film": {"path": FILM, "duration_s": round(streams.duration, 2), "size": "1920x1080",
                     "source": "FTP (loopback, own process)", "segment_s": seg,
                     "preset": core.settings.hls_preset},
            "first_segment_remux_s": {"reelhouse": round(med(remux), 3), "ffmpeg_alone": round(med(alone_remux), 3),
                                      "goal": 1.0},
            "first_segment_720p_s": {"reelhouse": round(med(t720), 3), "ffmpeg_alone": round(med(alone_720), 3),
                                     "goal": 2.0},
            "seek_720p_s": {"reelhouse": seeks, "ffmpeg_alone_70%": round(med(alone_seek), 3), "goal": 2.0},
            "transcode_720p_x_realtime": {"reelhouse": round(rh_speed, 2),
                                          "ffmpeg_alone": round(streams.duration / whole, 2), "goal": 1.5},
            "samples": args.samples,
        }
        emit(result)
    finally:
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(10)
        if core is not None:
            core.close()
        kill_groups(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
