"""``reelhouse offline …`` as a real process: the operator lists every copy with who
keeps it, shows one user's claims, keeps and releases for a user (a release removes
only that user's claim; the copy goes with the last), removes a copy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie, SourceRow


def _run(tmp_path: Path, *args: str, code: int = 0) -> str:
    env = dict(os.environ, REELHOUSE_DATA_DIR=str(tmp_path / "data"), COLUMNS="200", NO_COLOR="1")
    proc = subprocess.run([sys.executable, "-m", "reelhouse.cli", "offline", *args], env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return proc.stdout if code == 0 else proc.stderr


def test_offline_commands(tmp_path: Path) -> None:
    films = tmp_path / "films"
    films.mkdir()
    (films / "Heat.1995.mkv").write_bytes(b"h" * 1000)
    core = Core(load_settings(data_dir=tmp_path / "data"), consume_jobs=False)
    try:
        with core.sessions() as s:
            src = SourceRow(name="disk", kind="local", path=str(films))
            movie = Movie(title="Heat", year=1995, match_key="heat-1995")
            s.add_all([src, movie])
            s.flush()
            s.add(MediaFile(source_id=src.id, path="Heat.1995.mkv", size=1000, kind="movie", movie_id=movie.id))
            s.commit()
            scope = f"movie:{movie.id}"
        for name in ("ann", "bob", "cat"):
            core.users.add(name, f"{name}-password")
        ann, bob = core.users.by_name("ann").id, core.users.by_name("bob").id
        core.offline.keep(scope, ann)
        core.offline.keep(scope, bob)  # the same copy (its download waits for a server)
        [anns] = core.offline.mine(ann)
    finally:
        core.close()

    listing = _run(tmp_path, "list")
    assert f"ann ({anns.claim_id}), bob" in listing and scope in listing and "pending" in listing
    assert scope in _run(tmp_path, "list", "--user", "bob")
    assert "cat keeps nothing offline" in _run(tmp_path, "release", scope, "--user", "cat", code=3)
    assert "SCOPE --user NAME" in _run(tmp_path, "release", scope, code=2)

    _run(tmp_path, "release", scope, "--user", "bob")  # bob's claim only
    listing = _run(tmp_path, "list")
    assert f"ann ({anns.claim_id})" in listing and "bob" not in listing
    _run(tmp_path, "release", "--claim", str(anns.claim_id))  # the last: the copy goes
    assert scope not in _run(tmp_path, "list")
    assert "no offline claim" in _run(tmp_path, "release", "--claim", str(anns.claim_id), code=3)

    assert "kept movie" in _run(tmp_path, "keep", scope, "--user", "cat")
    new = next(line.split()[1] for line in _run(tmp_path, "list").splitlines() if "cat (" in line)
    _run(tmp_path, "remove", new)
    assert scope not in _run(tmp_path, "list")
    assert "no user named 'dan'" in _run(tmp_path, "keep", scope, "--user", "dan", code=3)
