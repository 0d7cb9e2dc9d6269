"""The command line (Typer + rich), one module per command group:

- :mod:`.root`: the root app (every group registered there) and the entry point ``main``
- :mod:`.errors`: error class → exit code, the one place (``EXIT_CODES``)
- :mod:`.common`: consoles and the Core a command builds
- :mod:`.serve`: ``serve`` · ``demo`` · ``worker``
- :mod:`.sources`: ``source add|list|remove|test``
- :mod:`.scan`: ``scan``
- :mod:`.transfers`: ``transfer upload|download|list|cancel`` · ``sync``
- :mod:`.users`: ``user add``
- :mod:`.drive`: ``drive mount|unmount|status``
- :mod:`.progress`: the scan progress bar

A new group (e.g. ``drive``) is a module with its own ``typer.Typer`` and one
``app.add_typer(...)`` line in :mod:`.root`. ``reelhouse`` (console script),
``python -m reelhouse`` and ``python -m reelhouse.cli`` all run :func:`main`.
"""

from reelhouse.cli.errors import EXIT_CODES
from reelhouse.cli.root import app, main

__all__ = ["EXIT_CODES", "app", "main"]
