"""``reelhouse drive spool list|retry|discard`` on real mounts of pyftpdlib: refused edits
of a file the server has (``rm`` on the mount would delete the server's copy) are
listed, sent again once the server takes them, or discarded, nothing else touched;
on a live mount (asked through its run dir) and on the spool of one that has ended;
bad input is one line and a clear exit code."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from drive.support import Mount, Mounter, run_cli, status_until, until

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER

pytestmark = pytest.mark.requires_fuse


def _login(server: EmbeddedFtpServer) -> list[str]:
    return ["--host", "127.0.0.1", "--port", str(server.port), "--user", FTP_USER, "--password", FTP_PASSWORD]


def _kept(env: dict[str, str]) -> list[dict[str, Any]]:
    done = run_cli(env, "drive", "spool", "list", "--json")
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def _spool_files(env: dict[str, str]) -> list[str]:
    root = Path(env["REELHOUSE_DATA_DIR"]) / "drive-spool"
    return sorted(p.name for p in root.rglob("*") if p.is_file() and p.suffix in (".data", ".json"))


@contextmanager
def _looking_at(path: Path) -> Iterator[None]:
    """A program that stats ``path`` all the time (a file manager): the kernel always
    holds its attributes, fetched less than its TTL ago."""
    stop = threading.Event()

    def look() -> None:
        while not stop.wait(0.01):
            path.stat()

    thread = threading.Thread(target=look)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _edit_refused(m: Mount, names: dict[str, str]) -> None:
    """Write ``names`` (name → text) into ``locked/`` through ``m``: each close EACCES."""
    for name, text in names.items():
        with pytest.raises(PermissionError):
            (m.path / "locked" / name).write_text(text)
    status_until(m.env, lambda st: len([u for s in st for u in s["pending_uploads"]]) == len(names))


def _refused_edits(server: EmbeddedFtpServer, root: Path, mount: Mounter) -> tuple[Path, Any, Mount]:
    """A folder ``locked`` with two files the user may read but not write, mounted, and
    an edit of each refused by the server: ``(folder, the server's authorizer, mount)``."""
    locked = root / "locked"
    locked.mkdir()
    (locked / "old.txt").write_text("the server's copy")
    (locked / "other.txt").write_text("the server's other copy")
    authorizer = server.server.handler.authorizer  # type: ignore[attr-defined]
    authorizer.override_perm(FTP_USER, str(locked), perm="elr", recursive=True)
    m = mount(*_login(server))
    _edit_refused(m, {"old.txt": "my edit", "other.txt": "my other edit"})
    return locked, authorizer, m


def test_a_live_mount_retries_and_discards_when_asked(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                                      mount: Mounter) -> None:
    """Refused edits of files the server has, on a live mount: listed with the mount
    point; ``retry`` uploads at once (refused again while the server refuses: exit 4,
    still kept; sent once it takes it); ``discard`` drops the edit and the mount shows
    the server's copy again; a file open on the mount is not discarded (exit 5)."""
    locked, authorizer, m = _refused_edits(ftp_server, ftp_root, mount)
    kept = _kept(m.env)
    assert [(k["path"], k["state"], k["size"], k["mount_point"]) for k in kept] == [
        ("locked/old.txt", "refused", 7, str(m.path)), ("locked/other.txt", "refused", 13, str(m.path))], kept
    assert "550 Not enough privileges." in kept[0]["error"]

    done = run_cli(m.env, "drive", "spool", "retry", "locked/old.txt")  # the server still refuses
    assert done.returncode == 4 and "Not enough privileges" in done.stderr, done
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr, done.stderr
    held = (m.path / "locked" / "other.txt").open("ab")  # a writer holds it
    done = run_cli(m.env, "drive", "spool", "discard", "locked/other.txt")
    assert done.returncode == 5 and "open on the mount" in done.stderr, done
    held.close()
    with _looking_at(m.path / "locked" / "other.txt"):  # the kernel keeps its size (1 s TTL)
        done = run_cli(m.env, "drive", "spool", "discard", "locked/other.txt")
    assert done.returncode == 0 and "discarded locked/other.txt" in done.stdout, done
    # at once: the mount made the kernel drop the edit's size (it showed it up to 1 s more)
    assert (m.path / "locked" / "other.txt").stat().st_size == len("the server's other copy")
    assert (m.path / "locked" / "other.txt").read_text() == "the server's other copy"
    assert (locked / "other.txt").read_text() == "the server's other copy"
    assert [(k["path"], k["state"]) for k in _kept(m.env)] == [("locked/old.txt", "refused")]

    authorizer.override_perm(FTP_USER, str(locked), perm="elradfmwMT", recursive=True)
    done = run_cli(m.env, "drive", "spool", "retry", "locked/old.txt")
    assert done.returncode == 0 and "uploaded" in done.stdout, done
    assert (locked / "old.txt").read_text() == "my edit"
    assert until(lambda: _kept(m.env) == [])
    assert m.stop() == 0
    assert _spool_files(m.env) == []


def test_refused_edits_of_an_ended_mount_are_retried_and_discarded(ftp_server: EmbeddedFtpServer,
                                                                   ftp_root: Path, mount: Mounter) -> None:
    """The spool of a mount that has ended: listed; bad input is one line and a clear
    exit code; ``discard PATH`` deletes that file's spool files only; ``retry PATH``
    clears its refusal and the next mount sends it; ``discard --all`` empties the spool,
    the server's files as they were."""
    locked, authorizer, m = _refused_edits(ftp_server, ftp_root, mount)
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

    done = run_cli(m.env, "drive", "spool", "discard", "locked/other.txt")
    assert done.returncode == 0 and "discarded locked/other.txt" in done.stdout, done
    assert [k["path"] for k in _kept(m.env)] == ["locked/old.txt"]
    assert len(_spool_files(m.env)) == 2
    assert (locked / "other.txt").read_text() == "the server's other copy"

    done = run_cli(m.env, "drive", "spool", "retry", "locked/old.txt")
    assert done.returncode == 0 and "next mount of its server sends it" in done.stdout, done
    assert [(k["path"], k["state"]) for k in _kept(m.env)] == [("locked/old.txt", "pending")]
    authorizer.override_perm(FTP_USER, str(locked), perm="elradfmwMT", recursive=True)
    m = mount(*_login(ftp_server))
    assert until(lambda: (locked / "old.txt").read_text() == "my edit")
    assert (m.path / "locked" / "other.txt").read_text() == "the server's other copy"
    assert m.stop() == 0
    assert _kept(m.env) == [] and _spool_files(m.env) == []

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


def _over_quota(root: Path) -> EmbeddedFtpServer:
    """A pyftpdlib that keeps the head of each ``.part`` uploaded, then answers 552."""
    from pyftpdlib.handlers import FTPHandler

    def over_quota(self: FTPHandler, file: str, mode: str = "w") -> None:
        if file.endswith(".part"):
            Path(file).write_bytes(b"the head")
        self.respond("552 Requested file action aborted. Exceeded storage allocation.")

    return EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD, handler_overrides={"ftp_STOR": over_quota}).start()


