"""Secrets stay out of the terminal and of every reelhouse log line: an FTP server that
says the wrong password back in its 530 reply makes ``source test`` and ``scan`` fail,
and the CLI prints the error without it; a ``reelhouse.*`` logger made after the Core
started (a module imported late) is redacted like the others."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_USER, EchoingAuthorizer, free_port

WRONG = "Wrong-SECRET-q9z4"


def test_cli_errors_print_no_secret(tmp_path: Path) -> None:
    (tmp_path / "ftp").mkdir()
    server = EmbeddedFtpServer(tmp_path / "ftp", FTP_USER, "the-right-one", port=free_port(),
                               handler_overrides={"auth_failed_timeout": 0}).start()
    server.server.handler.authorizer = EchoingAuthorizer(server.server.handler.authorizer)
    env = dict(os.environ, REELHOUSE_DATA_DIR=str(tmp_path / "data"), COLUMNS="300", NO_COLOR="1")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "reelhouse.cli", *args], env=env, capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)

    try:
        added = run("source", "add", "box", "--ftp", "127.0.0.1", "--port", str(server.port),
                    "--user", FTP_USER, "--password", WRONG)
        assert added.returncode == 0, added.stderr
        for args in (("source", "test", "box"), ("scan", "box")):
            proc = run(*args)
            assert proc.returncode != 0, (args, proc.stdout, proc.stderr)
            out = proc.stdout + proc.stderr
            assert "Traceback" not in out
            assert "530" in out or "Login incorrect" in out, (args, out)  # the error is there...
            assert WRONG not in out and WRONG.lower() not in out.lower(), (args, out)  # ...its secret not
            assert "***" in out, (args, out)
    finally:
        server.stop()


def test_a_logger_made_after_the_core_started_is_redacted(tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    core = Core(load_settings(data_dir=tmp_path / "data"))
    try:
        core.sources.create(SourceSpec(name="box", kind="ftp", host="127.0.0.1", port=21,
                                       username="reel", password=WRONG))
        caplog.set_level(logging.INFO)
        late = logging.getLogger("reelhouse.made_later_by_a_test")
        deeper = logging.getLogger("reelhouse.made_later_by_a_test.child")
        late.warning("server said: 530 Login incorrect: reel/%s", WRONG)
        deeper.warning("reply %s", f"530 {WRONG.upper()}")
        try:
            raise RuntimeError(f"reply: 530 {WRONG}")
        except RuntimeError:
            late.exception("a failure")
        logging.getLogger("someone.else").warning("not ours: %s", "untouched")
        texts = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
        assert any("made_later" in r.name for r in caplog.records)
        assert all(WRONG.lower() not in t.lower() for t in texts), texts
        assert sum("***" in t for t in texts) == 3, texts
        assert "not ours: untouched" in texts
    finally:
        core.close()
    # a closed Core's redactor is off again
    caplog.clear()
    logging.getLogger("reelhouse.made_later_by_a_test").warning("after: %s", WRONG)
    assert WRONG in caplog.records[-1].getMessage()
