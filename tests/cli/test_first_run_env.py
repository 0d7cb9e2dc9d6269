"""A machine the CLI cannot work on (QA, hostile tester): a data dir that cannot be
created or written, a data dir that is a file, a database that refuses the login or
is not there. Each ends with one line on stderr naming what is wrong and the config
exit code (7), never a traceback, and never the database password."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

#: root reads and writes anything: these run the CLI as root without the capabilities
#: that override file modes (setpriv, util-linux). Not as nobody: nobody cannot enter a
#: checkout cloned into a private (0700) folder, and so could not start the CLI at all.
as_nobody = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                               reason="needs root and setpriv to drop CAP_DAC_OVERRIDE")
NOBODY = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
          "--bounding-set=-dac_override,-dac_read_search"]


def _cli(env_extra: dict[str, str], *args: str, nobody: bool = False) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", **env_extra)
    env.pop("REELHOUSE_CONFIG", None)
    return subprocess.run([*(NOBODY if nobody else []), sys.executable, "-m", "reelhouse.cli", *args],
                          env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def _assert_one_line(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 7, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for word in words:
        assert word in lines[0], proc.stderr


def test_data_dir_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    proc = _cli({"REELHOUSE_DATA_DIR": str(tmp_path / "data")}, "source", "list")
    _assert_one_line(proc, "data_dir", str(tmp_path / "data"))


@as_nobody
def test_data_dir_cannot_be_created(tmp_path: Path) -> None:
    parent = tmp_path / "ro"
    parent.mkdir(mode=0o555)
    proc = _cli({"REELHOUSE_DATA_DIR": str(parent / "data")}, "source", "list", nobody=True)
    _assert_one_line(proc, "data_dir", "ermission denied")


@as_nobody
def test_data_dir_read_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o555)
    proc = _cli({"REELHOUSE_DATA_DIR": str(data)}, "user", "list", nobody=True)
    _assert_one_line(proc, str(data))


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://reelhouse:wrong-secret-pw@127.0.0.1/reelhouse_none",
    "postgresql+psycopg://reelhouse:wrong-secret-pw@127.0.0.1:1/reelhouse_none",
])
def test_database_unreachable(tmp_path: Path, url: str) -> None:
    proc = _cli({"REELHOUSE_DATA_DIR": str(tmp_path / "data"), "REELHOUSE_DATABASE_URL": url},
                "source", "list")
    _assert_one_line(proc, "database")
    assert "wrong-secret-pw" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("kind", [["--ftp", "127.0.0.1"], ["--jellyfin", "http://127.0.0.1:1"]])
def test_source_add_without_a_terminal_asks_for_no_password(tmp_path: Path, kind: list[str]) -> None:
    """No --password and no terminal to ask on (a script, cron): one line, exit 2; it
    was getpass's warning, the prompt and 'Aborted.' with exit 1."""
    proc = _cli({"REELHOUSE_DATA_DIR": str(tmp_path / "data")}, "source", "add", "x", *kind, "--user", "u")
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stderr.strip() == "error: no password: give --password, or run it in a terminal"


@pytest.mark.parametrize("command", [["source", "test", "s"], ["scan", "s"], ["sync", "s"]])
def test_ctrl_c_says_interrupted(tmp_path: Path, command: list[str]) -> None:
    """Ctrl-C while a command waits for a server that never answers: 'interrupted' on
    stderr and exit 130 (Typer turned it into a silent exit 130), at once: not after
    the connect timeout of a worker thread that the exit would wait for."""
    import contextlib
    import signal
    import socket
    import time

    with socket.socket() as silent:  # accepts connections, never sends a banner
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        # a connect timeout of 120 s: an exit that waited for it shows as such, and a loaded
        # 2-core machine may take several seconds to exit cleanly (it took over 5 s once)
        env = {"REELHOUSE_DATA_DIR": str(tmp_path / "data"), "REELHOUSE_FTP_CONNECT_TIMEOUT": "120",
               "REELHOUSE_FTP_READ_TIMEOUT": "120"}
        port = str(silent.getsockname()[1])
        assert _cli(env, "source", "add", "s", "--ftp", "127.0.0.1", "--port", port, "--user", "u",
                    "--password", "p").returncode == 0
        full = dict(os.environ, COLUMNS="200", NO_COLOR="1", **env)
        silent.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            while True:  # connections made before this command's (none expected): not its
                silent.accept()[0].close()
        silent.settimeout(60)
        proc = subprocess.Popen([sys.executable, "-m", "reelhouse.cli", *command], env=full,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        # Ctrl-C once the command is connected and waits for the banner: a fixed 3 s could
        # end before a loaded machine had even imported the CLI (a KeyboardInterrupt
        # traceback, not the clean exit under test)
        try:
            waiting, _ = silent.accept()
        except TimeoutError:
            proc.kill()
            proc.communicate()
            pytest.fail("the command never connected to the server")
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=30)  # well before the connect timeout
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail("Ctrl-C did not end the command within 30 s")
        waiting.close()
    assert proc.returncode == 130
    assert err.strip() == "interrupted"
