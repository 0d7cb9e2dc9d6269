"""``reelhouse user …`` as a real process: the password never on argv."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from reelhouse.config import load_settings
from reelhouse.core import Core


def _run(tmp_path: Path, *args: str, code: int = 0, env: dict[str, str] | None = None,
         stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ, REELHOUSE_DATA_DIR=str(tmp_path / "data"), COLUMNS="200", NO_COLOR="1")
    full.pop("REELHOUSE_NEW_PASSWORD", None)
    full.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "reelhouse.cli", "user", *args], env=full,
                          capture_output=True, text=True, timeout=120, input=stdin)
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return proc


def test_user_commands(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("boss-password\n")
    _run(tmp_path, "add", "boss", "--admin", "--password-file", str(pw))
    _run(tmp_path, "add", "friend", env={"REELHOUSE_NEW_PASSWORD": "friend-password"})
    _run(tmp_path, "add", "kid", "--password-file", "-", stdin="kid-password\n")
    err = _run(tmp_path, "add", "nobody", code=2, stdin="").stderr
    assert "password" in err
    listing = _run(tmp_path, "list").stdout
    assert "boss" in listing and "admin" in listing and "friend" in listing
    core = Core(load_settings(data_dir=tmp_path / "data"), consume_jobs=False)
    try:
        core.auth_sessions.create(core.users.by_name("friend").id)
        _run(tmp_path, "disable", "friend")
        assert "disabled" in _run(tmp_path, "list").stdout
        assert core.auth_sessions.list(core.users.by_name("friend").id) == []
        _run(tmp_path, "enable", "friend")
        _run(tmp_path, "passwd", "friend", env={"REELHOUSE_NEW_PASSWORD": "new-friend-pass"})
        core.users.authenticate("friend", "new-friend-pass")
        _run(tmp_path, "remove", "kid")
        assert "no user named 'kid'" in _run(tmp_path, "remove", "kid", code=3).stderr
        assert "admin" in _run(tmp_path, "remove", "boss", code=5).stderr
    finally:
        core.close()


def test_a_refused_name_is_said_before_the_password_is_asked(tmp_path: Path) -> None:
    """``reelhouse user passwd nobody`` and ``reelhouse user add`` of a taken or bad name
    asked for the password (twice, at a terminal) and only then said the name was wrong;
    without a terminal they said "no password". The name is checked first (found by an
    outside-in hunt)."""
    _run(tmp_path, "add", "boss", "--admin", env={"REELHOUSE_NEW_PASSWORD": "boss-password"})
    err = _run(tmp_path, "passwd", "nobody", code=3).stderr
    assert err.strip() == "error: no user named 'nobody'"
    err = _run(tmp_path, "add", "BOSS", code=5).stderr
    assert "exists already" in err, err
    err = _run(tmp_path, "add", "bad name!", code=2).stderr
    assert "user name must be" in err, err


def test_list_says_all_sources_for_an_admin_whatever_their_restriction(tmp_path: Path) -> None:
    """An admin sees every source (auth/access.py ``sees_all``); ``user list`` showed
    an admin whose ``restrict_sources`` was set (the API accepts it) as seeing "none"."""
    core = Core(load_settings(data_dir=tmp_path / "data"), consume_jobs=False)
    try:
        core.users.add("chief", "chief-password", is_admin=True, restrict_sources=True)
        core.users.add("bob", "bob-password", restrict_sources=True)
    finally:
        core.close()
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in _run(tmp_path, "list").stdout.splitlines()]
    sources = {row[1]: row[4] for row in cells if len(row) == 6}  # id, name, role, state, sources, sessions
    assert sources == {"chief": "all", "bob": "none"}, cells
