"""Names and changes users make on real FTP daemons, through the API: latin-1 names on
a server without UTF-8 (vsftpd ``utf8_filesystem=NO``) scanned, downloaded, kept
offline, uploaded and synced, every local copy under a valid UTF-8 name; and syncs of a
pure-ftpd and a vsftpd whose files were renamed, replaced by a folder of the same name
or the reverse: nothing lost locally, every run "done" with what it saw (a file that
became a folder and a folder that became a file were not marked missing: their names
were still listed)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelhouse.core import Core
from reelhouse.errors import InvalidInput
from reelhouse.transfers.sync import run_sync

from helpers import PURE_PASSWORD, PURE_USER, pure_ftpd, vsftpd, wait_job

pytestmark = pytest.mark.ftpd

from tests.transfers.test_offline_and_sync import wait_copies  # noqa: E402
from tests.transfers.test_transfers_api import wait_transfer  # noqa: E402

CAFE = b"Films/Caf\xe9 Society (2016)/Caf\xe9 Society (2016).mkv"
NINO = b"Films/Ni\xf1o (2004).mkv"


def _write(home: Path, raw: bytes, data: bytes) -> None:
    full = os.fsencode(home) + b"/" + raw
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(data)


def _add(api: TestClient, body: dict[str, object]) -> int:
    r = api.post("/api/sources", json={"name": "box", "kind": "ftp", "host": "127.0.0.1", **body})
    assert r.status_code == 201, r.text
    sid = int(r.json()["id"])
    job = wait_job(api, api.post(f"/api/sources/{sid}/scan").json()["id"])
    assert job["state"] == "done", job
    return sid


def _paths(api: TestClient, sid: int) -> set[str]:
    items = api.get("/api/library/media-files", params={"source_id": sid}).json()["items"]
    return {f["path"] for f in items}


def test_latin1_names_on_a_server_without_utf8(api: TestClient, tcore: Core, tmp_path: Path) -> None:
    anon = tmp_path / "anon"
    _write(anon, CAFE, b"c" * 300_001)
    _write(anon, NINO, b"n" * 200_003)
    (anon / "up").mkdir()
    (anon / "up").chmod(0o777)
    with vsftpd(tmp_path, anon, writable=True, options={"utf8_filesystem": "NO"}) as port:
        sid = _add(api, {"port": port})
        cafe, nino = "Films/Café Society (2016)/Café Society (2016).mkv", "Films/Niño (2004).mkv"
        assert _paths(api, sid) == {cafe, nino}

        # a download and an offline copy land under their UTF-8 names, whole
        r = api.post("/api/transfers", json={"kind": "download", "source_id": sid, "remote_path": nino})
        down = wait_transfer(api, r.json()["id"])
        assert down["state"] == "done", down
        assert Path(down["local_path"]).name == "Niño (2004).mkv"
        assert os.fsencode(down["local_path"]).decode("utf-8")  # a valid UTF-8 name on disk
        assert Path(down["local_path"]).read_bytes() == b"n" * 200_003
        movie = next(i for i in api.get("/api/library/items").json()["items"] if i["title"] == "Café Society")
        assert api.post(f"/api/library/movies/{movie['id']}/offline").status_code == 202
        assert [c["state"] for c in wait_copies(api, 1)] == ["ready"]
        copy = tcore.settings.store_dir / f"offline/{sid}" / cafe
        assert copy.read_bytes() == b"c" * 300_001

        # an upload is written in the server's encoding; a name it cannot hold is a 400
        r = api.put(f"/api/sources/{sid}/files", params={"path": "up/Amélie (2001).mkv"}, content=b"a" * 1000)
        assert r.status_code == 201, r.text
        assert (os.fsencode(anon) + b"/up/Am\xe9lie (2001).mkv") in [
            os.fsencode(anon / "up") + b"/" + n for n in os.listdir(os.fsencode(anon / "up"))]
        r = api.put(f"/api/sources/{sid}/files", params={"path": "up/5 €.mkv"}, content=b"e")
        assert r.status_code == 400 and "latin-1" in r.text, r.text

        # sync sees the upload, changes nothing else
        run = run_sync(tcore, sid)
        assert (run.state, run.added, run.deleted) == ("done", 1, 0), run.errors
        assert _paths(api, sid) == {cafe, nino, "up/Amélie (2001).mkv"}
        assert copy.read_bytes() == b"c" * 300_001


@contextmanager
def _daemon(kind: str, tmp_path: Path, fill: Any) -> Iterator[tuple[dict[str, object], Path]]:
    if kind == "pure-ftpd":
        with pure_ftpd(tmp_path, fill) as (port, home):
            yield {"port": port, "username": PURE_USER, "password": PURE_PASSWORD}, home
        return
    anon = tmp_path / "anon"
    anon.mkdir()
    fill(anon)
    with vsftpd(tmp_path, anon) as port:
        yield {"port": port}, anon


FILM = "Films/Sintel (2010)/Sintel.2010.mkv"
OTHER = "Films/Heat (1995).mkv"
SHOW = "Shows/Dark/Season 1/Dark.S01E01.mkv"
ALIEN = "Films/Alien (1979).mkv"


@pytest.mark.parametrize("kind", ["pure-ftpd", "vsftpd"])
def test_sync_after_renames_and_kind_changes(kind: str, api: TestClient, tcore: Core, tmp_path: Path) -> None:
    def fill(home: Path) -> None:
        for i, rel in enumerate((FILM, OTHER, SHOW, ALIEN)):
            (home / rel).parent.mkdir(parents=True, exist_ok=True)
            (home / rel).write_bytes(bytes([65 + i]) * (150_000 + i))
        _write(home, b"Films/Caf\xe9 (2016).mkv", b"c" * 1000)  # latin-1 on a UTF-8 server: skipped, named

    with _daemon(kind, tmp_path, fill) as (body, home):
        sid = _add(api, body)
        assert _paths(api, sid) == {FILM, OTHER, SHOW, ALIEN}
        for movie in api.get("/api/library/items").json()["items"]:
            if movie["type"] == "movie":
                assert api.post(f"/api/library/movies/{movie['id']}/offline").status_code == 202
        copies = wait_copies(api, 3)
        assert {c["state"] for c in copies} == {"ready"}
        store = tcore.settings.store_dir / f"offline/{sid}"
        kept = {rel: (store / rel).read_bytes() for rel in (FILM, OTHER, ALIEN)}

        # renamed on the server: the same file at a new path (a move, its copy kept)
        (home / FILM).rename(home / "Films/Sintel (2010)/Sintel (2010).mkv")
        # renamed by case only
        (home / ALIEN).rename(home / "Films/ALIEN (1979).mkv")
        # a file replaced by a folder of the same name, holding a film
        (home / OTHER).unlink()
        (home / OTHER).mkdir()
        (home / OTHER / "Heat.1995.mkv").write_bytes(b"h" * 150_100)
        # a folder replaced by a file of the same name
        shutil.rmtree(home / "Shows/Dark/Season 1")
        (home / "Shows/Dark/Season 1").write_bytes(b"s" * 150_200)
        if kind == "pure-ftpd":
            subprocess.run(["chown", "-R", "nobody:nogroup", str(home)], check=True)
        run = run_sync(tcore, sid)
        assert run.state == "done", run.errors
        assert run.added == 1 and run.deleted == 2, (run.added, run.updated, run.deleted, run.errors)
        assert any("Caf" in line and "not UTF-8" in line for line in run.errors), run.errors
        present = _paths(api, sid)
        assert present == {"Films/Sintel (2010)/Sintel (2010).mkv", f"{OTHER}/Heat.1995.mkv",
                           "Films/ALIEN (1979).mkv"}, present
        titles = {i["title"] for i in api.get("/api/library/items").json()["items"]}
        assert {"Alien", "Sintel", "Heat"} <= titles, titles
        # nothing lost locally: the copies are where they were, whole
        for rel, data in kept.items():
            assert (store / rel).read_bytes() == data
        again = run_sync(tcore, sid)
        assert (again.state, again.added, again.updated, again.deleted) == ("done", 0, 0, 0), again.errors
        # the film now inside the folder that was a file: its copy needs that folder locally,
        # where the old file's copy still is
        heat = next(i for i in api.get("/api/library/items").json()["items"] if i["title"] == "Heat")
        assert api.post(f"/api/library/movies/{heat['id']}/offline").status_code == 202
        copies = wait_copies(api, 4)
        assert {c["state"] for c in copies} == {"ready"}, [c["error"] for c in copies]
        fresh = max(copies, key=lambda c: int(c["id"]))
        assert fresh["size"] == 150_100
        for rel, data in kept.items():
            assert (store / rel).read_bytes() == data


#: odd names as users make them, and the title each is listed under
ODD = {
    "-rf Film (2019)/-rf Film (2019).mkv": "-rf Film",
    "[REC] (2007)/[REC] (2007).mkv": "[REC]",
    "Film {x} (2018)/Film {x} (2018).mkv": "Film",  # braces after a title hold tags (Plex: {edition-…})
    "C++ (2020)/C++.2020.1080p.mkv": "C++",
    "Star*s (2017)/Star*s (2017).mkv": "Star*s",
    "What? (2016)/What? (2016).mkv": "What?",
    "🎬 Film (2015)/🎬 Film (2015).mkv": "🎬 Film",
    "שלום (2014)/שלום (2014).mkv": "שלום",
    "Dots. (2013)/Dots. (2013).mkv": "Dots",
    "Space (2012) /x.mkv": "Space",
    "Case (2011)/Case (2011).mkv": "Case",
    "case (2010)/case (2010).mkv": "case",
    "CON (2009)/CON.mkv": "CON",
}


@pytest.mark.parametrize("kind", ["pure-ftpd", "vsftpd"])
def test_odd_names_scan_rescan_and_download(kind: str, api: TestClient, tcore: Core, tmp_path: Path) -> None:
    def fill(home: Path) -> None:
        for i, rel in enumerate(ODD):
            (home / rel).parent.mkdir(parents=True, exist_ok=True)
            (home / rel).write_bytes(bytes([65 + i]) * (1000 + i))

    with _daemon(kind, tmp_path, fill) as (body, _home):
        sid = _add(api, body)
        assert _paths(api, sid) == set(ODD)
        titles = {i["title"] for i in api.get("/api/library/items", params={"limit": 100}).json()["items"]}
        assert titles == set(ODD.values()), titles
        run = run_sync(tcore, sid)  # nothing changed: nothing moves
        assert (run.state, run.added, run.updated, run.deleted) == ("done", 0, 0, 0), run.errors
        for i, rel in enumerate(ODD):
            r = api.post("/api/transfers", json={"kind": "download", "source_id": sid, "remote_path": rel})
            assert r.status_code == 201, (rel, r.text)
            t = wait_transfer(api, r.json()["id"])
            assert t["state"] == "done", (rel, t)
            assert Path(t["local_path"]).read_bytes() == bytes([65 + i]) * (1000 + i)


def test_a_name_ending_with_a_space_is_refused_before_pure_ftpd_rewrites_it(
        api: TestClient, tcore: Core, tmp_path: Path) -> None:
    """pure-ftpd stores a name ending with a space with a ``_`` instead: an upload to
    ``Film.mkv `` said 201 "done" while the server held ``Film.mkv_`` (and the name
    asked for did not exist), and an upload into ``Folder /`` made ``Folder_`` before
    its 553. Such a name is refused (400) before anything is written, by every door
    that makes names: the file API, the transfer queue (upload, mkdir, rename)."""
    local = tmp_path / "up.bin"
    local.write_bytes(b"u" * 1000)
    with pure_ftpd(tmp_path) as (port, home):
        sid = _add(api, {"port": port, "username": PURE_USER, "password": PURE_PASSWORD})
        for path in ("Film.mkv ", "Folder /Film.mkv"):
            r = api.put(f"/api/sources/{sid}/files", params={"path": path}, content=b"x" * 1000)
            assert r.status_code == 400 and "may not end with a space" in r.text, r.text
            with pytest.raises(InvalidInput, match="may not end with a space"):
                tcore.transfers.submit("upload", sid, path, local_path=local)
        r = api.post("/api/transfers", json={"kind": "mkdir", "source_id": sid, "remote_path": "Dir "})
        assert r.status_code == 400 and "may not end with a space" in r.text, r.text
        r = api.put(f"/api/sources/{sid}/files", params={"path": "Film.mkv"}, content=b"x" * 1000)
        assert r.status_code == 201, r.text
        r = api.post("/api/transfers", json={"kind": "rename", "source_id": sid, "remote_path": "Film.mkv",
                                             "target_path": "Film2.mkv "})
        assert r.status_code == 400 and "may not end with a space" in r.text, r.text
        # a space inside a name, or leading, is kept as it is
        r = api.put(f"/api/sources/{sid}/files", params={"path": " Lead/A Film .mkv"}, content=b"y" * 10)
        assert r.status_code == 201, r.text
        assert sorted(str(p.relative_to(home)) for p in home.rglob("*")) == [" Lead", " Lead/A Film .mkv", "Film.mkv"]
