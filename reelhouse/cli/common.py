"""What every command group shares: the consoles and how a command builds its Core
(:func:`open_core`: made for the command, closed when it ends, whatever happens)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rich.console import Console

from reelhouse.config import Settings, load_settings
from reelhouse.redaction import Redactor, redact

if TYPE_CHECKING:  # imported when a command makes one: ``drive`` commands never do
    from reelhouse.core import Core

__all__ = ["console", "err_console", "make_core", "open_core", "scrub"]

#: Without Rich markup: what they print holds names (sources, files, folders) in which
#: square brackets are text (``Film [h264]``, a source ``disk[/x]``), never style tags;
#: colour goes through ``style=``.
console = Console(markup=False)
err_console = Console(stderr=True, markup=False)

#: The redactor of the last Core a command made: error lines are printed after the
#: command closed its Core (cli/root.py), and its secrets (sources' passwords) are
#: still what an error text may hold.
_redactors: list[Redactor] = []


def scrub(text: str) -> str:
    """``text`` fit for the terminal: without the secrets the last Core knows (an FTP
    server may say the password back in its 530 reply) and without credential query
    parameters or URL passwords (:func:`reelhouse.redaction.redact`)."""
    for redactor in _redactors:
        text = redactor(text)
    return redact(text)


def make_core(settings: Settings | None = None, consume_jobs: bool = False) -> Core:
    """The services; one-shot commands never pick up queued jobs (only ``serve`` and
    ``worker`` run them) and touch no job they did not start."""
    from reelhouse.core import Core

    core = Core(settings or load_settings(), consume_jobs=consume_jobs)
    _redactors[:] = [core.redactor]
    return core


@contextlib.contextmanager
def open_core(settings: Settings | None = None, consume_jobs: bool = False) -> Iterator[Core]:
    """:func:`make_core` for the length of a ``with`` block; the Core is closed when the
    block ends, by an error too (pools, database engine, job consumers)."""
    core = make_core(settings, consume_jobs)
    try:
        yield core
    finally:
        core.close()
