"""The whole stack on PostgreSQL: migrations, sources, a scan, the library, a rescan.

Runs only when ``REELHOUSE_TEST_POSTGRES_URL`` names a database
(``postgresql+psycopg://user:pass@host/db``); each test works in a schema of its own,
dropped afterwards, so the database can be shared.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import Base
from reelhouse.server import create_app

from helpers import ADMIN, ADMIN_PASSWORD, place, postgres_schema, wait_job

URL = os.environ.get("REELHOUSE_TEST_POSTGRES_URL", "")

pytestmark = [
    pytest.mark.requires_postgres,
    pytest.mark.skipif(not URL, reason="set REELHOUSE_TEST_POSTGRES_URL to a "
                       "postgresql+psycopg:// URL to run the PostgreSQL tests"),
]


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_schema(URL, "rh_test") as url:
        yield url


@pytest.fixture
def pg_core(pg_url: str, tmp_path: Path) -> Iterator[Core]:
    core = Core(load_settings(data_dir=tmp_path / "data", database_url=pg_url))
    yield core
    core.close()


def test_migrations_apply_and_are_idempotent(pg_url: str, pg_core: Core, tmp_path: Path) -> None:
    assert pg_core.engine.dialect.name == "postgresql"
    names = set(inspect(pg_core.engine).get_table_names())
    assert set(Base.metadata.tables) <= names
    assert "alembic_version" in names
    with pg_core.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    assert version and schema.startswith("rh_test_")
    again = Core(load_settings(data_dir=tmp_path / "data2", database_url=pg_url))
    try:
        with again.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == version
    finally:
        again.close()


@pytest.mark.requires_ffmpeg
def test_scan_library_and_rescan(pg_core: Core, tmp_path: Path, sample_mp4: Path,
                                 sample_mkv: Path) -> None:
    disk = tmp_path / "disk"
    place(sample_mp4, disk, "Big Buck Bunny (2008)/Big.Buck.Bunny.2008.1080p.mp4")
    place(sample_mkv, disk, "The Office (US)/Season 01/The.Office.S01E01.mkv")
    place(sample_mkv, disk, "Amélie (2001)/Amélie [1080p] \"Director's Cut\".mkv")
    pg_core.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
    with TestClient(create_app(pg_core)) as c:
        token = c.post("/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
        c.headers["authorization"] = f"Bearer {token.json()['token']}"
        r = c.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(disk)})
        assert r.status_code == 201
        sid = r.json()["id"]
        assert c.post("/api/sources", json={"name": "disk", "kind": "local",
                                            "path": str(disk)}).status_code == 409
        job = wait_job(c, c.post(f"/api/sources/{sid}/scan").json()["id"])
        assert job["state"] == "done", job
        assert job["progress"]["added"] == 3 and job["progress"]["probed"] == 3
        items = c.get("/api/library/items").json()
        assert sorted((i["type"], i["title"]) for i in items["items"]) == [
            ("movie", "Amélie"), ("movie", "Big Buck Bunny"), ("show", "The Office (US)")]
        assert [i["title"] for i in c.get("/api/library/items",
                                          params={"q": "bunny"}).json()["items"]] == ["Big Buck Bunny"]
        files = c.get("/api/library/media-files").json()["items"]
        assert {f["container"] for f in files} == {"mp4", "mkv"}
        assert all(f["duration"] == pytest.approx(12.0, abs=0.2) for f in files)
        before = {f["id"]: {k: v for k, v in f.items() if k != "last_seen"} for f in files}
        job = wait_job(c, c.post(f"/api/sources/{sid}/scan").json()["id"])
        assert job["state"] == "done"
        p = job["progress"]
        assert (p["added"], p["updated"], p["probed"], p["missing"], p["unchanged"]) == (
            0, 0, 0, 0, 3)
        after = {f["id"]: {k: v for k, v in f.items() if k != "last_seen"}
                 for f in c.get("/api/library/media-files").json()["items"]}
        assert after == before
        show = c.get("/api/library/shows").json()["items"][0]
        assert show["seasons"][0]["episodes"][0]["number"] == 1
        fid = files[0]["id"]
        r = c.get(f"/api/library/media-files/{fid}/stream", headers={"range": "bytes=0-9"})
        assert r.status_code == 206 and len(r.content) == 10
        assert c.delete(f"/api/sources/{sid}").status_code == 204
        assert c.get("/api/library/items").json()["total"] == 0