def test_discard_without_a_mount_of_a_source_uses_its_stored_login(ftp_root: Path, tmp_path: Path,
                                                                   drive_env: dict[str, str],
                                                                   mount: Mounter) -> None:
    from reelhouse.config import load_settings
    from reelhouse.core import Core
    from reelhouse.sources.registry import SourceSpec

    server = _over_quota(ftp_root)
    try:
        core = Core(load_settings(data_dir=Path(drive_env["REELHOUSE_DATA_DIR"])))
        try:
            core.sources.create(SourceSpec(name="seedbox", kind="ftp", host="127.0.0.1", port=server.port,
                                           username=FTP_USER, password=FTP_PASSWORD))
        finally:
            core.close()
        conf = tmp_path / "drive.toml"
        conf.write_text("[connection]\nretry_attempts = 1\ntimeout_seconds = 5\n")
        m = mount("--source", "seedbox", "--config", str(conf))
        with pytest.raises(OSError), (m.path / "film.mkv").open("wb") as f:
            f.write(b"x" * 100_000)
        assert m.stop() != 0
        assert sorted(p.name for p in ftp_root.iterdir()) == ["film.mkv.part"]
        done = run_cli(m.env, "drive", "spool", "discard", "film.mkv")  # no password asked: the stored one
        assert done.returncode == 0, done.stderr
        assert "removed its partial upload film.mkv.part" in done.stdout
        assert list(ftp_root.iterdir()) == [] and _kept(m.env) == []
    finally:
        server.stop()


def test_discard_without_a_mount_takes_the_part_off_the_server(ftp_root: Path, tmp_path: Path,
                                                               mount: Mounter) -> None:
    """A server over its quota keeps the head of each upload's ``.part`` (552); the
    mount ends with the files kept. ``drive spool discard`` with no mount running
    connects (the spool's ``server.info``, the password from ``--password-env``) and
    removes the ``.part``, but not a larger file of that name (not ours); without the
    password it says so and the next mount of the server removes it."""
    conf = tmp_path / "drive.toml"
    conf.write_text("[connection]\nretry_attempts = 1\ntimeout_seconds = 5\n")
    server = _over_quota(ftp_root)
    try:
        m = mount(*_login(server), "--config", str(conf))
        for name in ("a.mkv", "b.mkv", "tiny.txt"):
            with pytest.raises(OSError), (m.path / name).open("wb") as f:
                f.write(b"x" * 100_000 if name != "tiny.txt" else b"x")
        assert m.stop() != 0  # kept in the spool
        parts = ["a.mkv.part", "b.mkv.part", "tiny.txt.part"]
        assert sorted(p.name for p in ftp_root.iterdir()) == parts
        assert sorted(f["path"] for f in _kept(m.env)) == ["a.mkv", "b.mkv", "tiny.txt"]

        done = run_cli(m.env, "drive", "spool", "discard", "b.mkv")  # no password: said, left for later
        assert done.returncode == 0, done.stderr
        assert "needs a password" in done.stdout and "the next mount of the server removes it" in done.stdout
        assert sorted(p.name for p in ftp_root.iterdir()) == parts
        env = {**m.env, "FTP_PW": FTP_PASSWORD}
        done = run_cli(env, "drive", "spool", "discard", "a.mkv", "--password-env", "FTP_PW")
        assert done.returncode == 0, done.stderr
        assert "removed its partial upload a.mkv.part" in done.stdout
        assert sorted(p.name for p in ftp_root.iterdir()) == ["b.mkv.part", "tiny.txt.part"]
        done = run_cli(env, "drive", "spool", "discard", "tiny.txt", "--password-env", "FTP_PW")
        assert done.returncode == 0, done.stderr
        assert "larger than the kept file" in done.stdout  # 8 bytes there, 1 kept: not ours
        assert _kept(m.env) == []

        again = mount(*_login(server), "--config", str(conf))  # removes what discard could not
        assert until(lambda: sorted(p.name for p in ftp_root.iterdir()) == ["tiny.txt.part"])
        assert again.stop() == 0
        assert [p.name for p in (Path(m.env["REELHOUSE_DATA_DIR"]) / "drive-spool").rglob("*")
                if p.is_file() and p.name != "server.info"] == []
    finally:
        server.stop()
