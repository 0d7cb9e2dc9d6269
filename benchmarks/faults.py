"""Fault recovery and transfer throughput, against one loopback FTP server (pyftpdlib,
its own process) in one run.

1. **Recovery**: a range read (``FtpSource.read_range``) is streaming a big file when
   the FTP server process is SIGKILLed; it is started again on the same port after
   ``--down`` seconds. Recovery = time from the server accepting connections again to
   the next chunk reaching the reader. Goal: ≤ 1 s. The bytes must hash equal.
2. **Throughput**: upload and download of the same file by reelhouse
   (``transfers.copy.upload/download``: ``.part``, size check, rename, fsync on
   download) vs direct ``ftplib`` (``storbinary``/``retrbinary``, 1 MiB blocks) vs
   ``curl`` (``-T`` / ``-o``), in a shuffled order per sample, after an untimed
   ``sync`` each, ``--samples`` times, median MB/s
   (10^6 bytes/s). Goal: reelhouse ≥ 0.9 × each peer.

    .venv/bin/python benchmarks/faults.py [--size-mib 256] [--samples 3] [--down 0.5,1.5,3]

Prints one JSON object on stdout; progress on stderr. Exit status 1 if bytes differ.
"""

from __future__ import annotations

import argparse
import ftplib
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _setup import free_port, kill_groups, log, median, ratio

from reelhouse.sources.ftp import FtpConfig, FtpSource
from reelhouse.transfers.copy import download, upload

USER, PASSWORD = "reel", "house"
GOAL_RECOVERY_S = 1.0
GOAL_RATIO = 0.9
MB = 1_000_000


