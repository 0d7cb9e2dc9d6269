"""Hostile QA of transfers against a real FTP server (pyftpdlib on port 0): a file
that changes on the server between two attempts of a download, or while it streams,
must never come out as a splice of two versions (sha256 of the result is one version's)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import Cancelled, SourceUnavailable
from reelhouse.sources.registry import SourceSpec
from reelhouse.transfers.copy import download

from helpers import FTP_PASSWORD, FTP_USER

SIZE = 3 * 1024 * 1024 + 17


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ftp(core: Core, server: EmbeddedFtpServer) -> int:
    return core.sources.create(SourceSpec(name="seedbox", kind="ftp", host="127.0.0.1",
                                          port=server.port, username=FTP_USER,
                                          password=FTP_PASSWORD)).id


@pytest.mark.parametrize("same_size", [False, True])
def test_a_resumed_download_of_a_file_replaced_on_the_server_is_not_a_splice(
        ftp_server: EmbeddedFtpServer, tcore: Core, ftp_root: Path, tmp_path: Path,
        same_size: bool) -> None:
    old, new = os.urandom(SIZE), os.urandom(SIZE if same_size else SIZE + 4096)
    (ftp_root / "f.mkv").write_bytes(old)
    os.utime(ftp_root / "f.mkv", (1_600_000_000, 1_600_000_000))
    src = tcore.sources.source(_ftp(tcore, ftp_server))
    dest = tmp_path / "store" / "f.mkv"
    seen: list[int] = []
    with pytest.raises(Cancelled):
        download(src, "f.mkv", dest, lambda d, t: seen.append(d),
                 should_stop=lambda: bool(seen) and seen[-1] >= SIZE // 2)
    assert dest.with_name("f.mkv.part").exists()
    (ftp_root / "f.mkv").write_bytes(new)  # a new version (a new mtime) while we were away
    assert download(src, "f.mkv", dest) == len(new)
    assert _sha(dest.read_bytes()) == _sha(new)


def test_a_file_rewritten_during_the_download_is_not_taken(
        ftp_server: EmbeddedFtpServer, tcore: Core, ftp_root: Path, tmp_path: Path) -> None:
    old, new = os.urandom(SIZE), os.urandom(SIZE)
    (ftp_root / "f.mkv").write_bytes(old)
    os.utime(ftp_root / "f.mkv", (1_600_000_000, 1_600_000_000))
    src = tcore.sources.source(_ftp(tcore, ftp_server))
    dest = tmp_path / "store" / "f.mkv"
    rewritten: list[bool] = []

    def progress(done: int, total: int | None) -> None:
        if not rewritten and done >= SIZE // 4:
            with open(ftp_root / "f.mkv", "r+b") as fh:  # in place: the server's open file changes
                fh.write(new)
            rewritten.append(True)

    try:
        download(src, "f.mkv", dest, progress)
    except SourceUnavailable:
        assert not dest.exists()
        download(src, "f.mkv", dest)  # the retry takes the new version whole
    assert _sha(dest.read_bytes()) in (_sha(old), _sha(new))
