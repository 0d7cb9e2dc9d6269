"""The scan progress bar of the CLI (rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from reelhouse.cli.common import scrub
from reelhouse.errors import ReelhouseError

if TYPE_CHECKING:
    from reelhouse.core import Core
    from reelhouse.db.models import SourceRow

__all__ = ["scan_with_progress"]


def scan_with_progress(core: Core, rows: list[SourceRow], console: Console) -> int:
    """Scan each source in turn; returns how many failed or ended partial (folders that
    could not be listed); their errors are printed."""
    failed = 0
    for row in rows:
        with Progress(
            TextColumn("{task.fields[source]}", style="bold", markup=False),  # names are text
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}", markup=False),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as bar:
            task = bar.add_task("scan", total=None, source=row.name, note="listing")

            def progress(counts: dict[str, int], message: str, task: object = task) -> None:
                total: int | None
                probing = counts.get("to_probe", 0) > 0 and counts.get("done", 0) >= counts.get("total", 0)
                if probing:  # phase 2: the library is browsable; probes and metadata go on
                    total, done = counts["to_probe"], counts.get("probe_done", 0)
                    note = f"{counts.get('files_seen', 0)} files indexed; probing — {message[-50:]}"
                else:
                    total, done = counts.get("total"), counts.get("done", 0)
                    note = f"{counts.get('folders', 0)} folders, {counts.get('files_seen', 0)} files — {message[-50:]}"
                bar.update(task, total=total, completed=done, note=note)  # type: ignore[arg-type]

            try:
                report = core.jobs.run_scan_now(row.id, progress)
            except ReelhouseError as exc:
                failed += 1
                console.print(f"✗ {row.name}: {scrub(exc.message)}", style="red")
                continue
        c = report.counts()
        outcome = report.outcome
        if outcome != "done":  # folders that could not be listed: not a complete scan
            failed += 1
        mark = {"done": ("✓", ""), "partial": ("⚠ partial:", "yellow"), "failed": ("✗ failed:", "red")}[outcome]
        console.print(
            Text(mark[0], style=mark[1]),
            f"{row.name}: {c['files_seen']} files in {c['folders']} folders — "
            f"{c['added']} added, {c['updated']} updated, {c['moved']} moved, {c['missing']} missing, "
            f"{c['probed']} probed, {c['matched']} matched, {c['errors']} errors"
        )
        if report.folder_errors:
            console.print(f"  {len(report.folder_errors)} of "
                          f"{len(report.folder_errors) + c['folders']} folders could not be listed "
                          "(their files were left as they were):", style="yellow")
        if c["unreadable"]:
            console.print(f"  {c['unreadable']} files cannot be played (broken, cut short, not a video or "
                          "empty): not shown as films or episodes", style="yellow")
        for line in (report.folder_errors or report.errors)[:10]:
            console.print(f"  ! {line}", style="yellow")
        for line in report.notes[:10]:
            console.print(f"  · {line}")
    return failed
