"""Offline copies with several owners: one copy per file, a claim per user who keeps it.

Before (one copy owned by whoever asked first): a second user who kept the same film
got the first user's copy but could not see or release it, "✓ Kept offline" showed to
everyone, and any user's release (or an admin's) removed the copy under everyone.
Now each user sees and releases only their own claim; the copy and its file go with
the last claim; an admin lists and releases every claim; a deleted user's claims go
with them; a download another user still wants is handed over, not cancelled."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyftpdlib.handlers import ThrottledDTPHandler

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.server import create_app
from reelhouse.transfers.sync import run_sync

from helpers import FTP_PASSWORD, FTP_USER, log_in, stop_without_leaks, wait_job

FILM = "Films/Heat.1995.mkv"


def _until(pred: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _library(api: TestClient, port: int) -> tuple[int, int]:
    """Add the FTP server as a source, scan it; (source id, the film's movie id)."""
    r = api.post("/api/sources", json={"name": "seedbox", "kind": "ftp", "host": "127.0.0.1",
                                       "port": port, "username": FTP_USER, "password": FTP_PASSWORD})
    assert r.status_code == 201, r.text
    sid = int(r.json()["id"])
    assert wait_job(api, api.post(f"/api/sources/{sid}/scan").json()["id"])["state"] == "done"
    movie = next(i for i in api.get("/api/library/items").json()["items"] if i["type"] == "movie")
    return sid, int(movie["id"])


def _both_keep(api: TestClient, ftp_root: Path, port: int, users: dict[str, TestClient]) -> tuple[int, int]:
    """A 300 kB film on the FTP server, scanned; ann then bob keep it offline, the copy
    is ready. Returns (source id, movie id)."""
    (ftp_root / FILM).parent.mkdir(parents=True, exist_ok=True)
    (ftp_root / FILM).write_bytes(os.urandom(300_000))
    sid, movie = _library(api, port)
    for name in ("ann", "bob"):
        assert users[name].post(f"/api/library/movies/{movie}/offline").status_code == 202
    _until(lambda: [c["state"] for c in _mine(users["bob"])] == ["ready"])
    return sid, movie


@pytest.fixture
def users(tcore: Core) -> Iterator[dict[str, TestClient]]:
    """Three logged-in users who are not admins: ann, bob and cat."""
    with ExitStack() as stack:
        out = {}
        for name in ("ann", "bob", "cat"):
            tcore.users.add(name, f"{name}-password")
            out[name] = log_in(stack.enter_context(TestClient(create_app(tcore))), name, f"{name}-password")
        yield out


def _copies(tcore: Core) -> Path:
    return tcore.settings.store_dir / "offline"


def _mine(client: TestClient) -> list[dict[str, Any]]:
    r = client.get("/api/offline")
    assert r.status_code == 200, r.text
    return list(r.json())


def _kept_button(client: TestClient, movie: int) -> str:
    html = client.get(f"/movies/{movie}").text
    assert 'data-offline-scope="movie:' in html
    return "✓ Kept offline" if "✓ Kept offline" in html else "Keep offline"


def test_two_users_keep_one_film_and_each_releases_their_own(
    ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient, tcore: Core,
    users: dict[str, TestClient],
) -> None:
    data = os.urandom(600_000)
    (ftp_root / FILM).parent.mkdir(parents=True, exist_ok=True)
    (ftp_root / FILM).write_bytes(data)
    _, movie = _library(api, ftp_server.port)
    ann, bob, cat = users["ann"], users["bob"], users["cat"]

    assert ann.post(f"/api/library/movies/{movie}/offline").status_code == 202
    _until(lambda: [c["state"] for c in _mine(ann)] == ["ready"])
    copy = _copies(tcore) / "1" / FILM
    assert copy.read_bytes() == data

    # bob keeps the same film: the copy is shared (no second download), the claim is his
    r = bob.post(f"/api/library/movies/{movie}/offline")
    assert r.status_code == 202, r.text
    [bobs] = r.json()
    assert bobs["state"] == "ready" and bobs["transfer_id"] is None  # ann's download, not his
    assert len([t for t in api.get("/api/transfers").json() if t["kind"] == "download"]) == 1
    [anns] = _mine(ann)
    assert _mine(bob) == [bobs] and bobs["id"] == anns["id"] and bobs["claim_id"] != anns["claim_id"]
    assert anns["transfer_id"] is not None
    assert _kept_button(bob, movie) == "✓ Kept offline"

    # cat keeps nothing: sees nothing kept, and cannot release the others' claims
    assert _mine(cat) == []
    assert _kept_button(cat, movie) == "Keep offline"
    assert "offline copy" not in cat.get(f"/movies/{movie}").text
    assert cat.delete(f"/api/library/movies/{movie}/offline").status_code == 404
    assert cat.delete(f"/api/offline/claims/{anns['claim_id']}").status_code == 404
    assert cat.get("/api/offline/copies").status_code == 403
    assert copy.exists()

    # bob releases: his claim goes, the copy stays for ann
    assert bob.delete(f"/api/library/movies/{movie}/offline").status_code == 204
    assert _mine(bob) == [] and _kept_button(bob, movie) == "Keep offline"
    assert bob.delete(f"/api/library/movies/{movie}/offline").status_code == 404
    assert [c["state"] for c in _mine(ann)] == ["ready"] and _kept_button(ann, movie) == "✓ Kept offline"
    assert copy.read_bytes() == data

    # ann releases the last claim: the copy and its file go
    assert ann.delete(f"/api/library/movies/{movie}/offline").status_code == 204
    assert _mine(ann) == [] and api.get("/api/offline/copies").json() == []
    assert not copy.exists()


def test_an_admin_lists_and_releases_every_claim(
    ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient, tcore: Core,
    users: dict[str, TestClient],
) -> None:
    _, movie = _both_keep(api, ftp_root, ftp_server.port, users)
    ann, bob = users["ann"], users["bob"]
    assert _mine(api) == []  # the admin keeps nothing themselves
    assert _kept_button(api, movie) == "Keep offline"
    [entry] = api.get("/api/offline/copies").json()
    assert [c["user_name"] for c in entry["claims"]] == ["ann", "bob"]
    bobs = entry["claims"][1]["id"]
    assert ann.delete(f"/api/offline/claims/{bobs}").status_code == 404  # not hers
    assert "bob" in api.get("/transfers").text  # the admin's page names who keeps what

    assert api.delete(f"/api/offline/claims/{bobs}").status_code == 204
    assert _mine(bob) == [] and len(_mine(ann)) == 1
    assert api.delete(f"/api/offline/copies/{entry['id']}").status_code == 204
    assert _mine(ann) == [] and api.get("/api/offline/copies").json() == []
    assert not list(_copies(tcore).rglob("*.mkv"))
    assert api.delete(f"/api/offline/copies/{entry['id']}").status_code == 404


def test_a_deleted_users_claims_go_and_the_copy_with_the_last(
    ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient, tcore: Core,
    users: dict[str, TestClient],
) -> None:
    _both_keep(api, ftp_root, ftp_server.port, users)
    copy = _copies(tcore) / "1" / FILM
    assert api.delete(f"/api/users/{tcore.users.by_name('ann').id}").status_code == 204
    [entry] = api.get("/api/offline/copies").json()
    assert [c["user_name"] for c in entry["claims"]] == ["bob"] and copy.exists()
    assert api.delete(f"/api/users/{tcore.users.by_name('bob').id}").status_code == 204
    assert api.get("/api/offline/copies").json() == [] and not copy.exists()


def test_a_file_gone_from_the_source_keeps_its_copy_and_claims(
    ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient, tcore: Core,
    users: dict[str, TestClient],
) -> None:
    """A sync that finds the file gone marks it missing and deletes nothing: the copy
    and every claim stay (the file may come back); releasing still works."""
    sid, movie = _both_keep(api, ftp_root, ftp_server.port, users)
    ann, bob = users["ann"], users["bob"]
    (ftp_root / FILM).unlink()
    assert run_sync(tcore, sid).deleted == 1
    copy = _copies(tcore) / "1" / FILM
    assert copy.exists() and len(_mine(ann)) == 1 and len(_mine(bob)) == 1
    assert bob.delete(f"/api/library/movies/{movie}/offline").status_code == 204
    assert copy.exists() and len(_mine(ann)) == 1
    assert ann.delete(f"/api/library/movies/{movie}/offline").status_code == 204
    assert not copy.exists()


class _Slow(ThrottledDTPHandler):  # type: ignore[misc]
    read_limit = 256 * 1024  # bytes/s: the 2 MiB film takes ~8 s
    write_limit = 256 * 1024


@pytest.fixture
def slow_server(ftp_root: Path) -> Iterator[EmbeddedFtpServer]:
    (ftp_root / FILM).parent.mkdir(parents=True, exist_ok=True)
    (ftp_root / FILM).write_bytes(os.urandom(2 * 1024 * 1024))
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD,
                               handler_overrides={"dtp_handler": _Slow, "use_sendfile": False}).start()
    yield server
    stop_without_leaks(server)


