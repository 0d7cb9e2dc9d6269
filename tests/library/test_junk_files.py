"""Files no library shows (Jellyfin's and Plex's ignore rules): macOS AppleDouble
``._Film.mkv`` (4 KiB of resource fork next to every file a Mac copied to a NAS or an
FTP server), other hidden files and folders (``.Trash-1000``, ``.@__thumb``), and NAS
system folders (Synology ``@eaDir`` and ``#recycle``, QNAP ``@Recycle``, Windows
``$RECYCLE.BIN`` and ``System Volume Information``, ``lost+found``). A scan indexed them:
a second "version" of every film that fails its probe, and deleted films back in the
grid."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelhouse.library.naming import is_video_file, is_video_folder

from helpers import place, wait_job

pytestmark = pytest.mark.requires_ffmpeg

JUNK = ["Films/Heat (1995)/._Heat (1995).mkv", "Films/.hidden (2015).mp4",
        ".Trash-1000/files/Deleted Film (2001).mp4", "#recycle/Old (1990).mp4",
        "@eaDir/Heat (1995).mkv/SYNOINDEX_MEDIA_INFO.mkv", "Films/@Recycle/Gone (1991).mkv",
        "$RECYCLE.BIN/S-1-5-21/$R1.mkv", "System Volume Information/x.mkv", "lost+found/#123.mkv",
        "Films/.@__thumb/Heat (1995).mkv"]


@pytest.mark.parametrize("path", JUNK)
def test_junk_is_no_video(path: str) -> None:
    folder, _, name = path.rpartition("/")
    assert not (is_video_folder(folder) and is_video_file(name))


@pytest.mark.parametrize("path", ["Films/Heat (1995)/Heat (1995).mkv", "Films/#1 Hit (2003).mp4",
                                  "Films/Heat.1995.mkv", "Shows/@midnight/Season 1/@midnight S01E01.mkv"])
def test_real_titles_stay(path: str) -> None:
    folder, _, name = path.rpartition("/")
    assert is_video_folder(folder) and is_video_file(name)


def test_a_scan_skips_junk(client: TestClient, tmp_path: Path, sample_mp4: Path) -> None:
    root = tmp_path / "disk"
    place(sample_mp4, root, "Films/Heat (1995)/Heat (1995).mkv")
    for rel in JUNK:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"\x00\x05\x16\x07" + bytes(4092))  # an AppleDouble header
    sid = client.post("/api/sources", json={"name": "nas", "kind": "local", "path": str(root)}).json()["id"]
    job = wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])
    assert job["state"] == "done" and job["error"] is None, job
    files = client.get("/api/library/media-files").json()["items"]
    assert [f["path"] for f in files] == ["Films/Heat (1995)/Heat (1995).mkv"]
