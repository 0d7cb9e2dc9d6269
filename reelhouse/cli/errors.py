"""The one place where reelhouse errors become exit codes: by class, from the error
tree (:mod:`reelhouse.errors`), never from message text."""

from __future__ import annotations

from reelhouse import errors as e

__all__ = ["EXIT_CODES", "exit_code"]

#: Exit codes by error class (most specific first); 2 is also click's usage error;
#: any other ReelhouseError exits 1, Ctrl-C 130.
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


def exit_code(exc: e.ReelhouseError) -> int:
    """The exit code of an error: that of its most specific class in ``EXIT_CODES``, else 1."""
    return next((code for cls, code in EXIT_CODES if isinstance(exc, cls)), 1)