@pytest.mark.parametrize("how", ["released", "deleted", "disabled"])
def test_a_download_another_user_wants_is_handed_over_not_cancelled(
    slow_server: EmbeddedFtpServer, api: TestClient, tcore: Core, users: dict[str, TestClient], how: str,
) -> None:
    """ann's claim queued the download; bob joined while it ran. When she releases,
    is deleted or disabled it goes on as bob's transfer and his copy becomes ready.
    Before, each of these cancelled it (her cancel: below)."""
    _, movie = _library(api, slow_server.port)
    ann, bob = users["ann"], users["bob"]
    assert ann.post(f"/api/library/movies/{movie}/offline").status_code == 202
    [anns] = _mine(ann)
    transfer = anns["transfer_id"]
    assert bob.post(f"/api/library/movies/{movie}/offline").json()[0]["state"] == "pending"
    if how == "released":
        assert ann.delete(f"/api/library/movies/{movie}/offline").status_code == 204
    elif how == "deleted":
        assert api.delete(f"/api/users/{tcore.users.by_name('ann').id}").status_code == 204
    else:  # her claim stays (she may be enabled again), her transfers end: not this one
        r = api.patch(f"/api/users/{tcore.users.by_name('ann').id}", json={"disabled": True})
        assert r.status_code == 200, r.text
    t = bob.get(f"/api/transfers/{transfer}").json()  # his now
    assert t["state"] in ("queued", "running"), t
    assert _mine(bob)[0]["transfer_id"] == transfer
    _until(lambda: _mine(bob)[0]["state"] == "ready", timeout=60)
    assert (_copies(tcore) / "1" / FILM).stat().st_size == 2 * 1024 * 1024


