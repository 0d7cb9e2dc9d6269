"""Transfers against the system FTP daemons (vsftpd, pure-ftpd) when the server is
unhelpful: resume commands refused, the disk full, the session killed mid-transfer."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelhouse.sources.ftp import FtpConfig, FtpSource
from reelhouse.transfers.copy import _signature, download, local_part, part_signature_path, upload

from helpers import vsftpd

pytestmark = pytest.mark.ftpd

#: vsftpd's cmds_allowed without APPE and REST: both answered "550 Permission denied."
NO_RESUME = ("USER,PASS,SYST,FEAT,OPTS,PWD,CWD,TYPE,PASV,EPSV,STOR,RETR,LIST,SIZE,MDTM,MKD,RNFR,RNTO,"
             "DELE,QUIT,NOOP,STAT,NLST")

DATA = random.Random(1).randbytes(3 * 1024 * 1024 + 7)


@pytest.fixture
def no_resume(tmp_path: Path) -> Iterator[tuple[FtpSource, Path]]:
    """A vsftpd that refuses APPE and REST; yields (source on incoming/, its folder)."""
    anon = tmp_path / "anon"
    (anon / "incoming").mkdir(parents=True)
    (anon / "incoming").chmod(0o777)
    with vsftpd(tmp_path, anon, writable=True, options={"cmds_allowed": NO_RESUME}) as port:
        src = FtpSource(FtpConfig("127.0.0.1", port, root="incoming", pool_size=2))
        try:
            yield src, anon / "incoming"
        finally:
            src.close()


def test_upload_restarts_whole_where_appe_and_rest_are_refused(no_resume: tuple[FtpSource, Path],
                                                              tmp_path: Path) -> None:
    src, incoming = no_resume
    local = tmp_path / "film.mkv"
    local.write_bytes(DATA)
    (incoming / "film.mkv.part").write_bytes(DATA[:1_000_000])  # an interrupted attempt's
    assert upload(src, local, "film.mkv") == len(DATA)
    assert (incoming / "film.mkv").read_bytes() == DATA
    assert sorted(p.name for p in incoming.iterdir()) == ["film.mkv"]


def test_download_restarts_whole_where_rest_is_refused(no_resume: tuple[FtpSource, Path],
                                                       tmp_path: Path) -> None:
    src, incoming = no_resume
    (incoming / "film.mkv").write_bytes(DATA)
    out = tmp_path / "back.mkv"
    local_part(out).write_bytes(DATA[:5])
    part_signature_path(out).write_text(_signature(src.stat("film.mkv")))
    assert download(src, "film.mkv", out) == len(DATA)
    assert out.read_bytes() == DATA
    assert not local_part(out).exists()
