"""What a failed download leaves in the library store (transfers/copy.py, ``download``).

A download that fails for good (no retry follows: the disk full, the file gone) removes
its partial file; one stopped or whose source is down keeps it on purpose, for the
retry or a later download of the same version to resume. Found by an outside-in hunt:
with ``store_min_free = 0`` a download that met a full disk (ENOSPC) left its partial
file there, so the disk stayed full and every other download failed too."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from transfers.test_daemons import small_disk  # noqa: F401  (a 2 MiB tmpfs)
from transfers.test_transfers_api import add_ftp, wait_transfer

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import NotFound, SourceUnavailable
from reelhouse.sources.memory import MemorySource
from reelhouse.transfers.copy import download

from helpers import admin_client, admin_core

DATA = os.urandom(3 * 1024 * 1024 + 7)


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir())


def test_a_download_that_fills_the_disk_leaves_no_partial_file(
        request: pytest.FixtureRequest, ftp_server: EmbeddedFtpServer, ftp_root: Path, tmp_path: Path) -> None:
    store: Path = request.getfixturevalue("small_disk")  # the library store: a 2 MiB tmpfs
    (ftp_root / "big.mkv").write_bytes(DATA)
    (ftp_root / "small.mkv").write_bytes(DATA[:1024 * 1024])
    with admin_core(tmp_path / "data", library_store=str(store), store_min_free=0,
                    transfer_retry_delay=0.05) as core, admin_client(core) as api:
        sid = add_ftp(api, ftp_server.port)
        r = api.post("/api/transfers", json={"kind": "download", "source_id": sid, "remote_path": "big.mkv",
                                             "local_path": "big.mkv"})
        assert r.status_code == 201, r.text
        t = wait_transfer(api, r.json()["id"])
        assert t["state"] == "failed" and "no space left" in t["error"], t
        assert _files(store) == []
        # the space it took is free again: a download that fits is stored
        r = api.post("/api/transfers", json={"kind": "download", "source_id": sid, "remote_path": "small.mkv",
                                             "local_path": "small.mkv"})
        assert wait_transfer(api, r.json()["id"])["state"] == "done"
        assert _files(store) == ["small.mkv"]


def test_a_download_whose_file_vanished_mid_way_leaves_no_partial_file(tmp_path: Path) -> None:
    class Vanishing(MemorySource):
        def read_range(self, path: str, offset: int, length: int):  # type: ignore[no-untyped-def]
            yield DATA[offset:offset + 1000]
            raise NotFound(f"no such file: {path}")

    with pytest.raises(NotFound):
        download(Vanishing({"f.mkv": DATA}), "f.mkv", tmp_path / "f.mkv")
    assert _files(tmp_path) == []


def test_a_download_whose_source_failed_keeps_its_partial_file_for_the_retry(tmp_path: Path) -> None:
    class Dropping(MemorySource):
        def read_range(self, path: str, offset: int, length: int):  # type: ignore[no-untyped-def]
            yield DATA[offset:offset + 1000]
            raise SourceUnavailable("connection reset")

    with pytest.raises(SourceUnavailable):
        download(Dropping({"f.mkv": DATA}), "f.mkv", tmp_path / "f.mkv")
    assert len(_files(tmp_path)) == 2  # the partial file and its version signature
    assert download(MemorySource({"f.mkv": DATA}), "f.mkv", tmp_path / "f.mkv") == len(DATA)
    assert _files(tmp_path) == ["f.mkv"]
