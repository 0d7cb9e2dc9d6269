"""FTPS against a real server: explicit (AUTH TLS, RFC 4217) and implicit TLS, with a
self-signed certificate made at test time."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import SourceUnavailable
from reelhouse.sources.ftp import FtpConfig, FtpSource

USER, PASSWORD = "tls", "tls-secret-1"


@pytest.fixture(scope="module")
def certfile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path_factory.mktemp("tls") / "server.pem"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    return path


@pytest.fixture(params=["explicit", "implicit"])
def tls_server(
    request: pytest.FixtureRequest, tmp_path: Path, certfile: Path
) -> Iterator[tuple[EmbeddedFtpServer, str, bytes]]:
    data = os.urandom(2 * 1024 * 1024 + 3)
    (tmp_path / "Films").mkdir()
    (tmp_path / "Films" / "Sintel.2010.mkv").write_bytes(data)
    with EmbeddedFtpServer(tmp_path, USER, PASSWORD, certfile=certfile,
                           implicit_tls=request.param == "implicit") as server:
        yield server, request.param, data


def test_ftps_list_and_range_reads(tls_server: tuple[EmbeddedFtpServer, str, bytes]) -> None:
    server, mode, data = tls_server
    src = FtpSource(FtpConfig("127.0.0.1", server.port, USER, PASSWORD, tls=mode,  # type: ignore[arg-type]
                              verify_tls=False))
    try:
        assert [e.name for e in src.list("Films")] == ["Sintel.2010.mkv"]
        for start, length in [(0, 100), (12345, 700_000), (len(data) - 10, 10), (0, len(data))]:
            assert b"".join(src.read_range("Films/Sintel.2010.mkv", start, length)) == data[start:start + length]
        assert src.pool.stats["live"] == 1  # cut TLS transfers leave the connection usable
    finally:
        src.close()


def test_ftps_self_signed_refused_when_verifying(tls_server: tuple[EmbeddedFtpServer, str, bytes]) -> None:
    server, mode, _ = tls_server
    src = FtpSource(FtpConfig("127.0.0.1", server.port, USER, PASSWORD, tls=mode))  # type: ignore[arg-type]
    try:
        with pytest.raises(SourceUnavailable, match="certificate"):
            src.list("")
    finally:
        src.close()
