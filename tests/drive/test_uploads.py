"""Uploads through a real mount of pyftpdlib that must not cost the user a file: the
``name.part`` an upload goes through is never a file of the user's."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from drive.support import Commands, Mounter, status_until

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER, free_port, stop_without_leaks

pytestmark = pytest.mark.requires_fuse


def login(server: EmbeddedFtpServer) -> list[str]:
    return ["--host", "127.0.0.1", "--port", str(server.port), "--user", FTP_USER, "--password", FTP_PASSWORD]


def test_an_upload_never_overwrites_a_file_named_like_its_part(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                                               tmp_path: Path, mount: Mounter) -> None:
    # a partial download of another client, kept on the server
    (ftp_root / "notes.txt.part").write_bytes(b"the user's own .part file")
    # a folder holding a file and its ".part" (a torrent client's incomplete copy), copied
    # in: one small (uploaded at close) and one big (uploaded while written)
    local = tmp_path / "local" / "Film (2001)"
    local.mkdir(parents=True)
    big = os.urandom(9 * 1024 * 1024 + 5)
    (local / "film.mkv.part").write_bytes(big[: 3 * 1024 * 1024])
    (local / "film.mkv").write_bytes(big)
    (local / "a.txt.part").write_bytes(b"part of a")
    (local / "a.txt").write_bytes(b"all of a")
    m = mount(*login(ftp_server))
    (m.path / "notes.txt").write_text("notes")
    assert (ftp_root / "notes.txt").read_text() == "notes"
    assert (ftp_root / "notes.txt.part").read_bytes() == b"the user's own .part file"
    for order in (["film.mkv.part", "film.mkv", "a.txt.part", "a.txt"],
                  ["film.mkv", "film.mkv.part", "a.txt", "a.txt.part"]):
        target = m.path / f"copy-{order[0]}"
        target.mkdir()
        for name in order:
            shutil.copyfile(local / name, target / name)
        for name in order:
            assert (ftp_root / target.name / name).read_bytes() == (local / name).read_bytes(), name
        assert sorted(os.listdir(ftp_root / target.name)) == sorted(order)
    # two writers at once: the big file streams to the server while its ".part" is written
    target = m.path / "together"
    target.mkdir()
    with (target / "film.mkv").open("wb") as whole, (target / "film.mkv.part").open("wb") as part:
        for i in range(0, len(big), 1024 * 1024):
            whole.write(big[i:i + 1024 * 1024])
            if i < 3 * 1024 * 1024:
                part.write(big[i:i + 1024 * 1024])
                part.flush()
    assert (ftp_root / "together" / "film.mkv").read_bytes() == big
    assert (ftp_root / "together" / "film.mkv.part").read_bytes() == big[: 3 * 1024 * 1024]
    assert sorted(os.listdir(ftp_root / "together")) == ["film.mkv", "film.mkv.part"]



def test_a_refused_draft_moves_to_a_folder_the_server_takes(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                                            mount: Mounter) -> None:
    """A file the server would not take (its folder has no write permission) is kept in
    the spool; ``mv`` to a folder that takes writes uploads it there, and nothing is
    left pending. A move to another refused folder fails and keeps the draft where it
    was; a move over a file of the user's replaces it only once the upload is done."""
    (ftp_root / "locked").mkdir()
    (ftp_root / "locked2").mkdir()
    (ftp_root / "open").mkdir()
    (ftp_root / "open" / "old.txt").write_text("the user's old file")
    for folder in ("locked", "locked2"):
        ftp_server.server.handler.authorizer.override_perm(  # type: ignore[attr-defined]
            FTP_USER, str(ftp_root / folder), perm="elr", recursive=True)
    m = mount(*login(ftp_server))
    for name, text in (("draft.txt", "a draft"), ("second.txt", "a second draft")):
        with pytest.raises(PermissionError):
            (m.path / "locked" / name).write_text(text)
        assert (m.path / "locked" / name).read_text() == text  # kept in the spool, shown
    def pending(st: list[dict[str, Any]]) -> list[str]:
        return sorted(u["path"] for s in st for u in s["pending_uploads"])

    # the mount republishes its status every second: the second draft's, within one
    assert pending(status_until(m.env, lambda st: len(pending(st)) == 2)) == ["locked/draft.txt",
                                                                             "locked/second.txt"]
    # to another folder the server refuses: EACCES, and the draft stays where it was
    with pytest.raises(PermissionError):
        os.rename(m.path / "locked" / "draft.txt", m.path / "locked2" / "draft.txt")
    assert (m.path / "locked" / "draft.txt").read_text() == "a draft"
    assert not (m.path / "locked2" / "draft.txt").exists()
    # mv (a rename on the same mount) to a folder that takes writes: uploaded there
    done = subprocess.run(["mv", str(m.path / "locked" / "draft.txt"), str(m.path / "open" / "draft.txt")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (ftp_root / "open" / "draft.txt").read_text() == "a draft"
    assert (m.path / "open" / "draft.txt").read_text() == "a draft"
    assert not (m.path / "locked" / "draft.txt").exists()
    # over a file of the user's: replaced by the draft
    os.rename(m.path / "locked" / "second.txt", m.path / "open" / "old.txt")
    assert (ftp_root / "open" / "old.txt").read_text() == "a second draft"
    assert sorted(os.listdir(ftp_root / "open")) == ["draft.txt", "old.txt"]
    assert sorted(os.listdir(ftp_root / "locked")) == []
    seen = status_until(m.env, lambda st: not [u for s in st for u in s["pending_uploads"]])
    assert [u for s in seen for u in s["pending_uploads"]] == []
    m.stop()


def test_a_part_file_made_while_its_namesake_uploads_keeps_its_bytes(ftp_server: EmbeddedFtpServer,
                                                                      ftp_root: Path, mount: Mounter) -> None:
    """``film.mkv`` streams to the server (through ``film.mkv.part``) while it is written;
    then the user makes ``film.mkv.part`` through the mount, before and after the big
    file is closed. The upload moves off the name: each file ends with its own bytes
    (the user's film.mkv.part was overwritten by the upload's retry and renamed away)."""
    big = os.urandom(20 * 1024 * 1024 + 3)
    m = mount(*login(ftp_server))
    for mode in ("while-written", "just-closed"):
        folder = m.path / mode
        folder.mkdir()
        with (folder / "film.mkv").open("wb") as whole:
            half = 10 * 1024 * 1024  # past the 8 MiB after which it streams
            for i in range(0, half, 1024 * 1024):
                whole.write(big[i:i + 1024 * 1024])
            whole.flush()
            if mode == "while-written":
                (folder / "film.mkv.part").write_bytes(b"the user's own part")
            for i in range(half, len(big), 1024 * 1024):
                whole.write(big[i:i + 1024 * 1024])
        if mode == "just-closed":
            (folder / "film.mkv.part").write_bytes(b"the user's own part")
        assert (ftp_root / mode / "film.mkv").read_bytes() == big
        assert (ftp_root / mode / "film.mkv.part").read_bytes() == b"the user's own part"
        assert sorted(os.listdir(ftp_root / mode)) == ["film.mkv", "film.mkv.part"]
        assert (folder / "film.mkv.part").read_bytes() == b"the user's own part"
    m.stop()


def test_a_refused_rm_keeps_a_files_unsent_edits(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                                 mount: Mounter) -> None:
    """A folder where the server refuses writes and deletes (pyftpdlib without ``w``
    and ``d``: "550 Not enough privileges." to STOR and DELE): a new file written there
    and an existing one edited stay in the spool (EACCES at close), listed as refused.
    ``rm`` of the edited one is refused by the server: EACCES, and the file with its
    edits is still there, still listed (the spool file was dropped before the DELE, and
    the edits with it). ``rm`` of the new one, which the server never had, drops it
    (the user's way to let go of a refused file)."""
    (ftp_root / "locked").mkdir()
    (ftp_root / "locked" / "old.txt").write_text("the server's copy")
    ftp_server.server.handler.authorizer.override_perm(  # type: ignore[attr-defined]
        FTP_USER, str(ftp_root / "locked"), perm="elr", recursive=True)
    m = mount(*login(ftp_server))
    edits = {"draft.txt": "a new draft", "old.txt": "the user's edit", "second.txt": "a second draft"}
    for name, text in edits.items():
        with pytest.raises(PermissionError):
            (m.path / "locked" / name).write_text(text)
    done = subprocess.run(["rm", "-f", str(m.path / "locked" / "old.txt")], capture_output=True, text=True)
    assert done.returncode != 0 and "Permission denied" in done.stderr, done
    with pytest.raises(PermissionError):
        os.unlink(m.path / "locked" / "old.txt")
    assert (m.path / "locked" / "old.txt").read_text() == edits["old.txt"]
    seen = status_until(m.env, lambda st: len([u for s in st for u in s["pending_uploads"]]) == 3)
    pending = [u for s in seen for u in s["pending_uploads"]]
    assert sorted((u["path"], u["state"]) for u in pending) == [("locked/draft.txt", "refused"),
                                                                 ("locked/old.txt", "refused"),
                                                                 ("locked/second.txt", "refused")]
    assert all("550 Not enough privileges." in u["error"] for u in pending), pending
    os.unlink(m.path / "locked" / "draft.txt")
    assert sorted(os.listdir(m.path / "locked")) == ["old.txt", "second.txt"]
    assert (ftp_root / "locked" / "old.txt").read_text() == "the server's copy"
    # moved to a folder the server takes, a draft reaches the server
    os.rename(m.path / "locked" / "second.txt", m.path / "second.txt")
    assert (ftp_root / "second.txt").read_text() == "a second draft"
    seen = status_until(m.env, lambda st: len([u for s in st for u in s["pending_uploads"]]) == 1)
    pending = [u for s in seen for u in s["pending_uploads"]]
    assert [(u["path"], u["state"]) for u in pending] == [("locked/old.txt", "refused")]
    m.stop()


@pytest.fixture
def counted(ftp_root: Path) -> Iterator[tuple[EmbeddedFtpServer, Commands]]:
    """A pyftpdlib server keeping every command it receives."""
    commands = Commands()
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, port=free_port(),
                               handler_overrides=commands.overrides).start()
    yield server, commands
    stop_without_leaks(server)


def test_a_close_uploads_only_what_its_descriptor_wrote(counted: tuple[EmbeddedFtpServer, Commands],
                                                       ftp_root: Path, mount: Mounter) -> None:
    """A close uploads when something was written through that descriptor since the
    last upload, and then the bytes are on the server when close returns; any other
    close (a descriptor opened for writing and only read, a child's copy of a clean
    one, a second descriptor closed while the first still writes, ``touch`` of an
    unchanged file) sends no STOR, RNFR, RNTO or DELE."""
    server, commands = counted
    (ftp_root / "a.txt").write_text("hello")
    m = mount(*login(server))
    assert (m.path / "a.txt").read_text() == "hello"
    commands.clear()
    # opened for writing, read, closed
    fd = os.open(m.path / "a.txt", os.O_RDWR)
    assert os.read(fd, 5) == b"hello"
    os.close(fd)
    # a clean descriptor a child inherits and closes, then the parent
    fd = os.open(m.path / "a.txt", os.O_WRONLY | os.O_APPEND)
    subprocess.run(["true"], pass_fds=[fd], check=True)
    os.close(fd)
    # touch of an unchanged file: its time only (MFMT)
    subprocess.run(["touch", str(m.path / "a.txt")], check=True)
    assert commands.changes() == []
    # two descriptors: the one that only read closes while the other writes
    writer = os.open(m.path / "a.txt", os.O_RDWR)
    reader = os.open(m.path / "a.txt", os.O_RDWR)
    os.pwrite(writer, b"HE", 0)
    assert os.pread(reader, 5, 0) == b"HEllo"
    os.close(reader)
    assert commands.changes() == []
    os.pwrite(writer, b"LL", 2)
    os.close(writer)
    assert (ftp_root / "a.txt").read_text() == "HELLo"  # on the server when close returns
    assert [c.split()[0] for c in commands.changes()] == ["STOR", "RNFR", "RNTO"]
    # written once, closed by a child that inherited it and by the writer: one upload
    commands.clear()
    with (m.path / "b.txt").open("w") as f:
        f.write("bee")
        f.flush()
        subprocess.run(["true"], pass_fds=[f.fileno()], check=True)
    assert (ftp_root / "b.txt").read_text() == "bee"
    assert [c.split()[0] for c in commands.changes()] == ["STOR", "RNFR", "RNTO"]
    m.stop()
