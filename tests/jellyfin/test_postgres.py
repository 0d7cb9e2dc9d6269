"""Genres, GenreIds and DisplayPreferences on PostgreSQL (JSON genres compared as text,
the display_prefs upsert): runs only when ``REELHOUSE_TEST_POSTGRES_URL`` names a
database; the test works in a schema of its own, dropped afterwards."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jellyfin.support import AUTH, set_genres

from reelhouse.core import Core
from reelhouse.server import create_app

from helpers import ADMIN, ADMIN_PASSWORD, admin_core, place, postgres_schema, wait_job

URL = os.environ.get("REELHOUSE_TEST_POSTGRES_URL", "")

pytestmark = [
    pytest.mark.requires_postgres, pytest.mark.requires_ffmpeg,
    pytest.mark.skipif(not URL, reason="set REELHOUSE_TEST_POSTGRES_URL to a "
                       "postgresql+psycopg:// URL to run the PostgreSQL tests"),
]


@pytest.fixture
def pg_core(tmp_path: Path) -> Iterator[Core]:
    with postgres_schema(URL, "rh_jf") as url, admin_core(tmp_path / "data", database_url=url) as core:
        yield core


@contextlib.contextmanager
def _two_films(core: Core, tmp_path: Path, sample_mp4: Path) -> Iterator[TestClient]:
    """A client of ``core``'s app logged in as the admin (Jellyfin token), over a scanned
    local source of two films (Sintel, Heat)."""
    root = tmp_path / "media"
    for rel in ("Sintel (2010)/Sintel.2010.mp4", "Heat (1995)/Heat.1995.mp4"):
        place(sample_mp4, root, rel)
    with TestClient(create_app(core)) as c:
        r = c.post("/jellyfin/Users/AuthenticateByName", json={"Username": ADMIN, "Pw": ADMIN_PASSWORD},
                   headers={"authorization": AUTH})
        c.headers["x-emby-token"] = r.json()["AccessToken"]
        c.headers["authorization"] = f"Bearer {r.json()['AccessToken']}"
        sid = c.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(root)}).json()["id"]
        assert wait_job(c, c.post(f"/api/sources/{sid}/scan").json()["id"])["state"] == "done"
        yield c


def test_genres_and_prefs_on_postgres(pg_core: Core, tmp_path: Path, sample_mp4: Path) -> None:
    with _two_films(pg_core, tmp_path, sample_mp4) as c:
        set_genres(pg_core, "Sintel", ["Animation", "Comédie"])
        set_genres(pg_core, "Heat", ["animation", "Crime \\ \"Noir\""])
        genres = c.get("/jellyfin/Genres", params={"Fields": "ItemCounts"}).json()["Items"]
        # one genre whatever the case; on a tie the spelling that sorts first
        assert [(g["Name"], g["MovieCount"]) for g in genres] == [
            ("Animation", 2), ("Comédie", 1), ("Crime \\ \"Noir\"", 1)]
        def names(**params: str) -> list[str]:
            return [i["Name"] for i in c.get("/jellyfin/Items", params={"Recursive": "true", **params}).json()["Items"]]
        assert names(GenreIds=genres[1]["Id"]) == ["Sintel"]
        assert names(Genres="COMéDIE") == ["Sintel"]  # by name: ASCII letters in any case (library/grid.py)
        assert names(Genres="crime \\ \"noir\"") == ["Heat"]
        assert names(GenreIds=genres[0]["Id"]) == ["Heat", "Sintel"]
        for order in ("Ascending", "Descending"):  # the second save updates the row
            assert c.post("/jellyfin/DisplayPreferences/films", params={"client": "emby"},
                          json={"SortOrder": order, "CustomPrefs": {"k": "é"}}).status_code == 204
        saved = c.get("/jellyfin/DisplayPreferences/films", params={"client": "emby"}).json()
        assert (saved["SortOrder"], saved["CustomPrefs"]) == ("Descending", {"k": "é"})


def test_syncplay_queue_on_postgres(pg_core: Core, tmp_path: Path, sample_mp4: Path) -> None:
    """The SyncPlay queue (JSON, optimistic locking) on PostgreSQL: a queue of two
    films through the API; then writers racing on one queue — eight apps asking for
    the next item with the same PlaylistItemId move it once, eight appends all land."""
    from concurrent.futures import ThreadPoolExecutor

    from reelhouse.db.models import SyncPlayQueue, WatchSession
    from reelhouse.jellyfin.syncplay_groups import SyncPlayGroups

    with _two_films(pg_core, tmp_path, sample_mp4) as c:
        films = [i["Id"] for i in c.get("/jellyfin/Items", params={"Recursive": "true",
                                                                    "IncludeItemTypes": "Movie"}).json()["Items"]]
        assert c.post("/jellyfin/SyncPlay/New", json={"GroupName": "pg"}).status_code == 200
        r = c.post("/jellyfin/SyncPlay/SetNewQueue", json={"PlayingQueue": films, "PlayingItemPosition": 0})
        assert r.status_code == 204, r.text
        assert c.post("/jellyfin/SyncPlay/Queue", json={"ItemIds": films[:1], "Mode": "QueueNext"}).status_code == 204
        with pg_core.sessions() as s:
            party = s.query(WatchSession).one()
            row = s.get(SyncPlayQueue, party.id)
            assert row is not None and row.version == 2
            pids = [p for _, p, _ in row.data["items"]]
            assert [i for i, _, _ in row.data["items"]] == [films[0], films[0], films[1]]
        info = pg_core.parties.get(party.code)
        groups = SyncPlayGroups(pg_core)
        with ThreadPoolExecutor(8) as pool:
            moved = list(pool.map(lambda _: groups.change_queue(
                info, lambda q: q.next(1.0) if q.playing == pids[0] else None)[1], range(8)))
        assert sum(m is not None for m in moved) == 1
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: groups.change_queue(
                info, lambda q: q.add([(films[1], 0)], "Queue", 2.0, lambda: f"extra{n}")), range(8)))
        queue, version = groups.queue(info)
        assert queue.playing == pids[1] and version == 2 + 1 + 8
        assert sorted(e.playlist_item_id for e in queue.items[3:]) == sorted(f"extra{n}" for n in range(8))