def test_cancelling_a_shared_download_tells_nothing_of_the_other_keepers(
    slow_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient, tcore: Core, users: dict[str, TestClient],
) -> None:
    """ann and bob keep one film, cat another alone; each of ann and cat cancels the
    download their claim queued. Both answers are the same cancelled transfer (before:
    ann got a 409 saying other users keep the file, cat a 202): her claim is released,
    and the download goes on as bob's; cat's stops with his copy."""
    (ftp_root / "Films/Ronin.1998.mkv").write_bytes(os.urandom(2 * 1024 * 1024))
    _library(api, slow_server.port)
    heat, ronin = (next(i["id"] for i in api.get("/api/library/items").json()["items"] if i["title"] == t)
                   for t in ("Heat", "Ronin"))
    ann, bob, cat = users["ann"], users["bob"], users["cat"]
    for who, movie in ((ann, heat), (bob, heat), (cat, ronin)):
        assert who.post(f"/api/library/movies/{movie}/offline").status_code == 202
    shared, alone = _mine(ann)[0]["transfer_id"], _mine(cat)[0]["transfer_id"]
    answers = []
    for who, transfer in ((ann, shared), (cat, alone)):
        r = who.post(f"/api/transfers/{transfer}/cancel")
        assert r.status_code == 202, r.text
        answers.append(r.json())
    keys = ("state", "error", "kind", "eta_seconds")
    assert [{k: a[k] for k in keys} for a in answers] == \
        [{"state": "cancelled", "error": "cancelled: no longer kept offline", "kind": "download",
          "eta_seconds": None}] * 2, answers
    assert sorted(answers[0]) == sorted(answers[1])  # the same fields, none naming bob
    assert _mine(ann) == [] and _mine(cat) == []  # both claims released
    assert ann.post(f"/api/transfers/{shared}/cancel").status_code == 404  # not hers any more
    t = bob.get(f"/api/transfers/{shared}").json()  # his now, still going
    assert t["state"] in ("queued", "running"), t
    assert _mine(bob)[0]["state"] == "pending" and _mine(bob)[0]["transfer_id"] == shared
    assert cat.get(f"/api/transfers/{alone}").json()["state"] == "cancelled"
    assert [c["media_file_id"] for c in api.get("/api/offline/copies").json()] == [_mine(bob)[0]["media_file_id"]]
