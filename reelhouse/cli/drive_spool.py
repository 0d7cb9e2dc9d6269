"""``reelhouse drive spool``: the uploads the drive keeps in its spool (not on the server:
failed, or refused by it), listed, sent again, or discarded (:mod:`reelhouse.drive.spools`).

``retry`` and ``discard`` act on the spools of mounts that have ended; a live mount's
files are changed on the mount itself (write again, ``mv``, ``rm``) or after its
unmount. Neither asks anything: ``discard`` takes the exact path ``list`` shows, or
``--all``, and deletes only those spool files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
_ALL = typer.Option("--all", help="Every upload kept by mounts that have ended.")
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


def _live(skipped: list[KeptFile]) -> None:
    if skipped:
        raise e.Conflict(f"left alone: {len(skipped)} upload(s) kept by a live mount ("
                         f"{', '.join(sorted({str(f.mount_point) for f in skipped}))}): on the mount write "
                         "such a file again to send it or rm it to drop it, or unmount first")


@spool_app.command("retry")
def spool_retry(path: Annotated[str | None, _PATH] = None, every: Annotated[bool, _ALL] = False,
                spool: Annotated[str | None, _SPOOL] = None) -> None:
    """Send refused uploads again: their refusal is cleared, and the next mount of their
    server sends them (as every kept upload). Exit 3 when nothing is kept under PATH,
    5 when a live mount holds it (write it again on the mount instead)."""
    from reelhouse.drive.spools import retry

    files = _chosen(path, every, spool)
    for f in files if not every else [f for f in files if f.mount_point is None]:
        was = "refused" if retry(f) else "not refused"  # a live mount's: Conflict, saying what to do
        console.print(f"{f.path} ({was}): the next mount of its server sends it (spool {f.folder})",
                      highlight=False, soft_wrap=True)
    if every and not files:
        console.print("nothing kept in the drive spool")
    _live([f for f in files if f.mount_point is not None])


@spool_app.command("discard")
def spool_discard(path: Annotated[str | None, _PATH] = None, every: Annotated[bool, _ALL] = False,
                  spool: Annotated[str | None, _SPOOL] = None) -> None:
    """Delete kept uploads from the spool: their unsent bytes are gone for good, the
    server's file (if any) stays as it is. Takes the exact PATH, or --all (every
    upload kept by mounts that have ended, in --spool if given); asks nothing. Exit 3
    when nothing is kept under PATH, 5 when a live mount holds it (rm it on the mount,
    or unmount first)."""
    from reelhouse.drive.spools import discard

    files = _chosen(path, every, spool)
    for f in files if not every else [f for f in files if f.mount_point is None]:
        discard(f)  # a live mount's: Conflict, saying what to do
        console.print(f"discarded {f.path} ({_size(f.size)}, {f.state}) from the spool {f.folder}",
                      highlight=False, soft_wrap=True)
    if every and not files:
        console.print("nothing kept in the drive spool")
    _live([f for f in files if f.mount_point is not None])
