"""Shared set-up of the benchmarks: a big random file, a loopback FTP server, reelhouse
and ``rclone serve http`` over that FTP server — each in its own process.

Used as a library by ``stream_throughput.py`` and ``seek_latency.py``::

    with Stack(size_mib=1024) as st:
        st.direct_url, st.reelhouse_url, st.rclone_url, st.sha256 ...

and as the entry point of the child processes it starts::

    python benchmarks/_setup.py ftpd ROOT USER PASSWORD
    python benchmarks/_setup.py reelhouse DATA_DIR FTP_PORT USER PASSWORD FILM_PATH

Each child prints one JSON line on stdout when it is ready. Children run in their own
session (process group) and get SIGKILL if the benchmark process dies
(``PR_SET_PDEATHSIG``); :meth:`Stack.close` kills the whole group of each one.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import hashlib
import json
import math
import os
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable

FILM = "Films/Big.Buck.Bunny.2008.1080p.mkv"
FTP_USER, FTP_PASSWORD = "reel", "house"
ADMIN, ADMIN_PASSWORD = "admin", "admin-password"
CHUNK = 16 * 1024 * 1024


def log(*parts: object) -> None:
    """Progress goes to stderr; stdout is kept for the one JSON result."""
    print("[bench]", *parts, file=sys.stderr, flush=True)


# -- the film --------------------------------------------------------------------------
def cache_root() -> Path:
    base = os.environ.get("REELHOUSE_BENCH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "reelhouse-bench"
    )
    return Path(base)


def ensure_film(size_mib: int, cache: Path | None = None) -> tuple[Path, Path, str]:
    """``(ftp_root, file, sha256)``: ``<cache>/<N>MiB/Films/Big.Buck.Bunny…mkv`` of N MiB of
    random bytes, created once (os.urandom in 16 MiB chunks, written to ``.part`` then
    renamed) and reused while its size matches. The digest is kept next to the root."""
    cache = cache or cache_root()
    root = cache / f"{size_mib}MiB"
    path = root / FILM
    digest_file = cache / f"{size_mib}MiB.sha256"
    size = size_mib * 1024 * 1024
    if path.is_file() and path.stat().st_size == size and digest_file.is_file():
        return root, path, digest_file.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    log(f"creating {size_mib} MiB of random bytes at {path}")
    part = path.with_name(path.name + ".part")
    h = hashlib.sha256()
    t0 = time.monotonic()
    with open(part, "wb") as fh:
        left = size
        while left:
            block = os.urandom(min(CHUNK, left))
            h.update(block)
            fh.write(block)
            left -= len(block)
    os.replace(part, path)
    digest_file.write_text(h.hexdigest() + "\n")
    log(f"created in {time.monotonic() - t0:.1f} s")
    return root, path, h.hexdigest()


# -- a synthetic library tree ---------------------------------------------------------
def ensure_tree(shows: int = 40, seasons: int = 20, episodes: int = 25, cache: Path | None = None) -> Path:
    """A tree of empty episode files: ``shows × seasons`` folders (plus one per show) of
    ``episodes`` files each — 40 × 20 × 25 = 20,000 files in 840 folders by default.
    Created once under the cache dir and reused."""
    root = (cache or cache_root()) / f"tree-{shows}x{seasons}x{episodes}"
    done = root / ".complete"
    if done.is_file():
        return root
    log(f"creating the synthetic tree at {root}")
    for sh in range(1, shows + 1):
        title = f"Show Number {sh:03d}"
        for se in range(1, seasons + 1):
            folder = root / title / f"Season {se:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            for ep in range(1, episodes + 1):
                (folder / f"{title.replace(' ', '.')}.S{se:02d}E{ep:02d}.1080p.WEB.x264.mkv").touch()
    done.touch()
    return root


class Ftpd:
    """A pyftpdlib server in its own process serving ``root`` (``with Ftpd(root) as f: f.port``)."""

    def __init__(self, root: Path, forking: bool = False) -> None:
        """``forking``: one server process per connection (like vsftpd and pure-ftpd)
        instead of pyftpdlib's single-threaded default."""
        self.root = root
        self.role = "ftpd-forking" if forking else "ftpd"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def __enter__(self) -> Ftpd:
        _terminate_on_sigterm()
        self.proc = spawn([PYTHON, str(HERE / "_setup.py"), self.role, str(self.root), FTP_USER, FTP_PASSWORD])
        self.port = int(read_ready(self.proc, "FTP server", 30)["port"])
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            kill_groups([self.proc])

    def rclone_env(self, tmp: Path) -> dict[str, str]:
        """Environment for ``rclone … benchftp:`` against this server."""
        obscured = subprocess.run(
            ["rclone", "obscure", FTP_PASSWORD], check=True, capture_output=True, text=True
        ).stdout.strip()
        conf = tmp / "rclone.conf"
        conf.write_text("")
        return dict(
            os.environ,
            RCLONE_CONFIG=str(conf),
            RCLONE_CONFIG_BENCHFTP_TYPE="ftp",
            RCLONE_CONFIG_BENCHFTP_HOST="127.0.0.1",
            RCLONE_CONFIG_BENCHFTP_PORT=str(self.port),
            RCLONE_CONFIG_BENCHFTP_USER=FTP_USER,
            RCLONE_CONFIG_BENCHFTP_PASS=obscured,
        )

    def source(self, pool_size: int = 5) -> Any:
        """A reelhouse FtpSource on this server."""
        sys.path.insert(0, str(HERE.parent))
        from reelhouse.sources.ftp.client import FtpConfig
        from reelhouse.sources.ftp.source import FtpSource

        return FtpSource(FtpConfig(host="127.0.0.1", port=self.port, user=FTP_USER, password=FTP_PASSWORD,
                                   pool_size=pool_size))


