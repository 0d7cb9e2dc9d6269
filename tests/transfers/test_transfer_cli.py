"""``reelhouse transfer upload|download|list|cancel`` and ``reelhouse sync`` as a user
runs them (a subprocess per command) against a real FTP server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER


def cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELHOUSE_")}
    env.update(REELHOUSE_DATA_DIR=str(data), COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "reelhouse.cli", *args], env=env, text=True,
                          capture_output=True, timeout=120)


def test_upload_download_list_cancel_sync(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                          tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    local = tmp_path / "Sintel.2010.mkv"
    payload = os.urandom(2_000_000)
    local.write_bytes(payload)
    r = cli(data_dir, "source", "add", "box", "--ftp", "127.0.0.1", "--port", str(ftp_server.port),
            "--user", FTP_USER, "--password", FTP_PASSWORD)
    assert r.returncode == 0, r.stderr
    r = cli(data_dir, "transfer", "upload", str(local), "box", "Films/Sintel.2010.mkv")
    assert r.returncode == 0, r.stderr
    assert "size verified" in r.stdout
    assert (ftp_root / "Films/Sintel.2010.mkv").read_bytes() == payload
    r = cli(data_dir, "transfer", "download", "box", "Films/Sintel.2010.mkv", "--to", "copy.mkv")
    assert r.returncode == 0, r.stderr
    assert (data_dir / "library/copy.mkv").read_bytes() == payload
    r = cli(data_dir, "transfer", "download", "box", "Films/Nope.mkv")
    assert r.returncode == 3 and "not found" in r.stderr  # NotFound's exit code
    r = cli(data_dir, "transfer", "upload", str(local), "box", "x.mkv", "--no-wait")
    assert r.returncode == 0 and "queued transfer 4" in r.stdout
    r = cli(data_dir, "transfer", "cancel", "4")
    assert r.returncode == 0, r.stderr
    r = cli(data_dir, "transfer", "list")
    assert r.returncode == 0
    assert "cancelled" in r.stdout and "done" in r.stdout and "failed" in r.stdout
    r = cli(data_dir, "sync", "box")
    assert r.returncode == 0, r.stderr
    assert "1 added" in r.stdout
