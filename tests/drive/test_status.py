"""``reelhouse drive status`` lists every upload not done: one in flight while a big file
is still being written (``uploading``, bytes sent of the size so far), one whose server
went away (``retrying``), and one whose every try failed (``failed``: kept in the spool),
in ``--json`` and in the text table."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from drive.support import Mounter, run_cli, status_until

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.drive.streamer import STREAM_AFTER

from helpers import FTP_PASSWORD, FTP_USER, Restartable

pytestmark = pytest.mark.requires_fuse

MIB = 1024 * 1024


def login(port: int) -> list[str]:
    return ["--host", "127.0.0.1", "--port", str(port), "--user", FTP_USER, "--password", FTP_PASSWORD]


def uploads(sts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(sts[0]["pending_uploads"]) if sts else []


def text_status(env: dict[str, str]) -> str:
    done = run_cli(env, "drive", "status")
    assert done.returncode == 0, done.stderr
    return done.stdout


#: writes argv[2]'s bytes to argv[1] in 1 MiB writes, says "written", keeps the file open
#: until a line comes on stdin, then closes it and prints close's errno (0: uploaded). A
#: process of its own: a copy of the descriptor in the test process (a fork of it for
#: ``drive status``) would be closed by the child, and every close of a FUSE file
#: uploads it (FLUSH).
WRITER = """import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
view = memoryview(open(sys.argv[2], 'rb').read())
while view:
    view = view[os.write(fd, view[:1 << 20]):]
print('written', flush=True)
sys.stdin.readline()
try:
    os.close(fd)
except OSError as exc:
    print(exc.errno, flush=True)
else:
    print(0, flush=True)
"""


class Writer:
    def __init__(self, path: Path, data: bytes, tmp: Path) -> None:
        source = tmp / f"{path.name}.src"
        source.write_bytes(data)
        self.proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(source)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline() == "written\n"

    def close(self) -> None:
        """Start closing the file (returns at once)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def closed(self, timeout: float = 30) -> int:
        """close's errno (0: it succeeded)."""
        out, _ = self.proc.communicate(timeout=timeout)
        return int(out)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def test_an_upload_in_flight_shows_its_progress(tmp_path: Path, ftp_root: Path, ftp_server: EmbeddedFtpServer,
                                                mount: Mounter) -> None:
    m = mount(*login(ftp_server.port))
    payload = os.urandom(STREAM_AFTER + 8 * MIB)
    writer = Writer(m.path / "big film.mkv", payload, tmp_path)
    try:
        # still open, past STREAM_AFTER: the upload runs during the writes
        sts = status_until(m.env, lambda s: any(u["sent"] >= len(payload) - 2 * MIB for u in uploads(s)))
        [up] = uploads(sts)
        assert up["path"] == "big film.mkv" and up["state"] == "uploading", up
        assert len(payload) - 2 * MIB <= up["sent"] <= up["size"] == len(payload), up
        text = text_status(m.env)
        assert "big film.mkv" in text and "uploading" in text and "16.0 MiB" in text, text
        writer.close()
        assert writer.closed() == 0
    finally:
        writer.kill()
    assert (ftp_root / "big film.mkv").read_bytes() == payload  # close returned: on the server
    assert uploads(status_until(m.env, lambda s: not uploads(s))) == []
    assert m.stop() == 0


def test_retrying_then_failed_and_kept_in_the_spool(tmp_path: Path, ftp_root: Path, mount: Mounter) -> None:
    # three tries: 2 s, then 4 s between them (6 s of "retrying": the close's round is the
    # only one, and a `drive status` run costs up to a second on a loaded machine)
    conf = tmp_path / "drive.toml"
    conf.write_text("[connection]\nretry_attempts = 3\nretry_delay_seconds = 2.0\ntimeout_seconds = 5\n")
    server = Restartable(ftp_root)
    try:
        m = mount(*login(server.port), "--config", str(conf))
        writer = Writer(m.path / "notes.txt", b"keep me", tmp_path)
        server.kill()
        writer.close()  # uploads: every try fails
        sts = status_until(m.env, lambda s: any(u["state"] == "retrying" for u in uploads(s)))
        [up] = uploads(sts)
        assert (up["path"], up["state"], up["size"]) == ("notes.txt", "retrying", 7), up
        assert up["error"], up  # why the last try failed
        assert "retrying" in text_status(m.env)
        assert writer.closed() in (errno.ENOTCONN, errno.ETIMEDOUT, errno.EIO)
        sts = status_until(m.env, lambda s: any(u["state"] == "failed" for u in uploads(s)), timeout=30)
        [up] = uploads(sts)
        assert (up["path"], up["state"], up["size"]) == ("notes.txt", "failed", 7), up
        text = text_status(m.env)
        assert "notes.txt" in text and "failed, kept in the spool" in text, text
        assert m.stop() != 0  # uploads left pending: retried by the next mount
    finally:
        server.kill()
