"""Two ``reelhouse drive mount`` processes of one server with ``REELHOUSE_REDIS_URL``
set (issues 12 and 14): their connections are counted together in Redis, so a server
allowing ``max_connections`` from this address never answers 421 while both read at
once; SIGINT still ends each mount cleanly (the helper threads of the shared count
leave the stop signals to libfuse's loop), and their slots go back."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
from pathlib import Path

import pytest
import redis
from drive.support import Mounter, mounted

from helpers import FTP_PASSWORD, FTP_USER, CappedFtpServer, stop_without_leaks

pytestmark = [pytest.mark.requires_fuse, pytest.mark.requires_redis]

CAP = 2


def test_two_mounts_share_the_servers_limit(tmp_path: Path, redis_url: str, drive_env: dict[str, str],
                                            mount: Mounter) -> None:
    root = tmp_path / "ftp"
    root.mkdir()
    files = {f"film{i}.bin": os.urandom(1_500_000) for i in range(6)}
    for name, data in files.items():
        (root / name).write_bytes(data)
    server = CappedFtpServer(root, CAP)
    conf = tmp_path / "drive.toml"
    conf.write_text(f"[connection]\nmax_connections = {CAP}\n[cache]\nenabled = false\n")
    drive_env["REELHOUSE_REDIS_URL"] = redis_url
    args = ["--host", "127.0.0.1", "--port", str(server.port), "--user", FTP_USER,
            "--password", FTP_PASSWORD, "--config", str(conf)]
    try:
        mounts = [mount(*args), mount(*args)]
        errors: list[BaseException] = []

        def read(mp: Path, name: str) -> None:
            try:
                got = hashlib.sha256((mp / name).read_bytes()).digest()
                assert got == hashlib.sha256(files[name]).digest(), name
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=read, args=(m.path, name))
                   for m in mounts for name in files]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        assert server.refused == 0, f"the server answered {server.refused} connections with 421"
        assert server.peak <= CAP
        for m in mounts:
            assert m.stop(signal.SIGINT) == 0 and not mounted(m.path), m.output()
        r = redis.Redis.from_url(redis_url)
        try:
            assert r.zcard(f"reelhouse:slots:ftp:127.0.0.1:{server.port}:{FTP_USER}") == 0
        finally:
            r.close()
    finally:
        stop_without_leaks(server.server)
