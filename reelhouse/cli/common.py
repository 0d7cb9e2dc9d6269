"""What every command group shares: the consoles and how a command builds its Core."""

from __future__ import annotations

from rich.console import Console

from reelhouse.config import Settings, load_settings
from reelhouse.core import Core

__all__ = ["console", "err_console", "make_core"]

console = Console()
err_console = Console(stderr=True)


def make_core(settings: Settings | None = None, consume_jobs: bool = False) -> Core:
    """The services; one-shot commands never pick up queued jobs (only ``serve`` and
    ``worker`` run them) and touch no job they did not start."""
    return Core(settings or load_settings(), consume_jobs=consume_jobs)
