"""The command line (Typer): serve · demo · source · scan · sync · transfer · user.

Errors from reelhouse print one line (``error: …``) on stderr and exit non-zero; the
exit code says what kind of error it was (see ``EXIT_CODES``). No tracebacks for user
mistakes.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from reelhouse import errors as e
from reelhouse.config import Settings, load_settings
from reelhouse.core import Core
from reelhouse.drive_cli import drive_app
from reelhouse.library.sources import SourceSpec
from reelhouse.transfer_cli import sync_command, transfer_app

__all__ = ["EXIT_CODES", "app", "main"]

app = typer.Typer(
    help="reelhouse: a media server for films and series on FTP servers and local disks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
source_app = typer.Typer(help="Add, list, test and remove sources.", no_args_is_help=True)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(source_app, name="source")
app.add_typer(user_app, name="user")
app.add_typer(transfer_app, name="transfer")
app.add_typer(drive_app, name="drive")
app.command("sync")(sync_command)

console = Console()
err_console = Console(stderr=True)

#: Exit codes by error class (most specific first); 2 is also click's usage error.
EXIT_CODES: list[tuple[type[e.ReelhouseError], int]] = [
    (e.InvalidInput, 2),
    (e.NotFound, 3),
    (e.AuthenticationFailed, 4),
    (e.PermissionDenied, 4),
    (e.Conflict, 5),
    (e.SourceUnavailable, 6),
    (e.ConfigError, 7),
    (e.StorageFull, 8),
    (e.Cancelled, 9),
]


def _core(settings: Settings | None = None, consume_jobs: bool = False) -> Core:
    """The services; one-shot commands never pick up queued jobs (only ``serve`` and
    ``worker`` run them)."""
    return Core(settings or load_settings(), consume_jobs=consume_jobs)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default from settings).")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (default from settings).")] = None,
) -> None:
    """Run the web server (UI at /, API at /api, docs at /docs)."""
    from reelhouse.server import run_server

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = load_settings(**overrides)
    core = _core(settings, consume_jobs=True)
    console.print(f"reelhouse on http://{settings.host}:{settings.port}/  (data: {settings.data_dir})")
    if core.users.count() == 0:
        console.print("[yellow]no users yet: create one with `reelhouse user add NAME --admin`[/yellow]")
    problem = core.hls.startup_problem()
    if problem:
        console.print(f"[yellow]HLS (transcoded playback) is off: {problem}[/yellow]")
    run_server(core, settings.host, settings.port)


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Web server port (0 = any free port).")] = 8420,
    folder: Annotated[str, typer.Option("--dir", help="Where the demo keeps its data.")] = ".demo",
) -> None:
    """Make a sample library, serve half of it from an embedded FTP server and half from a
    local folder, scan both, create an admin, and start the web server."""
    from reelhouse.demo.run import run_demo

    run_demo(folder, port, console)


@source_app.command("add")
def source_add(
    name: Annotated[str, typer.Argument(help="A name for the source.")],
    local: Annotated[str | None, typer.Option(help="Local folder (absolute path).")] = None,
    ftp: Annotated[str | None, typer.Option(help="FTP host name or address.")] = None,
    port: Annotated[int | None, typer.Option(help="FTP port (21, or 990 for implicit TLS).")] = None,
    user: Annotated[str | None, typer.Option(help="FTP user (anonymous if not given).")] = None,
    password: Annotated[str | None, typer.Option(help="FTP password (asked if --user is given).")] = None,
    tls: Annotated[str, typer.Option(help="none | explicit | implicit")] = "none",
    root: Annotated[str, typer.Option(help="Folder on the server to use (default: the login folder).")] = "",
    verify_tls: Annotated[bool, typer.Option(help="Verify the server's TLS certificate.")] = True,
    tls_cert: Annotated[str | None, typer.Option(help="PEM file of a certificate to trust "
                                                      "(a self-signed server's).")] = None,
) -> None:
    """Add a local folder (--local PATH) or an FTP server (--ftp HOST)."""
    if (local is None) == (ftp is None):
        raise e.InvalidInput("give exactly one of --local PATH or --ftp HOST")
    if local is not None:
        from pathlib import Path

        spec = SourceSpec(name=name, kind="local", path=str(Path(local).expanduser().resolve()))
    else:
        if user and password is None:
            password = getpass.getpass(f"FTP password for {user}@{ftp}: ")
        spec = SourceSpec(name=name, kind="ftp", host=ftp, port=port, username=user,
                          password=password or "", tls=tls, path=root, verify_tls=verify_tls,
                          tls_cert=tls_cert)
    core = _core()
    try:
        row = core.sources.create(spec)
    finally:
        core.close()
    console.print(f"added source {row.name!r} (id {row.id})")


@source_app.command("list")
def source_list() -> None:
    """List the sources."""
    core = _core()
    try:
        rows = core.sources.list()
    finally:
        core.close()
    table = Table("id", "name", "kind", "where", "tls", "last scan", "last error")
    for r in rows:
        where = r.path if r.kind == "local" else f"{r.username or 'anonymous'}@{r.host}:{r.port}{r.path}"
        table.add_row(str(r.id), r.name, r.kind, where, r.tls if r.kind == "ftp" else "",
                      str(r.last_scan_at or ""), r.last_error or "")
    console.print(table)


@source_app.command("remove")
def source_remove(name: Annotated[str, typer.Argument(help="Source name or id.")]) -> None:
    """Remove a source and its files from the library (nothing on the source is touched)."""
    core = _core()
    try:
        row = core.sources.find(name)
        core.sources.remove(row.id)
    finally:
        core.close()
    console.print(f"removed source {row.name!r}")


@source_app.command("test")
def source_test(name: Annotated[str, typer.Argument(help="Source name or id.")]) -> None:
    """Connect to a source and list its root folder."""
    import time

    core = _core()
    try:
        row = core.sources.find(name)
        src = core.sources.build(row)
        start = time.perf_counter()
        try:
            entries = src.list("")
        finally:
            src.close()
    finally:
        core.close()
    ms = (time.perf_counter() - start) * 1000
    console.print(f"ok: {row.name!r} answered in {ms:.0f} ms; {len(entries)} entries in its root")


@app.command()
def scan(
    source: Annotated[str | None, typer.Argument(help="Source name or id (all if omitted).")] = None,
) -> None:
    """Scan one source (or all) into the library, with a progress bar."""
    from reelhouse.scan_progress import scan_with_progress

    core = _core()
    try:
        rows = [core.sources.find(source)] if source else core.sources.list()
        if not rows:
            raise e.NotFound("no sources yet: add one with `reelhouse source add`")
        failed = scan_with_progress(core, rows, console)
    finally:
        core.close()
    if failed:
        raise e.SourceUnavailable(f"{failed} source(s) could not be scanned")


@app.command()
def worker(
    workers: Annotated[int | None, typer.Option(help="Jobs run at once (default: job_workers).")] = None,
) -> None:
    """Run background jobs (scans, scheduled rescans) from the shared queue until stopped
    (Ctrl-C or SIGTERM). For scale-out: set jobs_backend=redis and redis_url, and
    jobs_in_process=false on the web servers."""
    settings = load_settings()
    core = _core(settings)
    console.print(f"reelhouse worker: {settings.jobs_backend} queue, "
                  f"{workers or settings.job_workers} worker thread(s)")
    try:
        core.jobs.run_worker(workers or settings.job_workers)
    finally:
        core.close()


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    admin: Annotated[bool, typer.Option("--admin", help="May manage sources.")] = False,
    password: Annotated[str | None, typer.Option(help="Password (asked if not given).")] = None,
) -> None:
    """Create a user."""
    if password is None:
        password = getpass.getpass("password: ")
        if password != getpass.getpass("again: "):
            raise e.InvalidInput("the passwords differ")
    core = _core()
    try:
        core.users.add(name, password, is_admin=admin)
    finally:
        core.close()
    console.print(f"added {'admin' if admin else 'user'} {name!r}")


def main() -> None:
    """Entry point: run the CLI, turning reelhouse errors into one line and an exit code."""
    try:
        app()
    except e.ReelhouseError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}", highlight=False)
        code = next((c for cls, c in EXIT_CODES if isinstance(exc, cls)), 1)
        sys.exit(code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
