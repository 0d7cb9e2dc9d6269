"""Compatibility with vsftpd (Debian's package, unpacked beside pure-ftpd since the two
conflict): no MLSD (LIST only), and an anonymous user that is *not* chrooted, so the
source root must be the login folder (PWD), not the server's "/"."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelhouse.sources.ftp import FtpConfig, FtpSource

from helpers import daemon, free_port

pytestmark = pytest.mark.ftpd

NAMES = ["Films/Sintel.2010.720p.mkv", "Amélie (2001)/Amélie [1080p].mkv", "plain name with  spaces.mp4"]


def _vsftpd() -> str | None:
    for candidate in (os.environ.get("REELHOUSE_TEST_VSFTPD"), shutil.which("vsftpd"),
                      "/usr/sbin/vsftpd", str(Path(__file__).parents[2] / ".ci/vsftpd/usr/sbin/vsftpd")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@pytest.fixture
def vsftpd(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    binary = _vsftpd()
    if binary is None:
        pytest.skip("vsftpd not found (.ci/run unpacks Debian's vsftpd into .ci/vsftpd)")
    anon = tmp_path / "anon"
    rng = random.Random(3)
    for name in NAMES:
        path = anon / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(2 * 1024 * 1024 + 5))
    (tmp_path / "empty").mkdir()
    for p in [tmp_path, *anon.rglob("*"), anon]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    port = free_port()
    low = rng.randrange(42000, 58000)
    conf = tmp_path / "vsftpd.conf"
    conf.write_text(
        "listen=YES\nlisten_address=127.0.0.1\n"
        f"listen_port={port}\nanonymous_enable=YES\nno_anon_password=YES\nanon_root={anon}\n"
        "local_enable=NO\nwrite_enable=NO\npasv_enable=YES\n"
        f"pasv_min_port={low}\npasv_max_port={low + 100}\nsecure_chroot_dir={tmp_path / 'empty'}\n"
        "run_as_launching_user=YES\nseccomp_sandbox=NO\nbackground=NO\nutf8_filesystem=YES\n"
        f"ftp_username={'nobody' if os.geteuid() == 0 else os.environ.get('USER', 'nobody')}\n"
    )
    with daemon([binary, str(conf)], port):
        yield port, anon


def test_list_stat_and_ranges_relative_to_the_login_folder(vsftpd: tuple[int, Path]) -> None:
    port, anon = vsftpd
    src = FtpSource(FtpConfig("127.0.0.1", port, pool_size=2))
    try:
        assert {e.name for e in src.list("")} == {"Films", "Amélie (2001)", "plain name with  spaces.mp4"}
        for name in NAMES:
            data = (anon / name).read_bytes()
            assert src.stat(name).size == len(data)
            rng = random.Random(name)
            for _ in range(20):
                start = rng.randrange(len(data))
                length = rng.randrange(1, 300_000)
                assert b"".join(src.read_range(name, start, length)) == data[start : start + length]
        assert src.pool.stats["live"] == 1  # cut transfers kept the connection in sync
    finally:
        src.close()
    # an absolute root is taken as it is
    absolute = FtpSource(FtpConfig("127.0.0.1", port, root=str(anon / "Films")))
    try:
        assert [e.name for e in absolute.list("")] == ["Sintel.2010.720p.mkv"]
    finally:
        absolute.close()
