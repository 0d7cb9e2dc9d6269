"""``reelhouse drive spool``: the uploads the drive keeps in its spool (not on the server:
failed, or refused by it), listed, sent again, or discarded (:mod:`reelhouse.drive.spools`).

``retry`` and ``discard`` act on the spools of mounts that have ended, and ask a live
mount to act on its own (:mod:`reelhouse.drive.control`). Neither asks the user
anything: each takes the exact path ``list`` shows, or ``--all``, and ``discard``
deletes only those spool files and the partial ``.part`` an earlier try left on the
server, never the server's file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from reelhouse import errors as e
from reelhouse.cli.common import console

if TYPE_CHECKING:
    from reelhouse.drive.spools import KeptFile

__all__ = ["spool_app"]

spool_app = typer.Typer(help="Uploads kept in the drive spool (failed or refused): list, retry, discard.",
                        no_args_is_help=True)

_PATH = typer.Argument(help="The exact path of a kept upload, as `drive spool list` shows it.")
_ALL = typer.Option("--all", help="Every kept upload.")
_SPOOL = typer.Option("--spool", help="Only this spool folder (its name or path, as `list` shows it).")


def _files() -> list[KeptFile]:
    from reelhouse.config import load_settings
    from reelhouse.drive.spools import kept_files
    from reelhouse.drive.status import live_mounts

    return kept_files(load_settings().data_dir / "drive-spool", live_mounts())


def _size(n: int) -> str:
    from reelhouse.cli.drive import _size as size

    return size(n)


@spool_app.command("list")
def spool_list(as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False) -> None:
    """Every upload kept in a spool: its spool folder, path, state (``refused`` by the
    server, not sent again by itself; ``pending``: sent by the next mount of its
    server; a live mount's ``failed``, ``uploading``, ``retrying``), size, the server's
    reply, and the live mount holding it (if any)."""
    files = _files()
    if as_json:
        print(json.dumps([f.public() for f in files], indent=2, sort_keys=True))
        return
    if not files:
        console.print("nothing kept in the drive spool")
        return
    table = Table("spool", "path", "state", "size", "held by", "error")
    for f in files:
        table.add_row(f.folder.name, f.path, f.state, _size(f.size), f.mount_point or "", f.error or "")
    console.print(table)


def _chosen(path: str | None, every: bool, spool: str | None) -> list[KeptFile]:
    """The kept files ``path`` (or ``every``) names, in ``spool`` if given. Raises
    InvalidInput (no path and no --all, or both; a path kept in several spools without
    --spool), NotFound (nothing kept under that path or spool)."""
    if (path is None) == (not every):
        raise e.InvalidInput("give the exact PATH of a kept upload (as `reelhouse drive spool list` shows it) "
                             "or --all, not both" if every else
                             "give the exact PATH of a kept upload (as `reelhouse drive spool list` shows it) "
                             "or --all")
    files = _files()
    if spool is not None:
        files = [f for f in files if spool in (f.folder.name, str(f.folder), str(Path(spool).absolute()))]
        if not files:
            raise e.NotFound(f"nothing kept in a spool named {spool!r} (see `reelhouse drive spool list`)")
    if every:
        return files
    assert path is not None
    found = [f for f in files if f.path == path.strip("/")]
    if not found:
        raise e.NotFound(f"no upload kept in the spool as {path!r} (see `reelhouse drive spool list`)")
    if len(found) > 1:
        raise e.InvalidInput(f"{path!r} is kept in {len(found)} spools ("
                             f"{', '.join(f.folder.name for f in found)}): say which with --spool")
    return found


_TIMEOUT = typer.Option(help="Seconds to wait for a live mount's answer (a retry uploads the file).")


class _Servers:
    """Connections to the servers of spool folders, opened when first needed (``drive
    spool discard`` removing a ``.part`` while no mount runs), closed at the end."""

    def __init__(self, password: str | None) -> None:
        self.password = password
        self.opened: dict[Path, Any] = {}

    def remover(self, f: KeptFile) -> Callable[[str, int], str]:
        """``remove_part(part, size)`` for :func:`reelhouse.drive.spools.discard`: connects
        to ``f``'s server (its spool's ``server.info``; stored credentials of a source,
        else the password given) and removes the ``.part`` by the rule of
        :func:`reelhouse.drive.parts.remove_part`. Raises a reelhouse error saying why
        it cannot (no ``server.info``, no password, the server away or refusing)."""
        def remove(part: str, size: int) -> str:
            from reelhouse.drive.parts import remove_part

            got = remove_part(self._source(f.folder), part, size, f.path)
            if got == "removed":
                return f"removed its partial upload {part} from the server"
            if got == "larger":
                return f"{part} on the server is larger than the kept file (not its partial upload): left there"
            return ""
        return remove

    def _source(self, folder: Path) -> Any:
        from reelhouse.drive import manifest
        from reelhouse.drive.mount import open_source, reach_settings

        if folder not in self.opened:
            reach = manifest.server(folder)
            if reach is None:
                raise e.SourceUnavailable(f"the spool {folder} does not say how to reach its server (kept by "
                                          "an older version)")
            anonymous = reach.get("username") in (None, "", "anonymous", "ftp")
            if not reach.get("source") and not anonymous and self.password is None:
                raise e.AuthenticationFailed(f"the login {reach.get('username')!r} needs a password: give "
                                             "--password-env VAR to remove it now")
            self.opened[folder] = open_source(reach_settings(reach, self.password))
        return self.opened[folder].source

    def close(self) -> None:
        for opened in self.opened.values():
            opened.close()
        self.opened.clear()


def _act(f: KeptFile, action: str, timeout: float, servers: _Servers) -> str:
    """``action`` (``retry`` | ``discard``) on kept file ``f``: in its spool folder when
    its mount has ended, else asked of its live mount. Returns what to print."""
    from reelhouse.drive import control, spools

    if f.mount_point is not None:
        if f.pid is None:
            raise e.Conflict(f"{f.path!r} is kept in {f.folder}, which a mount starting now holds: try again")
        return f"{control.ask(f.pid, action, f.path, timeout)} (the mount at {f.mount_point})"
    if action == "discard":
        said = spools.discard(f, servers.remover(f))
        return f"discarded {f.path} ({_size(f.size)}, {f.state}) from the spool {f.folder}{'; ' + said if said else ''}"
    was = "refused" if spools.retry(f) else "not refused"
    return f"{f.path} ({was}): the next mount of its server sends it (spool {f.folder})"


def _run(action: str, path: str | None, every: bool, spool: str | None, timeout: float,
         password: str | None = None) -> None:
    """``action`` on the kept files chosen; with ``--all`` each failure is said and the
    others go on (the first failure's exit code at the end)."""
    files = _chosen(path, every, spool)
    if every and not files:
        console.print("nothing kept in the drive spool")
        return
    failed: e.ReelhouseError | None = None
    servers = _Servers(password)
    try:
        for f in files:
            try:
                console.print(_act(f, action, timeout, servers), highlight=False, soft_wrap=True)
            except e.ReelhouseError as exc:
                if not every:
                    raise
                console.print(f"{f.path}: {exc.message}", highlight=False, soft_wrap=True)
                failed = failed or exc
    finally:
        servers.close()
    if failed is not None:
        raise type(failed)(f"not every kept upload was done (first: {failed.message})")


@spool_app.command("retry")
def spool_retry(path: Annotated[str | None, _PATH] = None, every: Annotated[bool, _ALL] = False,
                spool: Annotated[str | None, _SPOOL] = None, timeout: Annotated[float, _TIMEOUT] = 120.0) -> None:
    """Send kept uploads again. A live mount clears the refusal and uploads the file now
    (its answer says how it went); for a mount that has ended the refusal is cleared and
    the next mount of its server sends the file. Exit 3 when nothing is kept under
    PATH, 5 when the file is being uploaded, 6 when the mount does not answer in time;
    a refusal again exits as the server's reply (4 permission, 2 a name, 3 not found)."""
    _run("retry", path, every, spool, timeout)


@spool_app.command("discard")
def spool_discard(path: Annotated[str | None, _PATH] = None, every: Annotated[bool, _ALL] = False,
                  spool: Annotated[str | None, _SPOOL] = None, timeout: Annotated[float, _TIMEOUT] = 30.0,
                  password_env: Annotated[str | None, typer.Option(
                      help="Read the FTP password from this variable (to remove a partial upload "
                           "while no mount runs; a source's stored one and anonymous need none).")] = None) -> None:
    """Delete kept uploads from the spool: their unsent bytes are gone for good, the
    server's file (if any) stays as it is (and shows again on a live mount). The partial
    upload (``name.part``) an earlier try left on the server goes too (not a larger file
    of that name: not ours): a live mount removes it; with no mount running this
    connects to the server (the spool keeps how, never the password); where it cannot,
    the next mount of the server removes it. Takes the exact PATH, or --all (every kept
    upload, in --spool if given); asks nothing. Exit 3 when nothing is kept under PATH,
    5 when the file is open on the mount or being uploaded."""
    password = None
    if password_env is not None:
        if password_env not in os.environ:
            raise e.InvalidInput(f"--password-env: the variable {password_env} is not set")
        password = os.environ[password_env]
    _run("discard", path, every, spool, timeout, password)
