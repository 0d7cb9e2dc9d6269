"""CLI commands of transfers and sync: ``reelhouse transfer upload|download|list|cancel``
and ``reelhouse sync SOURCE``, with rich progress bars. Registered by ``cli/root.py``;
errors reach ``cli.main`` and become one line and an exit code there."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from reelhouse import errors as e
from reelhouse.cli.common import console, open_core

if TYPE_CHECKING:
    from reelhouse.core import Core
    from reelhouse.db.models import Transfer

__all__ = ["sync_command", "transfer_app"]

transfer_app = typer.Typer(help="Upload, download, list and cancel transfers.",
                           no_args_is_help=True)


def _run(core: Core, t: Transfer, wait: bool) -> None:
    """Run a queued transfer here with a progress bar (or leave it to the server)."""
    if not wait:
        console.print(f"queued transfer {t.id} ({t.kind} {t.remote_path})")
        return
    with Progress(
        TextColumn("{task.description}", style="bold", markup=False), BarColumn(), DownloadColumn(),
        TransferSpeedColumn(), TimeRemainingColumn(), console=console,
    ) as bar:
        task = bar.add_task(f"{t.kind} {t.remote_path.rsplit('/', 1)[-1]}", total=None)

        def progress(done: int, total: int | None, rate: float | None) -> None:
            bar.update(task, completed=done, total=total)

        try:
            ended = core.transfers.run_now(t.id, progress)  # raises the error that ended it here
        except e.ReelhouseError:
            console.print(f"✗ transfer {t.id} ({t.kind} {t.remote_path}) did not complete")
            raise
    if ended.state == "done":
        where = ended.local_path if ended.kind == "download" else ended.remote_path
        console.print(f"✓ transfer {ended.id}: {ended.bytes_done} bytes, size verified → {where}")
        return
    # ended in another process: its error class is not known here
    message = f"transfer {ended.id} {ended.state}: {ended.error or ''}".strip()
    raise e.Cancelled(message) if ended.state == "cancelled" else e.ReelhouseError(message)


def _submit_and_run(kind: str, source: str, remote: str, local: str | Path | None, priority: int,
                    wait: bool) -> None:
    """Queue an upload or download of ``remote`` on ``source`` and :func:`_run` it."""
    with open_core() as core:
        row = core.sources.find(source)
        t = core.transfers.submit(kind, row.id, remote, local_path=local, priority=priority)
        _run(core, t, wait)


@transfer_app.command("upload")
def upload_cmd(
    local: Annotated[Path, typer.Argument(help="Local file to upload.")],
    source: Annotated[str, typer.Argument(help="Source name or id.")],
    remote: Annotated[str, typer.Argument(help="Path on the source (folders are created).")],
    priority: Annotated[int, typer.Option(help="Higher runs first.")] = 0,
    wait: Annotated[bool, typer.Option(help="Run now with a progress bar (--no-wait: queue "
                                             "it for the server).")] = True,
) -> None:
    """Upload a file to a source: written as NAME.part, size-checked, then renamed."""
    _submit_and_run("upload", source, remote, local, priority, wait)


@transfer_app.command("download")
def download_cmd(
    source: Annotated[str, typer.Argument(help="Source name or id.")],
    remote: Annotated[str, typer.Argument(help="Path of the file on the source.")],
    to: Annotated[str | None, typer.Option(help="Where in the library store (relative path; "
                                                "default <source>/<remote>).")] = None,
    priority: Annotated[int, typer.Option(help="Higher runs first.")] = 0,
    wait: Annotated[bool, typer.Option(help="Run now with a progress bar.")] = True,
) -> None:
    """Download a file from a source into the local library store."""
    _submit_and_run("download", source, remote, to, priority, wait)


@transfer_app.command("list")
def list_cmd(
    state: Annotated[str | None, typer.Option(help="queued | running | done | failed | "
                                                   "cancelled")] = None,
) -> None:
    """List transfers (running and queued first)."""
    with open_core() as core:
        rows = core.transfers.list(state)
    table = Table("id", "kind", "state", "source", "path", "progress", "attempts", "error")
    for t in rows:
        pct = f"{100 * t.bytes_done / t.bytes_total:.0f} %" if t.bytes_total else ""
        table.add_row(str(t.id), t.kind, t.state, str(t.source_id or ""), t.remote_path,
                      pct, str(t.attempts), (t.error or "")[:60])
    console.print(table)


@transfer_app.command("cancel")
def cancel_cmd(transfer_id: Annotated[int, typer.Argument(help="Transfer id.")]) -> None:
    """Cancel a queued or running transfer."""
    with open_core() as core:
        t = core.transfers.cancel(transfer_id)
    console.print(f"cancelled transfer {t.id}")


def sync_command(
    source: Annotated[str, typer.Argument(help="Source name or id.")],
) -> None:
    """Compare a source with the library: added / updated / deleted (soft) / errors,
    kept in the sync history. An unreachable source is an error, never deletions."""
    from reelhouse.transfers.sync import run_sync

    with open_core() as core:
        row = core.sources.find(source)
        with console.status(Text(f"syncing {row.name}…")):  # a name is text, not markup
            run = run_sync(core, row.id)
    if run.state not in ("done", "partial"):
        raise e.SourceUnavailable(f"sync of {row.name!r} failed: {'; '.join(run.errors)}")
    # partial: some folders could not be listed, the others were synced (as `scan` says it)
    mark = ("✓", "") if run.state == "done" else ("⚠ partial:", "yellow")
    console.print(Text(mark[0], style=mark[1]),
                  f"{row.name}: {run.added} added, {run.updated} updated, {run.deleted} "
                  f"deleted, {run.restored} restored, {run.unchanged} unchanged, "
                  f"{len(run.errors)} errors")
    for line in run.errors[:10]:
        console.print(f"  ! {line}", style="yellow")
    if run.state == "partial":
        raise e.SourceUnavailable(f"sync of {row.name!r} was partial: folders that could not be "
                                  "listed were left as they were")
