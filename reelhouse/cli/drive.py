"""``reelhouse drive``: mount an FTP/FTPS server, a configured source or the library as
a folder (FUSE), unmount it, and show the live mounts.

Errors are reelhouse errors: the CLI's entry point prints one line and exits non-zero.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from reelhouse import errors as e
from reelhouse.cli.common import console
from reelhouse.cli.drive_spool import spool_app
from reelhouse.drive.settings import DriveSettings, load_file

__all__ = ["drive_app"]

drive_app = typer.Typer(help="Mount an FTP server, a source or the library as a folder.",
                        no_args_is_help=True)
drive_app.add_typer(spool_app, name="spool")


def _logging(s: DriveSettings) -> None:
    root = logging.getLogger("reelhouse")
    root.setLevel(s.log_level.upper())
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if s.log_file:
        try:
            handler: logging.Handler = logging.FileHandler(s.log_file)
        except OSError as exc:
            raise e.InvalidInput(f"cannot write the log file {s.log_file!r}: {exc.strerror}") from None
        handler.setFormatter(fmt)
        root.addHandler(handler)
    if s.log_console:
        console_handler = logging.StreamHandler(sys.stderr)
        console_handler.setFormatter(fmt)
        root.addHandler(console_handler)


@drive_app.command("mount")
def mount(
    mount_point: Annotated[str | None, typer.Argument(help="An empty folder (or a drive letter such as Z:).")] = None,
    host: Annotated[str | None, typer.Option(help="FTP host name or address.")] = None,
    port: Annotated[int | None, typer.Option(help="FTP port (21; 990 for implicit TLS).")] = None,
    user: Annotated[str | None, typer.Option(help="FTP user (anonymous if not given).")] = None,
    password: Annotated[str | None, typer.Option(help="FTP password.")] = None,
    password_env: Annotated[str | None, typer.Option(help="Read the password from this variable.")] = None,
    tls: Annotated[str | None, typer.Option(help="explicit | implicit (FTPS).")] = None,
    tls_cert: Annotated[str | None, typer.Option(help="PEM of a certificate to trust.")] = None,
    no_verify_tls: Annotated[bool, typer.Option("--no-verify-tls", help="Accept any certificate.")] = False,
    root: Annotated[str | None, typer.Option(help="Folder on the server to mount.")] = None,
    source: Annotated[str | None, typer.Option(help="A configured source (name or id).")] = None,
    view: Annotated[str | None, typer.Option(help="files (the server's tree) | library.")] = None,
    read_only: Annotated[bool | None, typer.Option(
        "--read-only/--read-write", help="Refuse every change (EROFS), or allow them over the "
                                         "config file's read_only.", show_default=False)] = None,
    config: Annotated[str | None, typer.Option(help="INI or TOML file: \\[ftp] \\[mount] \\[cache] "
                                                    "\\[connection] \\[logging].")] = None,  # \\[: rich markup
    log_file: Annotated[str | None, typer.Option(help="Write the log here.")] = None,
    log_level: Annotated[str | None, typer.Option(help="debug | info | warning | error.")] = None,
) -> None:
    """Mount and stay in the foreground until Ctrl-C / SIGTERM, then unmount cleanly."""
    from reelhouse.drive import fuse
    from reelhouse.drive.fs import DriveFS
    from reelhouse.drive.mount import open_source, serve

    settings = load_file(config) if config else DriveSettings()
    if password_env is not None:
        if password_env not in os.environ:
            raise e.InvalidInput(f"--password-env: the variable {password_env} is not set")
        password = os.environ[password_env]
    if tls is not None and tls not in ("explicit", "implicit", "none"):
        raise e.InvalidInput(f"--tls must be explicit or implicit, not {tls!r}")
    if view is not None and view not in ("files", "library"):
        raise e.InvalidInput(f"--view must be files or library, not {view!r}")
    if log_level is not None and log_level.lower() not in ("debug", "info", "warning", "error", "critical"):
        raise e.InvalidInput(f"--log-level must be debug, info, warning or error, not {log_level!r}")
    settings = settings.override(
        host=host, port=port, username=user, password=password, tls=tls, tls_cert=tls_cert,
        verify_tls=False if no_verify_tls else None, root=root, source=source, view=view,
        read_only=read_only, mount_point=mount_point, log_file=log_file,
        log_level=log_level)
    if settings.source and settings.host and settings.view == "files":
        raise e.InvalidInput("give --host or --source, not both")
    if not settings.mount_point:
        raise e.InvalidInput("give a MOUNTPOINT (or [mount] mount_point in --config)")
    fuse.check_platform()
    mp = str(fuse.check_mount_point(settings.mount_point))
    _logging(settings)
    from reelhouse.config import load_settings

    node = load_settings()
    data_dir = node.data_dir
    opened = open_source(settings, node.redis_url, node.party_presence_ttl)
    def run(fs: DriveFS) -> None:
        print(f"mounting {opened.server} at {mp} (Ctrl-C to unmount)", file=sys.stderr, flush=True)
        fuse.run_fuse(fs, mp, settings.volume_label, fs.read_only)

    try:
        left = serve(settings, mp, opened, data_dir, run)
    except BaseException:
        opened.close()
        raise
    if left:
        raise e.SourceUnavailable(f"{len(left)} upload(s) not on the server are kept in the spool "
                                  "(see above); nothing written is lost")


def _unmount_lazily(mp: str) -> None:
    """Detach the mount at ``mp`` (``fusermount3 -u -z``). Its failure counts only while
    something is still mounted there: the mount's own process may have ended it
    meanwhile ("fusermount3: … Invalid argument"), which is what was asked."""
    from reelhouse.drive.fuse import is_mount

    tool = shutil.which("fusermount3") or shutil.which("fusermount")
    argv = [tool, "-u", "-z", mp] if tool else ["umount", "-l", mp]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0 and is_mount(Path(mp)):
        raise e.InvalidInput(f"cannot unmount {mp}: {done.stderr.strip() or done.stdout.strip()}")


@drive_app.command("unmount")
def unmount(
    mount_point: Annotated[str, typer.Argument(help="The mount point of a running mount.")],
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the mount to finish.")] = 60.0,
) -> None:
    """Unmount a drive started by another process (open files get ENOTCONN, no hang);
    names the uploads it left in its spool (sent by the next mount of the server)."""
    from reelhouse.drive.fuse import is_mount
    from reelhouse.drive.status import live_mounts, process_running

    mp = os.path.abspath(os.path.expanduser(mount_point))
    owners = [m for m in live_mounts() if os.path.abspath(m["mount_point"]) == mp]
    if not owners and not is_mount(Path(mp)):  # a symlink to the mount point, or a path through one
        mp = os.path.realpath(mp)
        owners = [m for m in live_mounts() if os.path.realpath(m["mount_point"]) == mp]
    if not owners:  # also a mount whose process died (kill -9): detached all the same
        if not is_mount(Path(mp)):
            raise e.NotFound(f"nothing is mounted at {mp}")
        _unmount_lazily(mp)
        console.print(f"unmounted {mp}")
        return
    pid = int(owners[0]["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process_running(pid):
            break
        time.sleep(0.05)
    else:
        _unmount_lazily(mp)  # the process did not finish: detach the mount anyway
    if is_mount(Path(mp)):
        _unmount_lazily(mp)
    console.print(f"unmounted {mp}", highlight=False, soft_wrap=True)
    if owners[0].get("spool") and not process_running(pid):
        _say_kept(Path(owners[0]["spool"]))


def _say_kept(folder: Path) -> None:
    """Name the uploads a mount that ended left in its spool ``folder``: those the server
    did not take (or it stopped answering at unmount), which the next mount of the same
    server sends, and those it refused for good, which stay until the user removes them
    (``rm`` on a mount of that server, or ``drive spool discard``). Nothing is lost.
    Unreadable folders are passed over."""
    from reelhouse.drive.spool import kept_uploads

    try:
        kept = kept_uploads(folder) if folder.is_dir() else []
    except OSError:
        return
    pending = [k.path for k in kept if k.refused is None]
    if pending:
        console.print(f"{len(pending)} upload(s) kept in the spool {folder}; the next mount of this "
                      f"server sends them: {', '.join(pending)}", highlight=False, soft_wrap=True)
    for k in kept:
        if k.conflict:
            console.print(f"kept in the spool {folder}, a conflict: {k.refused} "
                          f"(`reelhouse drive spool retry {k.path}` has the next mount send it over "
                          f"theirs, `reelhouse drive spool discard {k.path}` drops it)",
                          highlight=False, soft_wrap=True)
        elif k.refused is not None:
            console.print(f"kept in the spool {folder}, refused by the server: {k.path} ({k.refused}); "
                          "not sent again until written or moved on a mount of this server; "
                          f"`reelhouse drive spool retry {k.path}` has the next mount send it, "
                          f"`reelhouse drive spool discard {k.path}` drops it",
                          highlight=False, soft_wrap=True)


@drive_app.command("status")
def status(as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False) -> None:
    """Every live mount: mount point, server, view, state, open files, cache, traffic,
    pending uploads (uploading, retrying, or failed and kept in the spool); then the
    uploads kept by mounts that have ended (not in ``--json``)."""
    from reelhouse.drive.status import live_mounts

    mounts = live_mounts()
    if as_json:
        print(json.dumps(mounts, indent=2, sort_keys=True))
        return
    if not mounts:
        console.print("no drives mounted")
        _say_kept_by_ended(mounts)
        return
    rows = [(m["mount_point"], m["server"], m["view"], m["state"], str(m["open_files"]),
             f"{m.get('cache', {}).get('used_bytes', 0) >> 20} / "
             f"{m.get('cache', {}).get('capacity_bytes', 0) >> 20} MiB",
             f"{m['bytes_read'] >> 20} MiB", f"{m['bytes_written'] >> 20} MiB",
             str(len(m["pending_uploads"]))) for m in mounts]
    if console.width < _TABLE_WIDTH:
        _print_blocks(rows, [(m, u) for m in mounts for u in m["pending_uploads"]])
        return
    table = Table(*_COLUMNS)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    uploads = [(m, u) for m in mounts for u in m["pending_uploads"]]
    if uploads:
        table = Table("mount point", "pending upload", "state", "sent", "error", title="pending uploads")
        for m, u in uploads:
            table.add_row(m["mount_point"], str(u["path"]), _UPLOAD_STATES.get(u.get("state", "failed"), "?"),
                          f"{_size(u.get('sent', 0))} / {_size(u.get('size', 0))}", u.get("error") or "")
        console.print(table)
    _say_kept_by_ended(mounts)


def _say_kept_by_ended(mounts: list[dict[str, Any]]) -> None:
    """Name the uploads kept in the spools of mounts that have ended
    (``<data_dir>/drive-spool/*``, no live mount's): the next mount of their server
    sends them. A spool set with ``spool_directory`` is known only while mounted."""
    from reelhouse.config import load_settings

    try:
        root = load_settings().data_dir / "drive-spool"
    except e.ReelhouseError:
        return
    live = {os.path.abspath(m["spool"]) for m in mounts if m.get("spool")}
    for folder in sorted(root.glob("*")) if root.is_dir() else []:
        if folder.is_dir() and os.path.abspath(folder) not in live:
            _say_kept(folder)


_COLUMNS = ("mount point", "server", "view", "state", "open", "cache", "read", "written", "pending")
#: the terminal width (columns) below which the table's paths would be cut: one block per mount
_TABLE_WIDTH = 140


def _print_blocks(rows: Sequence[tuple[str, ...]], uploads: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """``drive status`` for a narrow terminal: each mount's point on a line of its own,
    then its values, one per line (nothing cut); then its pending uploads."""
    for i, row in enumerate(rows):
        if i:
            console.print()
        console.print(row[0], highlight=False, soft_wrap=True)
        for name, value in zip(_COLUMNS[1:], row[1:], strict=True):
            console.print(f"  {name + ':':<9} {value}", highlight=False, soft_wrap=True)
        for m, u in uploads:
            if m["mount_point"] == row[0]:
                console.print(f"  upload:   {u['path']} ({_UPLOAD_STATES.get(u.get('state', 'failed'), '?')}, "
                              f"{_size(u.get('sent', 0))} / {_size(u.get('size', 0))})"
                              f"{': ' + u['error'] if u.get('error') else ''}", highlight=False, soft_wrap=True)


#: an upload's state in the status file, as ``drive status`` prints it
_UPLOAD_STATES = {"uploading": "uploading", "retrying": "retrying",
                  "failed": "failed, kept in the spool",
                  "refused": "refused by the server, kept in the spool (`drive spool retry` or write it again "
                             "to retry; `drive spool discard` to drop it)",
                  "conflict": "a conflict: another client made the file before it was sent, kept in the "
                              "spool (`drive spool retry` sends it over theirs, `drive spool discard` drops it)"}


def _size(n: int) -> str:
    """Bytes as B, KiB, MiB or GiB (one decimal past B)."""
    if n < 1024:
        return f"{n} B"
    value, unit = n / 1024, "KiB"
    for bigger in ("MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"