def _child_ftpd(root: str, port: str) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    from reelhouse.demo.ftpd import EmbeddedFtpServer

    server = EmbeddedFtpServer(root, USER, PASSWORD, port=int(port)).start()
    print(json.dumps({"port": server.port}), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(3600)


class Server:
    """The FTP server process on a fixed port: start, SIGKILL, start again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start and return the monotonic time it accepts connections."""
        # no PR_SET_PDEATHSIG here (_setup.spawn): it fires when the *thread* that
        # started the child ends, and restarts run in a thread; close() kills it instead
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--child-ftpd", str(self.root), str(self.port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return time.monotonic()
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("the FTP server did not start") from None
                time.sleep(0.005)

    def kill(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def close(self) -> None:
        if self.proc is not None:
            kill_groups([self.proc])
            self.proc = None


def make_file(path: Path, size: int) -> str:
    h = hashlib.sha256()
    with open(path, "wb") as fh:
        left = size
        while left:
            block = os.urandom(min(left, 8 << 20))
            h.update(block)
            fh.write(block)
            left -= len(block)
    return h.hexdigest()


def recovery(server: Server, name: str, size: int, digest: str, down: float) -> dict[str, Any]:
    """Kill the server 0.3 s into a stream, bring it back after ``down`` s."""
    src = FtpSource(FtpConfig("127.0.0.1", server.port, USER, PASSWORD, pool_size=2, read_timeout=5))
    h = hashlib.sha256()
    got = 0
    times: dict[str, float] = {}

    def restart() -> None:
        time.sleep(0.3)
        server.kill()
        times["killed"] = time.monotonic()
        time.sleep(down)
        times["back"] = server.start()

    killer = threading.Thread(target=restart, daemon=True)
    start = time.monotonic()
    killer.start()
    try:
        for chunk in src.read_range(name, 0, size):
            now = time.monotonic()
            if "killed" in times and "first_after" not in times and now > times["killed"] and got > 0:
                if "back" in times:
                    times["first_after"] = now
            h.update(chunk)
            got += len(chunk)
            # pace the reader (~400 MB/s at most) so the kill lands mid-stream
            time.sleep(len(chunk) / (400 * MB))
    finally:
        src.close()
        killer.join(30)
    ok = got == size and h.hexdigest() == digest
    rec = times["first_after"] - times["back"] if "first_after" in times and "back" in times else None
    actual = times["back"] - times["killed"] if "back" in times else None
    return {"down_s": down, "actual_down_s": round(actual, 2) if actual else None,
            "recovery_s": round(rec, 3) if rec is not None else None,
            "bytes_ok": ok, "total_s": round(time.monotonic() - start, 2)}


def timed(fn: Any) -> tuple[float, float]:
    """(wall seconds, client CPU seconds: this process + finished children, i.e. curl)."""
    def cpu() -> float:
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    c, t = cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - t, cpu() - c


def throughput(server: Server, local: Path, name: str, size: int, samples: int, tmp: Path) -> dict[str, Any]:
    url = f"ftp://{USER}:{PASSWORD}@127.0.0.1:{server.port}"
    src = FtpSource(FtpConfig("127.0.0.1", server.port, USER, PASSWORD, pool_size=2))
    cpu: dict[str, list[float]] = {}
    runs: dict[str, list[float]] = {k: [] for k in
                                    ("download_reelhouse", "download_ftplib", "download_curl",
                                     "upload_reelhouse", "upload_ftplib", "upload_curl")}

    def ftp() -> ftplib.FTP:
        f = ftplib.FTP()
        f.connect("127.0.0.1", server.port)
        f.login(USER, PASSWORD)
        return f

    def dl_ftplib() -> None:
        f = ftp()
        with open(tmp / "dl_ftplib.bin", "wb") as out:
            f.retrbinary(f"RETR {name}", out.write, blocksize=1 << 20)
        f.quit()

    def ul_ftplib() -> None:
        f = ftp()
        with open(local, "rb") as fh:
            f.storbinary("STOR up_ftplib.bin", fh, blocksize=1 << 20)
        f.quit()

    def curl(*args: str) -> None:
        subprocess.run(["curl", "-s", "-S", *args], check=True)

    jobs = {
        "download_reelhouse": lambda: download(src, name, tmp / "dl_reelhouse.bin"),
        "download_ftplib": dl_ftplib,
        "download_curl": lambda: curl("-o", str(tmp / "dl_curl.bin"), f"{url}/{name}"),
        "upload_reelhouse": lambda: upload(src, local, "up/reelhouse.bin"),
        "upload_ftplib": ul_ftplib,
        "upload_curl": lambda: curl("-T", str(local), f"{url}/up_curl.bin"),
    }
    order = list(jobs)
    try:
        for i in range(samples):
            rot = order[:]
            random.Random(i).shuffle(rot)  # no job always follows the same one
            for key in rot:
                os.sync()  # untimed: the last job's dirty pages are not this one's cost
                wall, used = timed(jobs[key])
                runs[key].append(size / wall / MB)
                cpu.setdefault(key, []).append(used / (size / 2**30))
                log(f"{key}: {runs[key][-1]:.0f} MB/s")
    finally:
        src.close()
    ok = all(p.stat().st_size == size for p in
             [tmp / "dl_reelhouse.bin", server.root / "up/reelhouse.bin"])
    ok = ok and (tmp / "dl_reelhouse.bin").read_bytes() == local.read_bytes()
    med = {k: round(median(v), 1) for k, v in runs.items()}
    ratios = {
        "download_vs_ftplib": ratio(med["download_reelhouse"], med["download_ftplib"]),
        "download_vs_curl": ratio(med["download_reelhouse"], med["download_curl"]),
        "upload_vs_ftplib": ratio(med["upload_reelhouse"], med["upload_ftplib"]),
        "upload_vs_curl": ratio(med["upload_reelhouse"], med["upload_curl"]),
    }
    return {"mbps": med, "ratios": ratios,
            "client_cpu_s_per_gib": {k: round(median(v), 2) for k, v in cpu.items()},
            "runs_mbps": {k: [round(x, 1) for x in v] for k, v in runs.items()},
            "bytes_verified": ok,
            "met": {k: (v is not None and v >= GOAL_RATIO) for k, v in ratios.items()}}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size-mib", type=int, default=256)
    p.add_argument("--samples", type=int, default=3)
    p.add_argument("--down", default="0.5,1.5,3.0", help="seconds the server stays down")
    args = p.parse_args()
    size = args.size_mib * 1024 * 1024
    tmp = Path(tempfile.mkdtemp(prefix=f"reelhouse-bench-{os.getpid()}-"))
    root = tmp / "ftp"
    root.mkdir()
    server = Server(root)
    try:
        log(f"making {args.size_mib} MiB of random bytes")
        digest = make_file(root / "film.mkv", size)
        local = tmp / "local.mkv"
        shutil.copyfile(root / "film.mkv", local)
        server.start()
        rec = [recovery(server, "film.mkv", size, digest, float(d)) for d in args.down.split(",")]
        for r in rec:
            log(f"recovery after {r['down_s']} s down: {r['recovery_s']} s")
        thr = throughput(server, local, "film.mkv", size, args.samples, tmp)
        worst = max((r["recovery_s"] for r in rec if r["recovery_s"] is not None), default=None)
        result = {
            "size_mib": args.size_mib,
            "recovery": rec,
            "recovery_worst_s": worst,
            "throughput": thr,
            "goals": {"recovery_le_1s": worst is not None and worst <= GOAL_RECOVERY_S,
                      "ratio_ge_0.9": thr["met"]},
            "env": {"loadavg_1m": os.getloadavg()[0], "cpus": os.cpu_count()},
        }
        print(json.dumps(result, indent=2), flush=True)
        ok = thr["bytes_verified"] and all(r["bytes_ok"] for r in rec)
        return 0 if ok else 1
    finally:
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child-ftpd":
        _child_ftpd(sys.argv[2], sys.argv[3])
    else:
        sys.exit(main())
