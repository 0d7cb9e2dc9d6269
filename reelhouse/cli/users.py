"""``reelhouse user add``."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from reelhouse import errors as e
from reelhouse.cli.common import console, make_core

__all__ = ["user_app"]

user_app = typer.Typer(help="Manage users.", no_args_is_help=True)


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    admin: Annotated[bool, typer.Option("--admin", help="May manage sources.")] = False,
    password: Annotated[str | None, typer.Option(help="Password (asked if not given).")] = None,
) -> None:
    """Create a user."""
    if password is None:
        password = getpass.getpass("password: ")
        if password != getpass.getpass("again: "):
            raise e.InvalidInput("the passwords differ")
    core = make_core()
    try:
        core.users.add(name, password, is_admin=admin)
    finally:
        core.close()
    console.print(f"added {'admin' if admin else 'user'} {name!r}")
