"""The command line, run as a real process: adding and listing sources, a scan with its
summary, and user mistakes that end with one line on stderr and the documented exit
code (cli.EXIT_CODES), never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = dict(os.environ, REELHOUSE_DATA_DIR=str(tmp_path / "data"), COLUMNS="200", NO_COLOR="1")

    def _run(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "reelhouse.cli", *args], env=env, capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        return proc

    return _run


def test_add_list_scan(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    media = tmp_path / "media"
    (media / "Heat (1995)").mkdir(parents=True)
    (media / "Heat (1995)/Heat.1995.mkv").write_bytes(b"x" * 100)
    (media / "Friends/Season 1").mkdir(parents=True)
    (media / "Friends/Season 1/Friends.S01E02E03.mkv").write_bytes(b"y" * 100)
    assert "added source 'disk'" in run("source", "add", "disk", "--local", str(media)).stdout
    listing = run("source", "list").stdout
    assert "disk" in listing and str(media) in listing
    out = run("scan", "disk").stdout
    assert "✓ disk: 2 files in 4 folders" in out and "2 added" in out and "2 matched" in out
    again = run("scan").stdout  # all sources; nothing changed
    assert "0 added, 0 updated, 0 moved, 0 missing, 0 probed, 0 matched" in again


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("source", "add", "x"), 2, "give exactly one of --local PATH or --ftp HOST"),
        (("source", "add", "x", "--local", "/no/such/folder"), 2, "folder"),
        (("scan", "nope"), 3, "nope"),
        (("source", "remove", "nope"), 3, "nope"),
        (("user", "add", "bob", "--password", "short"), 2, "8 characters"),
        (("source", "add", "x", "--ftp", "127.0.0.1", "--port", "70000"), 2, "port"),
        # an id past what the database holds is "no such" too (was an OverflowError traceback)
        (("scan", "99999999999999999999999"), 3, "99999999999999999999999"),
        (("source", "test", "99999999999999999999999"), 3, "99999999999999999999999"),
        (("transfer", "cancel", "99999999999999999999999"), 3, "99999999999999999999999"),
        (("worker", "--workers", "-1"), 2, "--workers"),  # started with -1 threads, ran nothing
        # an empty name (`reelhouse scan "$SOURCE"` with the variable unset) scanned every source
        (("scan", ""), 3, "no source named ''"),
    ],
)
def test_user_mistakes_exit_with_their_code(run, args: tuple[str, ...], code: int, message: str) -> None:  # type: ignore[no-untyped-def]
    proc = run(*args, code=code)
    assert proc.stderr.startswith("error:") and message in proc.stderr


def test_bad_settings_name_the_setting(tmp_path: Path) -> None:
    env = dict(os.environ, REELHOUSE_DATA_DIR=str(tmp_path), REELHOUSE_JOBS_BACKEND="redis")
    proc = subprocess.run([sys.executable, "-m", "reelhouse.cli", "source", "list"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 7 and "redis_url" in proc.stderr and "Traceback" not in proc.stderr



def test_names_that_look_like_terminal_markup_are_printed_as_they_are(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    """Square brackets are Rich's markup: ``[h264]`` or ``[eng]`` in a name vanished
    from the line that named it (a style tag), and a source named ``disk[/red]``, or a
    path that reads ``[/x]`` (a folder ``Bad [`` holding ``x] (2019)``) in a scan's
    error lines or an upload's progress bar, ended the command with a MarkupError
    traceback. Names are printed as they are."""
    media = tmp_path / "media"
    (media / "Film [h264] (2019)").mkdir(parents=True)
    (media / "Film [h264] (2019)/Film [eng] (2019).mkv").write_bytes(b"")  # an error line naming it
    (media / "Bad [/x] (2019)").mkdir(parents=True)
    (media / "Bad [/x] (2019)/Bad.mkv").write_bytes(b"")
    assert "added source 'disk[/red]'" in run("source", "add", "disk[/red]", "--local", str(media)).stdout
    assert "disk[/red]" in run("source", "list").stdout
    out = run("scan", "disk[/red]").stdout
    assert "disk[/red]: 2 files" in out, out
    assert "2 files cannot be played" in out, out
    assert "Film [h264] (2019)/Film [eng] (2019).mkv: cannot be played: empty file" in out, out
    assert "Bad [/x] (2019)/Bad.mkv: cannot be played: empty file" in out, out
    assert "disk[/red]: 0 added" in run("sync", "disk[/red]").stdout
    local = tmp_path / "up.mkv"
    local.write_bytes(b"z" * 1000)
    assert "size verified" in run("transfer", "upload", str(local), "disk[/red]", "New [/b] [eng].mkv").stdout
    assert (media / "New [/b] [eng].mkv").read_bytes() == b"z" * 1000
    assert "[eng].mkv" in run("transfer", "list").stdout
    assert "Nope [/x] [eng].mkv" in run("transfer", "download", "disk[/red]", "Nope [/x] [eng].mkv", code=3).stderr


def test_uploading_a_folder_says_it_is_a_folder(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    """``reelhouse transfer upload FOLDER`` said "no such local file: FOLDER" (exit 3),
    which sent the user looking for a typo in a path that is there; it is a usage
    mistake (exit 2) that says the path is a folder."""
    media = tmp_path / "media"
    media.mkdir()
    folder = tmp_path / "Season 1"
    folder.mkdir()
    run("source", "add", "disk", "--local", str(media))
    err = run("transfer", "upload", str(folder), "disk", "Season 1", code=2).stderr
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1, err
    assert str(folder) in err and "is a folder" in err and "no such" not in err, err
    assert list(media.iterdir()) == []


@pytest.mark.parametrize(("args", "message"), [
    (("--port", "-5"), "--port"),  # went on to make the samples, then failed to bind
    (("--port", "70000"), "--port"),
    (("--dir", "{file}/demo"), "--dir"),  # a NotADirectoryError traceback
])
def test_demo_mistakes_are_one_line(tmp_path: Path, run, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "file").write_text("x")
    args = tuple(a.replace("{file}", str(tmp_path / "file")) for a in args)
    if "--dir" not in args:
        args = (*args, "--dir", str(tmp_path / "demo"))
    proc = run("demo", *args, code=2)
    assert proc.stderr.startswith("error:") and message in proc.stderr, proc.stderr
    assert not (tmp_path / "demo").exists()  # nothing made


def test_the_demo_keeps_to_its_folder_whatever_the_environment_says(tmp_path: Path) -> None:
    """`make demo` in a shell whose REELHOUSE_DATABASE_URL (or REELHOUSE_CONFIG) names a
    real server's database: the demo added its two sources to that library and reset its
    admin's password (ending the admin's sessions). The demo's settings are its folder's
    only; the real library is left as it was."""
    from reelhouse.config import load_settings
    from reelhouse.core import Core
    from reelhouse.demo.run import SAMPLES

    real_db = tmp_path / "real" / "reelhouse.db"
    real_db.parent.mkdir()
    real = Core(load_settings(data_dir=tmp_path / "real"))
    try:
        real.users.add("admin", "real-admin-password", is_admin=True)
    finally:
        real.close()
    demo = tmp_path / "demo"
    for half, rel, *_ in SAMPLES:  # no clip making: files that are there already are kept
        (demo / "media" / half / rel).parent.mkdir(parents=True, exist_ok=True)
        (demo / "media" / half / rel).write_bytes(b"not a film")
    env = dict(os.environ, REELHOUSE_DATABASE_URL=f"sqlite:///{real_db}", REELHOUSE_DATA_DIR=str(tmp_path / "real"),
               COLUMNS="200", NO_COLOR="1")
    env.pop("REELHOUSE_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "-m", "reelhouse.cli", "demo", "--dir", str(demo), "--port", "0"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL)
    out = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # until it serves (or ends): generous, no fixed wait
            out.append(line)
            if "Ctrl-C to stop" in line:
                break
    finally:
        proc.terminate()
        proc.wait(60)
    assert any("Ctrl-C to stop" in line for line in out), "".join(out)
    real = Core(load_settings(data_dir=tmp_path / "real", database_url=f"sqlite:///{real_db}"))
    try:
        assert [s.name for s in real.sources.list()] == []
        assert real.users.authenticate("admin", "real-admin-password") is not None
    finally:
        real.close()
    assert (demo / "data" / "reelhouse.db").exists()


def test_serve_on_a_port_in_use_is_one_line(run) -> None:  # type: ignore[no-untyped-def]
    """A port another server holds, or a host that is no address of this machine: one
    line naming it and exit 7 (a setting), before anything starts. uvicorn said so after
    the "reelhouse on …" line and the process exited 3, the code of "not found"."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run("serve", "--port", str(port), code=7)
        assert proc.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: "), proc.stderr
        assert "reelhouse on" not in proc.stdout, proc.stdout
    proc = run("serve", "--host", "no-such-host.invalid", "--port", "0", code=7)
    assert proc.stderr.startswith("error: cannot listen on no-such-host.invalid:0: "), proc.stderr
