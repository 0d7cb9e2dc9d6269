"""Uploads through a real mount of pyftpdlib that must not cost the user a file: the
``name.part`` an upload goes through is never a file of the user's."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from drive.support import Mounter, status, status_until

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER

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
    pending = [u["path"] for s in status(m.env) for u in s["pending_uploads"]]
    assert sorted(pending) == ["locked/draft.txt", "locked/second.txt"]
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
    and an existing one edited stay in the spool (EACCES at close). ``rm`` of either is
    refused by the server: EACCES, and the file with its edits is still there, still
    pending (the spool file was dropped before the DELE, and the edits with it)."""
    (ftp_root / "locked").mkdir()
    (ftp_root / "locked" / "old.txt").write_text("the server's copy")
    ftp_server.server.handler.authorizer.override_perm(  # type: ignore[attr-defined]
        FTP_USER, str(ftp_root / "locked"), perm="elr", recursive=True)
    m = mount(*login(ftp_server))
    edits = {"draft.txt": "a new draft", "old.txt": "the user's edit"}
    for name, text in edits.items():
        with pytest.raises(PermissionError):
            (m.path / "locked" / name).write_text(text)
    for name, text in edits.items():
        done = subprocess.run(["rm", "-f", str(m.path / "locked" / name)], capture_output=True, text=True)
        assert done.returncode != 0 and "Permission denied" in done.stderr, done
        with pytest.raises(PermissionError):
            os.unlink(m.path / "locked" / name)
        assert (m.path / "locked" / name).read_text() == text
    assert sorted(os.listdir(m.path / "locked")) == ["draft.txt", "old.txt"]
    pending = [u for s in status(m.env) for u in s["pending_uploads"]]
    assert sorted((u["path"], u["state"]) for u in pending) == [("locked/draft.txt", "failed"),
                                                                 ("locked/old.txt", "failed")]
    assert (ftp_root / "locked" / "old.txt").read_text() == "the server's copy"
    # moved to a folder the server takes, the draft reaches the server
    os.rename(m.path / "locked" / "draft.txt", m.path / "draft.txt")
    assert (ftp_root / "draft.txt").read_text() == "a new draft"
    m.stop()
