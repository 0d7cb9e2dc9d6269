"""``reelhouse transfer upload|download|list|cancel`` and ``reelhouse sync`` through
the CLI's entry point (``cli.main``: exit codes and error lines included) against a real
FTP server. In-process: a subprocess per command cost ~5 s each on a busy machine."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyftpdlib.handlers import FTPHandler

from reelhouse.cli import main
from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER, stop_without_leaks


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> object:
    for key in [k for k in os.environ if k.startswith("REELHOUSE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("COLUMNS", "200")

    def run(data: Path, *args: str) -> Result:
        monkeypatch.setenv("REELHOUSE_DATA_DIR", str(data))
        monkeypatch.setattr(sys, "argv", ["reelhouse", *args])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return run


def test_upload_download_list_cancel_sync(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                          tmp_path: Path, cli: Any) -> None:
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



def test_a_partial_sync_says_partial_with_its_counts(ftp_root: Path, tmp_path: Path, cli: Any) -> None:
    """A sync that listed every folder but one did its work on the others (the API says
    ``partial``), but ``reelhouse sync`` said "sync of 'box' failed" with the errors
    only, no counts. As ``reelhouse scan`` does, it says partial, what it did and which
    folder it could not list, and exits non-zero."""
    for name in ("Dune (2021)", "Alien (1979)"):
        (ftp_root / name).mkdir()
        (ftp_root / name / f"{name}.mkv").write_bytes(os.urandom(1000))

    def ftp_MLSD(handler: FTPHandler, path: str) -> object:
        if "Alien" in path:
            handler.respond("550 Not enough privileges.")
            return None
        return FTPHandler.ftp_MLSD(handler, path)

    def ftp_STAT(handler: FTPHandler, path: str) -> object:
        if path:  # no listings by STAT: the walk lists by MLSD
            handler.respond("502 STAT with a path is not implemented here.")
            return None
        return FTPHandler.ftp_STAT(handler, path)

    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD,
                               handler_overrides={"ftp_MLSD": ftp_MLSD, "ftp_STAT": ftp_STAT}).start()
    try:
        data_dir = tmp_path / "data"
        r = cli(data_dir, "source", "add", "box", "--ftp", "127.0.0.1", "--port", str(server.port),
                "--user", FTP_USER, "--password", FTP_PASSWORD)
        assert r.returncode == 0, r.stderr
        r = cli(data_dir, "sync", "box")
    finally:
        stop_without_leaks(server)
    assert r.returncode == 6, (r.stdout, r.stderr)  # SourceUnavailable's exit code
    assert "partial" in r.stdout and "1 added" in r.stdout, r.stdout
    assert "Alien (1979)" in r.stdout
    assert "failed" not in r.stderr and "partial" in r.stderr, r.stderr


def test_an_upload_of_a_pipe_or_a_device_says_what_it_is(tmp_path: Path, cli: Any) -> None:
    """``reelhouse transfer upload <(…) …`` (a pipe: /dev/fd/63), a FIFO or /dev/null is
    one line saying it is not a regular file (an upload sends a file whose size it checks)
    and exit 2; it was "no such local file: /dev/fd/63" and exit 3, about a path that
    exists (found by an outside-in hunt)."""
    data_dir = tmp_path / "data"
    disk = tmp_path / "disk"
    disk.mkdir()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    r = cli(data_dir, "source", "add", "disk", "--local", str(disk))
    assert r.returncode == 0, r.stderr
    for local in (str(fifo), os.devnull):
        r = cli(data_dir, "transfer", "upload", local, "disk", "x.mkv")
        assert r.returncode == 2, r.stderr
        assert r.stderr.strip() == (f"error: {local} is not a regular file (a pipe, a device or a "
                                    "socket): an upload sends a file whose size it knows; save it "
                                    "to a file first")
    assert list(disk.iterdir()) == []
    r = cli(data_dir, "transfer", "upload", str(tmp_path / "nope.mkv"), "disk", "x.mkv")
    assert r.returncode == 3 and r.stderr.strip() == f"error: no such local file: {tmp_path / 'nope.mkv'}"
