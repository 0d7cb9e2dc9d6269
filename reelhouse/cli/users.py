"""``reelhouse user add|list|passwd|disable|enable|remove``.

A password never has to be on the command line (where ``ps`` and shell history see
it): it is asked for (twice, without echo), read from ``--password-file`` (``-`` for
standard input; the first line, without its line break) or taken from the
environment variable ``REELHOUSE_NEW_PASSWORD``. Changing a password, disabling or
removing a user ends their sessions at once, in every running server.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from reelhouse import errors as e
from reelhouse.cli.common import console, open_core

if TYPE_CHECKING:
    from reelhouse.auth.users import UserChange

__all__ = ["PASSWORD_ENV", "read_password", "user_app"]

PASSWORD_ENV = "REELHOUSE_NEW_PASSWORD"

user_app = typer.Typer(help="Manage users: add, list, passwd, disable, enable, remove.",
                       no_args_is_help=True)
_PasswordFile = Annotated[str | None, typer.Option(
    "--password-file", help=f"Read the password from this file ('-': stdin). Else ${PASSWORD_ENV}, "
    "else a prompt.")]


def read_password(password_file: str | None, prompt: str = "password") -> str:
    """The new password from ``password_file``, ``$REELHOUSE_NEW_PASSWORD`` or a prompt
    (asked twice); raises InvalidInput when there is none or the two differ."""
    if password_file is not None:
        try:
            text = sys.stdin.read() if password_file == "-" else Path(password_file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise e.InvalidInput(f"cannot read the password file: {exc}") from exc
        password = text.splitlines()[0] if text else ""
        if not password:
            raise e.InvalidInput("the password file is empty")
        return password
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if not sys.stdin.isatty():
        raise e.InvalidInput(f"no password: use --password-file, ${PASSWORD_ENV} or a terminal")
    password = getpass.getpass(f"{prompt}: ")
    if password != getpass.getpass("again: "):
        raise e.InvalidInput("the passwords differ")
    return password


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    admin: Annotated[bool, typer.Option("--admin", help="An admin (manages sources and users).")] = False,
    password_file: _PasswordFile = None,
    password: Annotated[str | None, typer.Option(hidden=True, help="Deprecated: seen by ps.")] = None,
) -> None:
    """Create a user."""
    with open_core() as core:
        core.users.check_new_name(name)  # before the password is typed (twice)
        secret = password if password is not None else read_password(password_file)
        core.users.add(name, secret, is_admin=admin)
        core.audit.record("user.create", user_name="(cli)", target=name)
    console.print(f"added {'admin' if admin else 'user'} {name!r}")


@user_app.command("list")
def user_list() -> None:
    """Show every user with role, state and source restriction."""
    from reelhouse.auth.access import sees_all

    with open_core() as core:
        table = Table("id", "name", "role", "state", "sources", "sessions")
        for u in core.users.list():
            sources = "all" if sees_all(u) else ", ".join(map(str, core.users.granted_sources(u.id))) or "none"
            table.add_row(str(u.id), u.name, "admin" if u.is_admin else "user",
                          "disabled" if u.disabled else "enabled", sources,
                          str(len(core.auth_sessions.list(u.id))))
    console.print(table)


@user_app.command("passwd")
def user_passwd(
    name: Annotated[str, typer.Argument(help="User name.")],
    password_file: _PasswordFile = None,
) -> None:
    """Set a user's password; their sessions end."""
    from reelhouse.auth.users import UserChange

    with open_core() as core:
        core.users.by_name(name)  # an unknown name is said before the password is typed
    secret = read_password(password_file, f"new password for {name}")
    _change(name, UserChange(password=secret), "password changed; sessions ended", "user.password")


@user_app.command("disable")
def user_disable(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Stop a user from logging in; their sessions and API keys stop working at once."""
    from reelhouse.auth.users import UserChange

    _change(name, UserChange(disabled=True), "disabled", "user.disable")


@user_app.command("enable")
def user_enable(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Let a disabled user log in again."""
    from reelhouse.auth.users import UserChange

    _change(name, UserChange(disabled=False), "enabled", "user.enable")


@user_app.command("remove")
def user_remove(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Delete a user (not the last enabled admin)."""
    with open_core() as core:
        core.users.remove(core.users.by_name(name).id)
        core.audit.record("user.delete", user_name="(cli)", target=name)
    console.print(f"removed {name!r}")


def _change(name: str, change: UserChange, done: str, action: str) -> None:
    with open_core() as core:
        core.users.update(core.users.by_name(name).id, change)
        core.audit.record(action, user_name="(cli)", target=name)
    console.print(f"{name}: {done}")