# -- child processes -------------------------------------------------------------------
def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: even if we are SIGKILLed
    except OSError:
        pass


def spawn(
    argv: list[str], *, env: dict[str, str] | None = None, stdout: Any = subprocess.PIPE, stderr: Any = None
) -> subprocess.Popen[bytes]:
    """Start a child in its own session/process group that dies with us."""
    return subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        env=env,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )


def read_ready(proc: subprocess.Popen[bytes], what: str, timeout: float) -> dict[str, Any]:
    """The JSON line a child prints on stdout when it is ready."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"{what} was not ready after {timeout:.0f} s")
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if ready:
            more = os.read(fd, 65536)
            if not more:
                raise RuntimeError(f"{what} exited early (status {proc.wait()})")
            buf += more
        elif proc.poll() is not None:
            raise RuntimeError(f"{what} exited early (status {proc.returncode})")
    info: dict[str, Any] = json.loads(buf.split(b"\n", 1)[0])
    return info


def kill_groups(procs: list[subprocess.Popen[bytes]], grace: float = 3.0) -> None:
    """SIGTERM the process group of every child at once, SIGKILL what is left after
    ``grace`` seconds."""
    for proc in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(max(0.0, deadline - time.monotonic()))
    for proc in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # the child and any stragglers of its group
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _terminate_on_sigterm() -> None:
    """SIGTERM/SIGHUP → SystemExit, so ``finally`` blocks run as on Ctrl-C."""

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError):
            signal.signal(sig, handler)


def _remove_stale_tmp() -> None:
    """Temp dirs of earlier runs that were SIGKILLed (their pid is gone)."""
    for d in Path(tempfile.gettempdir()).glob("reelhouse-bench-*-*"):
        pid = d.name.split("-")[2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(d, ignore_errors=True)


class Stack:
    """FTP server + reelhouse + rclone serve http, each in its own process."""

    def __init__(self, size_mib: int, cache: Path | None = None) -> None:
        self.size_mib = size_mib
        self.cache = cache
        self.procs: list[subprocess.Popen[bytes]] = []
        self.tmp: str | None = None

    def __enter__(self) -> Stack:
        _terminate_on_sigterm()
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        self.root, self.path, self.sha256 = ensure_film(self.size_mib, self.cache)
        self.size = self.path.stat().st_size
        _remove_stale_tmp()
        self.tmp = tempfile.mkdtemp(prefix=f"reelhouse-bench-{os.getpid()}-")
        # warm the page cache so the first measured run is not a disk read
        with open(self.path, "rb") as fh:
            while fh.read(CHUNK):
                pass

        ftpd = spawn([PYTHON, str(HERE / "_setup.py"), "ftpd", str(self.root), FTP_USER, FTP_PASSWORD])
        self.procs.append(ftpd)
        self.ftp_port = read_ready(ftpd, "FTP server", 30)["port"]
        self.ftpd_pid = ftpd.pid
        self.direct_url = f"ftp://{FTP_USER}:{FTP_PASSWORD}@127.0.0.1:{self.ftp_port}/{FILM}"
        log(f"FTP server pid {ftpd.pid} on 127.0.0.1:{self.ftp_port}")

        rclone_port = free_port()
        obscured = subprocess.run(
            ["rclone", "obscure", FTP_PASSWORD], check=True, capture_output=True, text=True
        ).stdout.strip()
        conf = Path(self.tmp) / "rclone.conf"
        conf.write_text("")
        env = dict(
            os.environ,
            RCLONE_CONFIG=str(conf),
            RCLONE_CONFIG_BENCHFTP_TYPE="ftp",
            RCLONE_CONFIG_BENCHFTP_HOST="127.0.0.1",
            RCLONE_CONFIG_BENCHFTP_PORT=str(self.ftp_port),
            RCLONE_CONFIG_BENCHFTP_USER=FTP_USER,
            RCLONE_CONFIG_BENCHFTP_PASS=obscured,
        )
        self.rclone_log = Path(self.tmp) / "rclone.log"
        rclone = spawn(
            [
                "rclone",
                "serve",
                "http",
                "benchftp:",
                "--addr",
                f"127.0.0.1:{rclone_port}",
                "--vfs-cache-mode",
                "off",
                "--read-only",
                "--log-file",
                str(self.rclone_log),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        self.procs.append(rclone)
        self.rclone_pid = rclone.pid
        self.rclone_url = f"http://127.0.0.1:{rclone_port}/{FILM}"

        self.reelhouse_log = Path(self.tmp) / "reelhouse.log"
        with open(self.reelhouse_log, "wb") as rh_log:  # the child keeps its own copy
            rh = spawn(
                [
                    PYTHON,
                    str(HERE / "_setup.py"),
                    "reelhouse",
                    str(Path(self.tmp) / "data"),
                    str(self.ftp_port),
                    FTP_USER,
                    FTP_PASSWORD,
                    FILM,
                ],
                # the user's REELHOUSE_* settings (database URL, config file) must not leak in
                env={k: v for k, v in os.environ.items() if not k.startswith("REELHOUSE_")},
                stderr=rh_log,
            )
        self.procs.append(rh)
        ready = read_ready(rh, "reelhouse", 120)  # on failure close() shows its stderr
        self.reelhouse_pid = rh.pid
        self.reelhouse_port = int(ready["port"])
        self.reelhouse_url = str(ready["stream_url"])
        self.reelhouse_info = ready
        log(f"reelhouse pid {rh.pid} on 127.0.0.1:{self.reelhouse_port} (http={ready['http']}, loop={ready['loop']})")

        self._wait_http(self.rclone_url, rclone, "rclone serve http", 30)
        log(f"rclone serve http pid {rclone.pid} on 127.0.0.1:{rclone_port}")

    def _wait_http(self, url: str, proc: subprocess.Popen[bytes], what: str, timeout: float) -> None:
        import http.client
        from urllib.parse import urlsplit

        u = urlsplit(url)
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{what} exited (status {proc.returncode}); see {self.rclone_log}")
            try:
                conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=5)
                conn.request("HEAD", u.path)
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not answer 200 for {url} within {timeout:.0f} s")
            time.sleep(0.1)

    def versions(self) -> dict[str, str]:
        rc = subprocess.run(["rclone", "version"], capture_output=True, text=True).stdout
        cv = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout
        return {
            "python": sys.version.split()[0],
            "rclone": rc.split("\n", 1)[0],
            "curl": cv.split(" ", 2)[1] if cv else "?",
            "uvicorn_http": str(self.reelhouse_info["http"]),
            "uvicorn_loop": str(self.reelhouse_info["loop"]),
        }

    def _show_log(self) -> None:
        """What reelhouse wrote to stderr so far (errors of the run), before its shutdown
        noise (cancelled requests) goes to the same file and is thrown away."""
        try:
            text = self.reelhouse_log.read_text(errors="replace").strip()
        except (OSError, AttributeError):
            return
        if text:
            log("reelhouse stderr:\n" + text[-20000:])

    def close(self) -> None:
        self._show_log()
        procs, self.procs = self.procs, []
        kill_groups(procs)
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


# -- figures ---------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, math.ceil(q / 100 * len(s)) - 1))
    return s[k]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def base_args(description: str, samples: int, samples_help: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--size-mib", type=int, default=1024, help="size of the test film (default 1024)")
    p.add_argument("--samples", type=int, default=samples, help=samples_help)
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="where the test film is kept (default $REELHOUSE_BENCH_CACHE or ~/.cache/reelhouse-bench)",
    )
    return p


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result, indent=2), flush=True)


# -- child entry points ----------------------------------------------------------------
def _ftpd_main(root: str, user: str, password: str) -> None:
    sys.path.insert(0, str(HERE.parent))
    import logging

    logging.basicConfig(level=logging.WARNING)  # else pyftpdlib logs every transfer
    from reelhouse.demo.ftpd import EmbeddedFtpServer

    server = EmbeddedFtpServer(root, user=user, password=password).start()
    print(json.dumps({"port": server.port}), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop()


def _ftpd_forking_main(root: str, user: str, password: str) -> None:
    """pyftpdlib with one process per connection, as vsftpd and pure-ftpd work."""
    import logging

    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import MultiprocessFTPServer

    logging.basicConfig(level=logging.WARNING)
    auth = DummyAuthorizer()
    auth.add_user(user, password, root, perm="elradfmwMT")
    handler = type("Handler", (FTPHandler,), {"authorizer": auth, "passive_ports": None})
    server = MultiprocessFTPServer(("127.0.0.1", 0), handler)
    print(json.dumps({"port": server.address[1]}), flush=True)
    server.serve_forever()


def _reelhouse_main(data_dir: str, ftp_port: str, user: str, password: str, film: str) -> None:
    sys.path.insert(0, str(HERE.parent))
    import http.client
    import importlib.util

    import uvicorn

    from reelhouse.config import load_settings
    from reelhouse.core import Core
    from reelhouse.server import create_app
    from reelhouse.sources.registry import SourceSpec

    core = Core(load_settings(data_dir=data_dir, log_level="WARNING"))
    core.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
    row = core.sources.create(
        SourceSpec(name="bench-ftp", kind="ftp", host="127.0.0.1", port=int(ftp_port), username=user, password=password)
    )
    report = core.jobs.run_scan_now(row.id)
    app = create_app(core, close_core=True)
    http_impl = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop_impl = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            http=http_impl,
            loop=loop_impl,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
    )

    def call(method: str, path: str, body: object = None, token: str | None = None) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        if resp.status >= 300:
            raise RuntimeError(f"{method} {path}: {resp.status} {data[:300]!r}")
        return json.loads(data)

    def announce() -> None:
        try:
            while not server.started:
                time.sleep(0.02)
            token = call("POST", "/api/auth/login", {"username": ADMIN, "password": ADMIN_PASSWORD})["token"]
            files = call("GET", "/api/library/media-files?per_page=500&include_missing=true", token=token)
            mf = next(f for f in files["items"] if f["path"] == film)
            url = call("POST", f"/api/library/media-files/{mf['id']}/playback", token=token)["url"]
            print(
                json.dumps(
                    {
                        "port": port,
                        "stream_url": url,
                        "media_file_id": mf["id"],
                        "http": http_impl,
                        "loop": loop_impl,
                        "scan": report.counts(),
                    }
                ),
                flush=True,
            )
        except Exception as exc:  # the parent sees EOF/timeout and reports
            print(f"reelhouse set-up failed: {exc!r}", file=sys.stderr, flush=True)
            os._exit(1)

    threading.Thread(target=announce, daemon=True).start()
    server.run(sockets=[sock])


if __name__ == "__main__":
    role, *rest = sys.argv[1:]
    if role == "ftpd":
        _ftpd_main(*rest)
    elif role == "ftpd-forking":
        _ftpd_forking_main(*rest)
    elif role == "reelhouse":
        _reelhouse_main(*rest)
    else:
        raise SystemExit(f"unknown role {role!r}")
