"""``reelhouse source add|list|remove|test``."""

from __future__ import annotations

import asyncio
import getpass
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from reelhouse import errors as e
from reelhouse.cli.common import console, open_core

if TYPE_CHECKING:  # the Core (all of reelhouse) is imported by the command that makes one
    from reelhouse.core import Core

__all__ = ["source_app"]

source_app = typer.Typer(help="Add, list, test and remove sources.", no_args_is_help=True)


def _ask_password(prompt: str) -> str:
    """The source's password from the terminal; with none to ask on (a script, cron) an
    InvalidInput, not getpass's warning and click's 'Aborted.'."""
    if not sys.stdin.isatty():
        raise e.InvalidInput("no password: give --password, or run it in a terminal")
    return getpass.getpass(prompt)


@source_app.command("add")
def source_add(
    name: Annotated[str, typer.Argument(help="A name for the source.")],
    local: Annotated[str | None, typer.Option(help="Local folder (absolute path).")] = None,
    ftp: Annotated[str | None, typer.Option(help="FTP host name or address.")] = None,
    jellyfin: Annotated[str | None, typer.Option(help="A Jellyfin server's address "
                                                      "(http://host:8096).")] = None,
    port: Annotated[int | None, typer.Option(help="FTP port (21, or 990 for implicit TLS).")] = None,
    user: Annotated[str | None, typer.Option(help="FTP or Jellyfin user (FTP: anonymous if not given).")] = None,
    password: Annotated[str | None, typer.Option(help="Its password (asked if --user is given).")] = None,
    tls: Annotated[str, typer.Option(help="none | explicit | implicit")] = "none",
    root: Annotated[str, typer.Option(help="Folder on the server to use (default: the login folder).")] = "",
    verify_tls: Annotated[bool, typer.Option(help="Verify the server's TLS certificate.")] = True,
    tls_cert: Annotated[str | None, typer.Option(help="PEM file of a certificate to trust "
                                                      "(a self-signed server's).")] = None,
) -> None:
    """Add a local folder (--local PATH), an FTP server (--ftp HOST) or a Jellyfin server
    (--jellyfin URL --user U --password P)."""
    if sum(x is not None for x in (local, ftp, jellyfin)) != 1:
        raise e.InvalidInput("give exactly one of --local PATH or --ftp HOST (or --jellyfin URL)")
    from reelhouse.sources.registry import SourceSpec  # here: ``drive`` commands never load it

    if jellyfin is not None:
        if not user:
            raise e.InvalidInput("a Jellyfin source needs --user")
        if password is None:
            password = _ask_password(f"Jellyfin password for {user}: ")
        spec = SourceSpec(name=name, kind="jellyfin", path=jellyfin, username=user, password=password)
    elif local is not None:
        from pathlib import Path

        spec = SourceSpec(name=name, kind="local", path=str(Path(local).expanduser().resolve()))
    else:
        if user and password is None:
            password = _ask_password(f"FTP password for {user}@{ftp}: ")
        spec = SourceSpec(name=name, kind="ftp", host=ftp, port=port, username=user,
                          password=password or "", tls=tls, path=root, verify_tls=verify_tls,
                          tls_cert=tls_cert)
    with open_core() as core:
        row = core.sources.create(spec)
    console.print(f"added source {row.name!r} (id {row.id})")


@source_app.command("list")
def source_list() -> None:
    """List the sources."""
    with open_core() as core:
        rows = core.sources.list()
    table = Table("id", "name", "kind", "where", "tls", "last scan", "last error")
    for r in rows:
        where = (r.path if r.kind == "local" else f"{r.username}@{r.path}" if r.kind == "jellyfin"
                 else f"{r.username or 'anonymous'}@{r.host}:{r.port}{r.path}")
        table.add_row(str(r.id), r.name, r.kind, where, r.tls if r.kind == "ftp" else "",
                      str(r.last_scan_at or ""), r.last_error or "")
    console.print(table)


@source_app.command("remove")
def source_remove(name: Annotated[str, typer.Argument(help="Source name or id.")]) -> None:
    """Remove a source and its files from the library (nothing on the source is touched).
    The watch parties of its films end first, as the API's removal ends them."""
    with open_core() as core:
        row = core.sources.find(name)
        ended = _end_parties(core, row.id)
        core.sources.remove(row.id)
    console.print(f"removed source {row.name!r}" + (f"; {len(ended)} watch parties ended" if ended else ""))


def _end_parties(core: Core, source_id: int) -> list[str]:
    """End the open parties of the source's films as the API's removal does
    (:meth:`PartyLive.end_source`): with a Redis hub (``party_redis_url`` or
    ``redis_url``) every server's members hear it at once and their sockets close with
    4410; without one (one server process, no shared hub) the parties end in the
    database and the server's sockets close within ``RECHECK_SECONDS`` (10 s) of it
    (``reelhouse/api/party_socket.py``)."""
    from reelhouse.party.live import PartyLive  # heavy (the party hub): only when a source goes

    settings = core.settings
    live = PartyLive(core.parties, settings.party_redis_url or settings.redis_url)

    async def run() -> list[str]:
        try:
            return await live.end_source(source_id)
        finally:
            await live.close()

    return asyncio.run(run())


@source_app.command("test")
def source_test(name: Annotated[str, typer.Argument(help="Source name or id.")]) -> None:
    """Connect to a source and list its root folder."""
    import time

    with open_core() as core:
        row = core.sources.find(name)
        src = core.sources.build(row)
        start = time.perf_counter()
        try:
            entries = src.list("")
        finally:
            src.close()
    ms = (time.perf_counter() - start) * 1000
    console.print(f"ok: {row.name!r} answered in {ms:.0f} ms; {len(entries)} entries in its root")
