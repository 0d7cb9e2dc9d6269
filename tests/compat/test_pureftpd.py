"""Compatibility with a real system FTP daemon: Debian's pure-ftpd (MLSD, LIST, REST),
started on a free loopback port with a virtual user (puredb)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from compat.support import transfer_round_trip

from reelhouse.sources.ftp import FtpConfig, FtpSource

from helpers import PURE_PASSWORD, PURE_USER, pure_ftpd

pytestmark = pytest.mark.ftpd

NAMES = ["Amélie (2001)/Amélie [1080p] 'Director's Cut'.mkv", "千と千尋の神隠し.mkv", "Plain.File.2010.mkv"]




@pytest.fixture
def pureftpd(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    def fill(home: Path) -> None:
        rng = random.Random(7)
        for name in NAMES:
            path = home / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(rng.randbytes(3 * 1024 * 1024 + 17))
    with pure_ftpd(tmp_path, fill) as got:
        yield got


@pytest.mark.parametrize("mlsd", [True, False], ids=["mlsd", "list"])
def test_listing_stat_and_ranges(pureftpd: tuple[int, Path], mlsd: bool) -> None:
    port, home = pureftpd
    src = FtpSource(FtpConfig("127.0.0.1", port, PURE_USER, PURE_PASSWORD, pool_size=2))
    try:
        if not mlsd:  # exercise the LIST fallback against the real daemon
            client, _ = src.pool.acquire()
            client.features.discard("MLST")
            src.pool.release(client)
        root = {e.name: e for e in src.list("")}
        assert {"Amélie (2001)", "千と千尋の神隠し.mkv", "Plain.File.2010.mkv"} <= set(root)
        assert root["Amélie (2001)"].is_dir
        inner = src.list("Amélie (2001)")
        assert [e.name for e in inner] == ["Amélie [1080p] 'Director's Cut'.mkv"]
        for name in NAMES:
            data = (home / name).read_bytes()
            entry = src.stat(name) if mlsd else next(e for e in src.list(name.rpartition("/")[0])
                                                     if e.path == name)
            assert entry.size == len(data)
            rng = random.Random(name)
            for _ in range(15):
                start = rng.randrange(len(data))
                length = rng.randrange(1, 400_000)
                got = b"".join(src.read_range(name, start, length))
                assert got == data[start : start + length]
            assert b"".join(src.read_range(name, 0, len(data))) == data
        # partial reads keep the control connection usable
        assert src.pool.stats["live"] <= 2
    finally:
        src.close()


def test_upload_download_and_ops(pureftpd: tuple[int, Path], tmp_path: Path) -> None:
    """Transfers against pure-ftpd: mkdir -p, .part + rename, a resumed upload (the
    .part holds half: APPE), download back, rename and delete."""
    port, home = pureftpd
    src = FtpSource(FtpConfig("127.0.0.1", port, PURE_USER, PURE_PASSWORD, pool_size=2))
    try:
        transfer_round_trip(src, tmp_path, home, "Uploads", seed=11)
    finally:
        src.close()
