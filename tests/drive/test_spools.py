"""``reelhouse drive spool list|retry|discard`` on real mounts of pyftpdlib: refused edits
of a file the server has (``rm`` on the mount would delete the server's copy) are
listed, sent again once the server takes them, or discarded, nothing else touched;
a live mount's files are left alone; bad input is one line and a clear exit code."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from drive.support import Mount, Mounter, run_cli, status_until

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER

pytestmark = pytest.mark.requires_fuse


def _login(server: EmbeddedFtpServer) -> list[str]:
    return ["--host", "127.0.0.1", "--port", str(server.port), "--user", FTP_USER, "--password", FTP_PASSWORD]


def _kept(env: dict[str, str]) -> list[dict[str, Any]]:
    done = run_cli(env, "drive", "spool", "list", "--json")
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def _until(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _spool_files(env: dict[str, str]) -> list[str]:
    root = Path(env["REELHOUSE_DATA_DIR"]) / "drive-spool"
    return sorted(p.name for p in root.rglob("*") if p.is_file() and p.suffix in (".data", ".json"))


def _edit_refused(m: Mount, names: dict[str, str]) -> None:
    """Write ``names`` (name → text) into ``locked/`` through ``m``: each close EACCES."""
    for name, text in names.items():
        with pytest.raises(PermissionError):
            (m.path / "locked" / name).write_text(text)
    status_until(m.env, lambda st: len([u for s in st for u in s["pending_uploads"]]) == len(names))


def test_refused_edits_are_listed_retried_and_discarded(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                                        mount: Mounter) -> None:
    locked = ftp_root / "locked"
    locked.mkdir()
    (locked / "old.txt").write_text("the server's copy")
    (locked / "other.txt").write_text("the server's other copy")
    authorizer = ftp_server.server.handler.authorizer  # type: ignore[attr-defined]
    authorizer.override_perm(FTP_USER, str(locked), perm="elr", recursive=True)
    m = mount(*_login(ftp_server))
    _edit_refused(m, {"old.txt": "my edit", "other.txt": "my other edit"})

    # while the mount lives: listed with its mount point, left alone by retry and discard
    kept = _kept(m.env)
    assert [(k["path"], k["state"], k["size"], k["mount_point"]) for k in kept] == [
        ("locked/old.txt", "refused", 7, str(m.path)), ("locked/other.txt", "refused", 13, str(m.path))], kept
    assert "550 Not enough privileges." in kept[0]["error"]
    for verb in ("retry", "discard"):
        done = run_cli(m.env, "drive", "spool", verb, "locked/old.txt")
        assert done.returncode == 5 and "live mount at" in done.stderr, done
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    done = run_cli(m.env, "drive", "spool", "discard", "--all")
    assert done.returncode == 5 and "left alone: 2 upload(s) kept by a live mount" in done.stderr, done
    assert m.stop() != 0  # the refused edits are kept

    kept = _kept(m.env)
    assert [(k["path"], k["state"], k["mount_point"]) for k in kept] == [
        ("locked/old.txt", "refused", None), ("locked/other.txt", "refused", None)], kept
    said = " ".join(run_cli(m.env, "drive", "spool", "list").stdout.split())
    assert "locked/old.txt" in said and "refused" in said, said

    # bad input: one line, a clear exit code, nothing changed
    for args, code, words in ((["discard"], 2, "give the exact PATH"),
                              (["discard", "locked/old.txt", "--all"], 2, "not both"),
                              (["discard", "old.txt"], 3, "no upload kept in the spool as 'old.txt'"),
                              (["retry", "locked/nope.txt"], 3, "no upload kept"),
                              (["discard", "--all", "--spool", "elsewhere"], 3, "nothing kept in a spool named")):
        done = run_cli(m.env, "drive", "spool", *args)
        assert done.returncode == code and words in done.stderr, (args, done)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert len(_spool_files(m.env)) == 4

    # discard one by its exact path: its spool files go, the server's file stays
    done = run_cli(m.env, "drive", "spool", "discard", "locked/other.txt")
    assert done.returncode == 0 and "discarded locked/other.txt" in done.stdout, done
    assert [k["path"] for k in _kept(m.env)] == ["locked/old.txt"]
    assert len(_spool_files(m.env)) == 2
    assert (locked / "other.txt").read_text() == "the server's other copy"

    # retry the other once the server takes it: the next mount sends it
    done = run_cli(m.env, "drive", "spool", "retry", "locked/old.txt")
    assert done.returncode == 0 and "next mount of its server sends it" in done.stdout, done
    assert [(k["path"], k["state"]) for k in _kept(m.env)] == [("locked/old.txt", "pending")]
    authorizer.override_perm(FTP_USER, str(locked), perm="elradfmwMT", recursive=True)
    m = mount(*_login(ftp_server))
    assert _until(lambda: (locked / "old.txt").read_text() == "my edit")
    assert status_until(m.env, lambda st: [u for s in st for u in s["pending_uploads"]] == []) is not None
    assert (m.path / "locked" / "other.txt").read_text() == "the server's other copy"
    assert m.stop() == 0
    assert _kept(m.env) == [] and _spool_files(m.env) == []

    # --all discards every kept upload of ended mounts
    authorizer.override_perm(FTP_USER, str(locked), perm="elr", recursive=True)
    m = mount(*_login(ftp_server))
    _edit_refused(m, {"old.txt": "again", "new.txt": "a new draft"})
    assert m.stop() != 0
    done = run_cli(m.env, "drive", "spool", "discard", "--all")
    assert done.returncode == 0 and done.stdout.count("discarded ") == 2, done
    assert _kept(m.env) == [] and _spool_files(m.env) == []
    assert sorted(p.name for p in locked.iterdir()) == ["old.txt", "other.txt"]
    assert (locked / "old.txt").read_text() == "my edit"
    done = run_cli(m.env, "drive", "spool", "discard", "--all")
    assert done.returncode == 0 and "nothing kept" in done.stdout, done
