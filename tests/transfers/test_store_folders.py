"""The folders of the library store that reelhouse keeps for itself (``offline/``,
``.uploads/``) take no download, and a source's name never puts its downloads there or
at the store's root (found by an outside-in probe: a careless admin's source names)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelhouse.core import Core
from reelhouse.server import create_app

from helpers import log_in


def _source(api: TestClient, name: str, media: Path) -> int:
    r = api.post("/api/sources", json={"name": name, "kind": "local", "path": str(media)})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.fixture
def media(tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    (folder / "offline/1").mkdir(parents=True)
    (folder / "a.mkv").write_bytes(b"a" * 1000)
    (folder / "offline/1/a.mkv").write_bytes(b"b" * 1000)
    return folder


@pytest.mark.parametrize(("name", "folder"), [
    ("..", "source {id}"), (".", "source {id}"), ("...", "source {id}"),
    ("offline", "offline (source {id})"), ("Offline", "Offline (source {id})"),
    (".uploads", ".uploads (source {id})"), ("box", "box"), ("a/b", "a_b"),
])
def test_a_sources_name_never_names_a_folder_of_reelhouse(
    api: TestClient, tcore: Core, media: Path, name: str, folder: str
) -> None:
    """A source named ``..`` made every download a 400 "path may not contain '..':
    '../a.mkv'" (a path nobody wrote); one named ``.`` wrote its downloads at the
    store's root, and one named ``offline`` into the offline copies' folder, where
    ``offline/1/a.mkv`` on it replaced source 1's copy of ``a.mkv``."""
    sid = _source(api, name, media)
    r = api.post("/api/transfers", json={"kind": "download", "source_id": sid, "remote_path": "offline/1/a.mkv"})
    assert r.status_code == 201, r.text
    store = tcore.settings.store_dir.resolve()
    assert Path(r.json()["local_path"]) == store / folder.format(id=sid) / "offline/1/a.mkv"


@pytest.mark.parametrize("local", ["offline/1/a.mkv", "Offline/x.mkv", ".uploads/x", "./offline/9/x.mkv"])
def test_no_download_goes_into_reelhouses_own_folders(
    api: TestClient, tcore: Core, media: Path, local: str
) -> None:
    """A user's ``local_path`` could name a file under ``offline/`` before the copy
    of that name was made (the copy then replaced it, or it the copy), or under
    ``.uploads/`` (the upload claims' signatures)."""
    sid = _source(api, "box", media)
    tcore.users.add("viewer", "viewer-password")
    with TestClient(create_app(tcore)) as viewer:
        log_in(viewer, "viewer", "viewer-password")
        for client in (viewer, api):
            r = client.post("/api/transfers", json={"kind": "download", "source_id": sid,
                                                    "remote_path": "a.mkv", "local_path": local})
            assert r.status_code == 400, r.text
            assert "reelhouse's own" in r.json()["detail"], r.text
    assert not (tcore.settings.store_dir / local).exists()
