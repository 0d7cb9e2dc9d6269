"""A file or folder name that is not UTF-8 (a latin-1 ``Caf\\xe9.mkv`` copied from an
old Windows disk) on a local disk or on a UTF-8 FTP server (pure-ftpd sends the bytes
as they are on disk): the scan indexes every other file, names the skipped ones in its
error line, and does not fail (it failed as a whole, "internal error", before). And
NFD names (a Mac's) give NFC titles."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helpers import daemon, free_port, wait_job

pytestmark = pytest.mark.requires_ffmpeg

GOOD = "Films/Amélie (2001)/Amélie (2001).mp4"
BAD_FILE = b"Films/Caf\xe9 Society (2016).mp4"
BAD_FOLDER = b"Films/Ni\xf1o (2004)/Nino (2004).mp4"


def _tree(root: Path, clip: Path) -> None:
    (root / GOOD).parent.mkdir(parents=True)
    shutil.copyfile(clip, root / GOOD)
    for raw in (BAD_FILE, BAD_FOLDER):
        full = os.fsencode(root) + b"/" + raw
        os.makedirs(os.path.dirname(full), exist_ok=True)
        shutil.copyfile(clip, full)


def _scan(client: TestClient, body: dict[str, object]) -> tuple[dict[str, object], set[str]]:
    r = client.post("/api/sources", json=body)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    r = client.post(f"/api/sources/{sid}/scan")
    job = wait_job(client, int(r.json()["id"]))
    files = client.get("/api/library/media-files", params={"source_id": sid}).json()["items"]
    return job, {f["path"] for f in files}


def _check(job: dict[str, object], paths: set[str]) -> None:
    assert job["state"] == "done", job
    assert paths == {GOOD}
    error = str(job["error"])
    assert "not UTF-8" in error and "Caf" in error and "Ni" in error, error
    assert "internal error" not in error


def test_local_source_skips_a_latin1_name(client: TestClient, tmp_path: Path, sample_mp4: Path) -> None:
    root = tmp_path / "disk"
    _tree(root, sample_mp4)
    job, paths = _scan(client, {"name": "disk", "kind": "local", "path": str(root)})
    _check(job, paths)
    fid = client.get("/api/library/media-files").json()["items"][0]["id"]
    r = client.get(f"/api/library/media-files/{fid}/stream", headers={"Range": "bytes=0-9"})
    assert r.status_code == 206


@pytest.fixture
def pureftpd(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    if not (shutil.which("pure-ftpd") and shutil.which("pure-pw")):
        pytest.skip("pure-ftpd is not installed (apt-get install pure-ftpd)")
    if os.geteuid() != 0:
        pytest.skip("pure-ftpd with virtual users needs root")
    home = tmp_path / "home"
    home.mkdir()
    pdb = tmp_path / "pure.pdb"
    subprocess.run(["pure-pw", "useradd", "reel", "-u", "nobody", "-g", "nogroup", "-d", str(home),
                    "-f", str(tmp_path / "passwd"), "-m", "-F", str(pdb)],
                   input="pure-secret-1\npure-secret-1\n", text=True, check=True, capture_output=True)
    port, low = free_port(), random.randrange(41000, 59000)
    argv = ["pure-ftpd", "-S", f"127.0.0.1,{port}", "-l", f"puredb:{pdb}", "-E", "-H", "-u", "1",
            "-p", f"{low}:{low + 100}", "-c", "10", "-C", "10"]
    with daemon(argv, port):
        yield port, home


@pytest.mark.ftpd
def test_utf8_ftp_server_skips_a_latin1_name(client: TestClient, pureftpd: tuple[int, Path],
                                             sample_mp4: Path) -> None:
    port, home = pureftpd
    _tree(home, sample_mp4)
    subprocess.run(["chown", "-R", "nobody:nogroup", str(home)], check=True)
    job, paths = _scan(client, {"name": "pure", "kind": "ftp", "host": "127.0.0.1", "port": port,
                                "username": "reel", "password": "pure-secret-1"})
    _check(job, paths)


def test_embedded_ftp_server_skips_a_latin1_name(client: TestClient, tmp_path: Path, sample_mp4: Path) -> None:
    """reelhouse's own FTP server (``reelhouse demo``, pyftpdlib) sent ``Caf\\xe9`` as
    ``Caf?`` (pyftpdlib's ``replace``), a name the scan indexed and no RETR could open."""
    from reelhouse.demo.ftpd import EmbeddedFtpServer

    root = tmp_path / "ftp"
    _tree(root, sample_mp4)
    with EmbeddedFtpServer(root, "reel", "pw", port=free_port()) as server:
        job, paths = _scan(client, {"name": "embedded", "kind": "ftp", "host": "127.0.0.1", "port": server.port,
                                    "username": "reel", "password": "pw"})
        client.delete("/api/sources/1")
    _check(job, paths)


def test_nfd_and_nfc_names_are_one_title(client: TestClient, tmp_path: Path, sample_mp4: Path) -> None:
    """A film named on a Mac (NFD: "e" + U+0301) and the same film named elsewhere (NFC:
    "é") are one film with an NFC title, not two films that look alike."""
    import unicodedata

    for name, form in (("mac", "NFD"), ("nas", "NFC")):
        root = tmp_path / name
        rel = unicodedata.normalize(form, "Amélie (2001)/Amélie (2001).mp4")
        (root / rel).parent.mkdir(parents=True)
        shutil.copyfile(sample_mp4, root / rel)
        sid = client.post("/api/sources", json={"name": name, "kind": "local", "path": str(root)}).json()["id"]
        assert wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])["state"] == "done"
    items = client.get("/api/library/items").json()["items"]
    assert [(i["title"], i["file_count"]) for i in items] == [(unicodedata.normalize("NFC", "Amélie"), 2)]


@pytest.mark.ftpd
def test_utf8_names_on_a_vsftpd_without_utf8_give_their_titles(client: TestClient, tmp_path: Path,
                                                                sample_mp4: Path) -> None:
    """vsftpd's default (``utf8_filesystem=NO``) sends the names' bytes as they are on
    disk without announcing UTF8: on today's systems those are UTF-8, read as latin-1
    (the only safe reading of a server without UTF8). The films were "AmÃ©lie" and
    "PokeÌ\\x81mon"; a true latin-1 name still gives its title, and every file plays."""
    import unicodedata

    from helpers import vsftpd

    anon = tmp_path / "anon"
    names = {"Films/Amélie (2001)/Amélie (2001).mp4".encode(): "Amélie",
             unicodedata.normalize("NFD", "Films/Pokémon (1998).mp4").encode(): "Pokémon",
             b"Films/Caf\xe9 Society (2016).mp4": "Café Society"}
    for raw in names:
        full = os.fsencode(anon) + b"/" + raw
        os.makedirs(os.path.dirname(full), exist_ok=True)
        shutil.copyfile(sample_mp4, full)
    with vsftpd(tmp_path, anon, options={"utf8_filesystem": "NO"}) as port:
        job, paths = _scan(client, {"name": "vsftpd", "kind": "ftp", "host": "127.0.0.1", "port": port})
        assert job["state"] == "done" and len(paths) == 3, job
        items = client.get("/api/library/items").json()["items"]
        assert sorted(i["title"] for i in items) == sorted(names.values())
        data = sample_mp4.read_bytes()
        for f in client.get("/api/library/media-files").json()["items"]:
            r = client.get(f"/api/library/media-files/{f['id']}/stream", headers={"Range": "bytes=100-199"})
            assert r.status_code == 206 and r.content == data[100:200], f["path"]
        client.delete("/api/sources/1")
