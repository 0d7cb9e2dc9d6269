"""The root command: every command group registered on one Typer app, and the entry
point that turns reelhouse errors into one line on stderr and an exit code
(:mod:`reelhouse.cli.errors`). No tracebacks for user mistakes."""

from __future__ import annotations

import os
import sys
import threading

import typer
from rich.text import Text

from reelhouse import errors as e
from reelhouse.cli.common import err_console, scrub
from reelhouse.cli.drive import drive_app
from reelhouse.cli.errors import exit_code
from reelhouse.cli.offline import offline_app
from reelhouse.cli.scan import scan
from reelhouse.cli.serve import demo, serve, worker
from reelhouse.cli.sources import source_app
from reelhouse.cli.transfers import sync_command, transfer_app
from reelhouse.cli.users import user_app

__all__ = ["app", "main"]

app = typer.Typer(
    help="reelhouse: a media server for films and series on FTP servers and local disks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(serve)
app.command()(demo)
app.add_typer(source_app, name="source")
app.command()(scan)
app.command("sync")(sync_command)
app.add_typer(transfer_app, name="transfer")
app.add_typer(offline_app, name="offline")
app.command()(worker)
app.add_typer(user_app, name="user")
app.add_typer(drive_app, name="drive")


def main() -> None:
    """Entry point: run the CLI, turning reelhouse errors into one line and an exit code."""
    try:
        app()
    except e.ReelhouseError as exc:
        err_console.print(Text.assemble(("error:", "red"), f" {scrub(exc.message)}"), highlight=False,
                          soft_wrap=True)  # one line, whatever the terminal's width
        sys.exit(exit_code(exc))
    except KeyboardInterrupt:
        _interrupted()
        sys.exit(130)
    except SystemExit as exc:
        if exc.code == 130:  # Typer turns Ctrl-C into a silent exit 130
            _interrupted()
        raise


#: Seconds the interpreter may take to end after Ctrl-C (its exit joins every
#: non-daemon thread, and a worker thread in an FTP connect would hold it until the
#: connect timeout): then the process ends anyway, with exit code 130.
EXIT_GRACE = 1.0


def _interrupted() -> None:
    """Say so, and make sure the process ends within :data:`EXIT_GRACE` seconds. Nothing
    is lost by the hard exit: database writes are transactions (an unfinished one rolls
    back) and transfers resume from their ``.part``."""
    err_console.print("interrupted")
    sys.stderr.flush()
    timer = threading.Timer(EXIT_GRACE, os._exit, args=(130,))
    timer.daemon = True
    timer.start()
