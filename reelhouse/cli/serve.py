"""The long-running commands: ``reelhouse serve``, ``reelhouse demo``, ``reelhouse worker``."""

from __future__ import annotations

import socket
from typing import Annotated

import typer

from reelhouse.cli.common import console, make_core, open_core
from reelhouse.config import load_settings
from reelhouse.errors import ConfigError, InvalidInput

__all__ = ["demo", "serve", "worker"]


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default from settings).")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (default from settings).")] = None,
) -> None:
    """Run the web server (UI at /, API at /api, docs at /docs)."""
    from reelhouse.server import run_server

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = load_settings(**overrides)
    _check_listen(settings.host, settings.port)
    core = make_core(settings, consume_jobs=True)
    console.print(f"reelhouse on http://{settings.host}:{settings.port}/  (data: {settings.data_dir})")
    if core.users.count() == 0:
        console.print("no users yet: create one with `reelhouse user add NAME --admin`", style="yellow")
    problem = core.hls.startup_problem()
    if problem:
        console.print(f"HLS (transcoded playback) is off: {problem}", style="yellow")
    run_server(core, settings.host, settings.port)


def _check_listen(host: str, port: int) -> None:
    """Raise ConfigError (exit 7, one line) when ``host:port`` cannot be listened on (a
    port in use, an address not of this machine, a name that does not resolve), before
    anything starts: uvicorn said so after the "reelhouse on …" line and exited 3, the
    code of "not found". Each address is bound as asyncio's ``create_server`` (uvicorn's)
    binds it (every address of the name, SO_REUSEADDR, IPv6 only on IPv6), then closed;
    port 0 (any free port) always binds."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            with socket.socket(family, kind, proto) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(address)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def demo(
    port: Annotated[int, typer.Option(help="Web server port (0 = any free port).")] = 8420,
    folder: Annotated[str, typer.Option("--dir", help="Where the demo keeps its data.")] = ".demo",
) -> None:
    """Make a sample library, serve half of it from an embedded FTP server and half from a
    local folder, scan both, create an admin, and start the web server."""
    from reelhouse.cli.progress import scan_with_progress
    from reelhouse.demo.run import run_demo

    run_demo(folder, port, console, scan_with_progress)


def worker(
    workers: Annotated[int | None, typer.Option(help="Jobs run at once (default: job_workers + "
                                                     "transfer_concurrency).")] = None,
) -> None:
    """Run background jobs (scans, syncs, transfers, HLS prepares, scheduled rescans) from
    the shared queue until stopped (Ctrl-C or SIGTERM: its running jobs go back to the
    queue; if it is killed, they run elsewhere once their lease passes). For scale-out:
    set jobs_backend=redis and redis_url, and jobs_in_process=false on the web servers."""
    if workers is not None and workers < 1:
        raise InvalidInput("--workers must be 1 or more")
    settings = load_settings()
    with open_core(settings) as core:
        threads = workers or core.job_threads()
        console.print(f"reelhouse worker: {settings.jobs_backend} queue, {threads} worker thread(s)")
        core.jobs.run_worker(threads)
