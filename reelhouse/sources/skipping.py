"""How many bytes a range read may throw away to reach its offset, for the caller that
asks (:data:`skip_allowance`).

A source that cannot start a read at an offset (an FTP server refusing ``REST``:
sources/ftp/reads.py) reads from byte 0 and discards up to the offset. Its own limit
(``FtpConfig.max_skip``) bounds one read; a caller with a budget of its own (a probe:
``sources/reader.py``) sets a :class:`SkipAllowance` in this context variable, and the
source charges what it discards to it and refuses a skip past what is left. A context
variable, not an argument: the ``Source.read_range`` protocol stays the same for every
source, and only the callers that care set it.

A skip reads up to ``max_skip`` bytes before the caller gets its first one: a caller
that goes away meanwhile says so with :data:`skip_stop` (a check the skip calls between
chunks: a download's cancel, transfers/copy.py); an async read stops its skip when its
task is cancelled (an HTTP client gone: sources/ftp/reads.py).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

__all__ = ["SkipAllowance", "allowed_skip", "skip_allowance", "skip_stop"]


class SkipAllowance:
    """A caller's budget of discarded bytes: ``left`` (bytes) goes down by each skip."""

    __slots__ = ("left",)

    def __init__(self, left: int) -> None:
        self.left = max(0, left)

    def charge(self, skipped: int) -> None:
        """Count ``skipped`` bytes (>= 0) read and thrown away."""
        self.left = max(0, self.left - skipped)


#: The allowance of the reads made in this context (thread or task), or None: the
#: source's own limit only.
skip_allowance: ContextVar[SkipAllowance | None] = ContextVar("skip_allowance", default=None)


def allowed_skip(limit: int) -> tuple[int, SkipAllowance | None]:
    """The most bytes a read made now may skip: ``limit`` (the source's own, bytes),
    lowered to the context's :class:`SkipAllowance`, and that allowance (to charge)."""
    allowance = skip_allowance.get()
    if allowance is None:
        return limit, None
    return min(limit, allowance.left), allowance


#: A check that says the caller of the reads made in this context has gone (True: stop
#: skipping), or None. Called from the thread that skips, once per chunk skipped.
skip_stop: ContextVar[Callable[[], bool] | None] = ContextVar("skip_stop", default=None)
