"""Compatibility with vsftpd (Debian's package, unpacked beside pure-ftpd since the two
conflict): no MLSD (LIST only), and an anonymous user that is *not* chrooted, so the
source root must be the login folder (PWD), not the server's "/"."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from compat.support import transfer_round_trip
from fastapi.testclient import TestClient

from reelhouse.errors import NotFound
from reelhouse.sources.ftp import FtpConfig, FtpSource, statlist

from helpers import daemon_sessions, vsftpd, wait_job

pytestmark = pytest.mark.ftpd

NAMES = ["Films/Sintel.2010.720p.mkv", "Amélie (2001)/Amélie [1080p].mkv", "plain name with  spaces.mp4"]




@pytest.fixture
def vsftpd_ro(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    anon = tmp_path / "anon"
    rng = random.Random(3)
    for name in NAMES:
        path = anon / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(2 * 1024 * 1024 + 5))
    for p in anon.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    with vsftpd(tmp_path, anon) as port:
        yield port, anon


def test_a_refused_cwd_leaves_no_session_waiting(vsftpd_ro: tuple[int, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """``CWD dir``, ``PASV``, ``LIST`` go in one write (sources/ftp/pipeline.py); when
    the CWD was refused the client closed the control connection with the LIST still
    waiting for its data connection, and vsftpd's session process waited for it (its
    ``accept_timeout``, 60 s), counting against the server's per-address limit. Now the
    listing is ended and the connection kept. STAT listings are off here: they take
    another road to the folder."""
    port, _anon = vsftpd_ro
    monkeypatch.setattr(statlist, "tried", lambda key: False)
    src = FtpSource(FtpConfig("127.0.0.1", port, None, None, pool_size=1))
    try:
        assert {e.name for e in src.list("Films")} == {"Sintel.2010.720p.mkv"}
        for _ in range(3):
            with pytest.raises(NotFound):
                src.list("No Such Folder")
        assert {e.name for e in src.list("Films")} == {"Sintel.2010.720p.mkv"}
        # One session: the pooled connection. A session whose client has gone ends
        # within moments (a loaded CI machine once counted such a one still exiting);
        # one left waiting for its LIST's data connection stays for vsftpd's
        # accept_timeout (60 s).
        assert _sessions_within(port, 1, seconds=15) == 1
    finally:
        src.close()
    assert _sessions_within(port, 0, seconds=15) == 0


def _sessions_within(port: int, count: int, seconds: float) -> int:
    """The daemon's session processes once at most ``count`` remain, or at ``seconds``."""
    deadline = time.monotonic() + seconds
    while (now := daemon_sessions(port)) > count and time.monotonic() < deadline:
        time.sleep(0.05)
    return now


def test_list_stat_and_ranges_relative_to_the_login_folder(vsftpd_ro: tuple[int, Path]) -> None:
    port, anon = vsftpd_ro
    src = FtpSource(FtpConfig("127.0.0.1", port, pool_size=2))
    try:
        assert {e.name for e in src.list("")} == {"Films", "Amélie (2001)", "plain name with  spaces.mp4"}
        for name in NAMES:
            data = (anon / name).read_bytes()
            assert src.stat(name).size == len(data)
            rng = random.Random(name)
            for _ in range(20):
                start = rng.randrange(len(data))
                length = rng.randrange(1, 300_000)
                assert b"".join(src.read_range(name, start, length)) == data[start : start + length]
        assert src.pool.stats["live"] == 1  # cut transfers kept the connection in sync
    finally:
        src.close()
    # an absolute root is taken as it is
    absolute = FtpSource(FtpConfig("127.0.0.1", port, root=str(anon / "Films")))
    try:
        assert [e.name for e in absolute.list("")] == ["Sintel.2010.720p.mkv"]
    finally:
        absolute.close()


def test_a_source_added_without_root_is_the_login_folder(vsftpd_ro: tuple[int, Path], client: TestClient) -> None:
    """A source added with no root (the API's and the CLI's default) exposes the login
    folder, as the README says, not the server's "/": on vsftpd, which does not chroot,
    "/" is the whole machine (the scan walked every folder of the disk)."""
    port, _ = vsftpd_ro
    r = client.post("/api/sources", json={"name": "anon", "kind": "ftp", "host": "127.0.0.1", "port": port})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    job = wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"], timeout=30)
    assert job["progress"]["folders"] == 3, job  # the login folder, Films and Amélie (2001)
    paths = {f["path"] for f in client.get("/api/library/media-files", params={"source_id": sid}).json()["items"]}
    assert paths == set(NAMES)
    assert client.delete(f"/api/sources/{sid}").status_code == 204


def _self_signed(folder: Path) -> tuple[Path, Path, str]:
    """(certificate file, key file, certificate PEM) for "localhost", made now."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    (folder / "cert.pem").write_text(pem)
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (folder / "key.pem").chmod(0o600)
    return folder / "cert.pem", folder / "key.pem", pem


@pytest.fixture(params=["plain", "ftps-ssl-reuse"])
def vsftpd_rw(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[FtpConfig, Path]]:
    """vsftpd with anonymous uploads into ``incoming/`` (mkdir, rename, delete allowed);
    the FTPS variant demands TLS on login and data with ``require_ssl_reuse=YES``."""
    anon = tmp_path / "anon"
    (anon / "incoming").mkdir(parents=True)
    (anon / "incoming").chmod(0o777)
    if request.param == "plain":
        with vsftpd(tmp_path, anon, writable=True) as port:
            yield FtpConfig("127.0.0.1", port, root="incoming", pool_size=2), anon / "incoming"
        return
    cert, key, pem = _self_signed(tmp_path)
    with vsftpd(tmp_path, anon, writable=True, tls=(cert, key)) as port:
        yield (FtpConfig("127.0.0.1", port, root="incoming", pool_size=2, tls="explicit", trusted_cert=pem),
               anon / "incoming")


def test_upload_download_and_ops(vsftpd_rw: tuple[FtpConfig, Path], tmp_path: Path) -> None:
    cfg, incoming = vsftpd_rw
    src = FtpSource(cfg)
    try:
        transfer_round_trip(src, tmp_path, incoming, seed=5)
    finally:
        src.close()
