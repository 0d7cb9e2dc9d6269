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


def _cert_pem(certfile: Path) -> str:
    text = certfile.read_text()
    return text[text.index("-----BEGIN CERTIFICATE-----"):]


def test_ftps_trusting_the_servers_certificate(
    tls_server: tuple[EmbeddedFtpServer, str, bytes], certfile: Path, tmp_path: Path
) -> None:
    """Verification stays on; the pinned self-signed certificate is the trust anchor."""
    server, mode, data = tls_server
    src = FtpSource(FtpConfig("127.0.0.1", server.port, USER, PASSWORD, tls=mode,  # type: ignore[arg-type]
                              trusted_cert=_cert_pem(certfile)))
    try:
        assert b"".join(src.read_range("Films/Sintel.2010.mkv", 5, 100)) == data[5:105]
        src.write("up.bin", [b"uploaded over TLS"])
        assert b"".join(src.read_range("up.bin", 0, 100)) == b"uploaded over TLS"
    finally:
        src.close()
    # another certificate pinned: refused
    other = tmp_path / "other.pem"
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "other")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    other.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    wrong = FtpSource(FtpConfig("127.0.0.1", server.port, USER, PASSWORD, tls=mode,  # type: ignore[arg-type]
                                trusted_cert=other.read_text()))
    try:
        with pytest.raises(SourceUnavailable, match="certificate"):
            wrong.list("")
    finally:
        wrong.close()


def test_source_service_stores_a_trusted_certificate(
    tls_server: tuple[EmbeddedFtpServer, str, bytes], certfile: Path, tmp_path: Path
) -> None:
    from reelhouse.config import load_settings
    from reelhouse.core import Core
    from reelhouse.errors import InvalidInput
    from reelhouse.sources.registry import SourceSpec

    server, mode, _ = tls_server
    core = Core(load_settings(data_dir=tmp_path / "data"))
    try:
        pem_file = tmp_path / "server-cert.pem"
        pem_file.write_text(_cert_pem(certfile))
        row = core.sources.create(SourceSpec(name="tls", kind="ftp", host="127.0.0.1",
                                             port=server.port, username=USER, password=PASSWORD,
                                             tls=mode, tls_cert=str(pem_file)))
        assert row.tls_cert_pem and row.verify_tls
        assert "Films" in [e.name for e in core.sources.source(row.id).list("")]
        with pytest.raises(InvalidInput):
            core.sources.update(row.id, SourceSpec(tls_cert="not a certificate"))
        core.sources.update(row.id, SourceSpec(tls_cert=""))  # cleared: the system CAs again
        with pytest.raises(SourceUnavailable, match="certificate"):
            core.sources.source(row.id).list("")
    finally:
        core.close()


def test_a_server_refusing_prot_p_is_a_clear_error_never_clear_data(tmp_path: Path, certfile: Path) -> None:
    """A server that takes AUTH TLS but refuses ``PROT P`` (RFC 4217 §9: "536 Requested
    PROT level not supported by mechanism"): its data connections would be in the
    clear, so the source is refused (no silent PROT C), with a message that says why
    instead of "unexpected FTP reply"."""
    from reelhouse.errors import InvalidInput

    def ftp_PROT(self: object, line: str) -> None:
        self.respond("536 Requested PROT level not supported by mechanism.")  # type: ignore[attr-defined]

    with EmbeddedFtpServer(tmp_path, USER, PASSWORD, certfile=certfile,
                           handler_overrides={"ftp_PROT": ftp_PROT}) as server:
        src = FtpSource(FtpConfig("127.0.0.1", server.port, USER, PASSWORD, tls="explicit", verify_tls=False,
                                  connect_timeout=5, read_timeout=5))
        try:
            with pytest.raises(InvalidInput, match=r"does not encrypt data connections \(PROT P: 536"):
                src.list("")
        finally:
            src.close()
