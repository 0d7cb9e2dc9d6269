"""``reelhouse offline list|keep|release|remove``: the server operator's view of the
offline copies. One copy per file, shared by every user who keeps it (each holds a
claim); the copy and its file go with the last claim. ``--user NAME`` shows or acts on
that user's claims only, as the user sees them in the web page and the API."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from reelhouse import errors as e
from reelhouse.cli.common import console, open_core

__all__ = ["offline_app"]

offline_app = typer.Typer(help="Offline copies: list, keep, release (one user's claim), remove.",
                          no_args_is_help=True)

_User = Annotated[str, typer.Option("--user", help="The user whose claim it is.")]


@offline_app.command("list")
def offline_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's claims.")] = None,
) -> None:
    """Show every copy with who keeps it (or one user's claims)."""
    with open_core() as core:
        if user is not None:
            table = Table("claim", "copy", "scope", "file", "state", "bytes")
            for v in core.offline.mine(core.users.by_name(user).id):
                table.add_row(str(v.claim_id), str(v.copy.id), v.copy.scope, str(v.copy.media_file_id),
                              v.copy.state, str(v.copy.size))
        else:
            table = Table("copy", "scope", "file", "state", "bytes", "kept by (claim)")
            for entry in core.offline.every_copy():
                owners = ", ".join(f"{name} ({cid})" for cid, _, name, _ in entry.claims) or "nobody"
                table.add_row(str(entry.copy.id), entry.copy.scope, str(entry.copy.media_file_id),
                              entry.copy.state, str(entry.copy.size), owners)
    console.print(table)


@offline_app.command("keep")
def offline_keep(
    scope: Annotated[str, typer.Argument(help="movie:<id> or season:<id>.")],
    user: _User,
) -> None:
    """Keep a film or season offline for a user (their granted sources' files); the
    running server downloads what is not there yet."""
    with open_core() as core:
        who = core.users.by_name(user)
        copies = core.offline.keep(scope, who.id, core.access.allowed(who))
    states = ", ".join(f"file {c.media_file_id}: {c.state}" for c in copies)
    console.print(f"kept {scope} offline for {user}: {states}")


@offline_app.command("release")
def offline_release(
    scope: Annotated[str | None, typer.Argument(help="movie:<id> or season:<id>.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="The user whose claims go.")] = None,
    claim: Annotated[int | None, typer.Option("--claim", help="One claim, by id (see list).")] = None,
) -> None:
    """Release a user's claims on a scope (``SCOPE --user NAME``) or one claim
    (``--claim ID``); a copy goes with its last claim."""
    with open_core() as core:
        if claim is not None and scope is None and user is None:
            core.offline.release_claim(claim, None)
            console.print(f"released claim {claim}")
            return
        if claim is not None or scope is None or user is None:
            raise e.InvalidInput("give SCOPE --user NAME, or --claim ID")
        if not core.offline.release(scope, core.users.by_name(user).id):
            raise e.NotFound(f"{user} keeps nothing offline in {scope}")
    console.print(f"released {scope} for {user}")


@offline_app.command("remove")
def offline_remove(copy: Annotated[int, typer.Argument(help="Copy id (see list).")]) -> None:
    """Remove a copy, its file and every claim on it."""
    with open_core() as core:
        core.offline.remove_copy(copy)
    console.print(f"removed offline copy {copy}")
