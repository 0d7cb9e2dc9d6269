"""Shared by the Jellyfin API tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jellyfin_apiclient_python import JellyfinClient
from sqlalchemy import select

from reelhouse.core import Core
from reelhouse.db.models import Movie, Show

AUTH = ('MediaBrowser Client="reelhouse tests", Device="pytest", DeviceId="dev-1", '
        'Version="1.0"')


def ok(r: Any) -> Any:
    """The JSON body of response ``r``, asserting a 200 (its text otherwise)."""
    assert r.status_code == 200, r.text
    return r.json()


@dataclass
class Library:
    root: Path
    source_id: int
    files: dict[str, int]  # path relative to the source → media file id


def set_genres(core: Core, title: str, genres: list[str], table: type[Movie] | type[Show] = Movie) -> None:
    """Give the film (or, with ``table=Show``, the series) named ``title`` these genres,
    as a scan would from its NFO or TMDB."""
    with core.sessions() as s:
        row = s.scalar(select(table).where(table.title == title))
        assert row is not None, title
        row.genres = genres
        s.commit()


def apiclient(server: str, device: str) -> JellyfinClient:
    """A jellyfin-apiclient-python client of ``device`` that has found ``server`` (its
    ``/jellyfin`` base URL; nobody signed in yet).

    The library gives ``System/Info/Public`` 5 s; a loaded 2-core CI machine once took
    longer (the official CI run of stop 29 failed there), and a server it cannot find
    cannot be logged in to, so requests get 30 s.
    """
    c = JellyfinClient(allow_multiple_clients=True)
    c.config.app("reelhouse-tests", "1.0", device, device)
    c.config.data["auth.ssl"] = False
    c.auth.API.default_timeout = 30
    state = c.auth.connect_to_address(server)
    assert state.get("Servers"), state
    return c
