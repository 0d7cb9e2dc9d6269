"""``reelhouse scan [SOURCE]``."""

from __future__ import annotations

from typing import Annotated

import typer

from reelhouse import errors as e
from reelhouse.cli.common import console, open_core
from reelhouse.cli.progress import scan_with_progress

__all__ = ["scan"]


def scan(
    source: Annotated[str | None, typer.Argument(help="Source name or id (all if omitted).")] = None,
) -> None:
    """Scan one source (or all) into the library, with a progress bar."""
    with open_core() as core:
        rows = [core.sources.find(source)] if source is not None else core.sources.list()
        if not rows:
            raise e.NotFound("no sources yet: add one with `reelhouse source add`")
        failed = scan_with_progress(core, rows, console)
    if failed:
        raise e.SourceUnavailable(f"{failed} source(s) could not be scanned completely")
