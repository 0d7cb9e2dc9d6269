"""Range reads on FTP servers that refuse ``REST`` (reads.py, client.py): real pyftpdlib
servers made to answer ``REST n`` with 500 (no REST at all, nor in FEAT) or 502 (REST
in FEAT, refused anyway), and to count the REST commands they get."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyftpdlib.handlers import FTPHandler

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import SeekRefused
from reelhouse.sources.ftp import FtpConfig, FtpSource
from reelhouse.sources.skipping import SkipAllowance, skip_allowance

from helpers import FTP_PASSWORD, FTP_USER, free_port, stop_without_leaks

SIZE = 3 * 1024 * 1024 + 17


def _refusing(code: str) -> dict[str, Any]:
    """Handler attributes of a server that refuses REST with ``code``, counting tries."""
    tries: list[str] = []

    def ftp_REST(self: FTPHandler, line: str) -> None:
        tries.append(line)
        self.respond(f"{code} Command not implemented.")

    attrs: dict[str, Any] = {"tries": tries}
    if code == "500":  # REST unknown: not in FEAT, the command not understood
        attrs["proto_cmds"] = {k: v for k, v in FTPHandler.proto_cmds.items() if k != "REST"}
    else:
        attrs["ftp_REST"] = ftp_REST
    return attrs


@pytest.fixture(params=["500", "502"])
def no_rest(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[EmbeddedFtpServer, bytes, list[str]]]:
    data = os.urandom(SIZE)
    (tmp_path / "film.mkv").write_bytes(data)
    attrs = _refusing(request.param)
    server = EmbeddedFtpServer(tmp_path, FTP_USER, FTP_PASSWORD, port=free_port(),
                               handler_overrides=attrs).start()
    yield server, data, attrs["tries"]
    stop_without_leaks(server)


def _source(port: int, **kw: Any) -> FtpSource:
    return FtpSource(FtpConfig(host="127.0.0.1", port=port, user=FTP_USER, password=FTP_PASSWORD, **kw))


def test_ranges_read_from_byte_0_and_rest_is_tried_once(no_rest: tuple[EmbeddedFtpServer, bytes, list[str]]) -> None:
    server, data, tries = no_rest
    s = _source(server.port)
    try:
        for offset, length in [(1_000_000, 5000), (0, 100), (SIZE - 10, 50), (2_500_000, 700_000)]:
            assert b"".join(s.read_range("film.mkv", offset, length)) == data[offset:offset + length]
        assert b"".join(s.read_range("film.mkv", SIZE + 5, 10)) == b""  # past the end: nothing
        assert len(tries) <= 1  # the 502 server was asked once, then never again
        assert s.rest_refused
    finally:
        s.close()


def test_async_reads_skip_too(no_rest: tuple[EmbeddedFtpServer, bytes, list[str]]) -> None:
    server, data, tries = no_rest
    s = _source(server.port)

    async def read(offset: int, length: int) -> bytes:
        return b"".join([c async for c in s.aread_range("film.mkv", offset, length)])

    try:
        assert asyncio.run(read(2_000_000, 1_000_000)) == data[2_000_000:3_000_000]
        assert asyncio.run(read(123, 4)) == data[123:127]
        assert len(tries) <= 1
    finally:
        s.close()


def test_a_skip_past_the_limit_is_refused_with_a_reason(no_rest: tuple[EmbeddedFtpServer, bytes, list[str]]) -> None:
    server, data, _ = no_rest
    s = _source(server.port, max_skip=1024 * 1024)
    try:
        assert b"".join(s.read_range("film.mkv", 1024 * 1024, 10)) == data[1024 * 1024:1024 * 1024 + 10]
        with pytest.raises(SeekRefused, match=r"does not support REST.*1048576"):
            b"".join(s.read_range("film.mkv", 1024 * 1024 + 1, 10))
        # a caller's own allowance (a probe's budget) caps it further, and is charged
        allowance = SkipAllowance(500_000)
        token = skip_allowance.set(allowance)
        try:
            assert b"".join(s.read_range("film.mkv", 400_000, 10)) == data[400_000:400_010]
            assert allowance.left == 100_000
            with pytest.raises(SeekRefused):
                b"".join(s.read_range("film.mkv", 200_000, 10))
        finally:
            skip_allowance.reset(token)
        # the pool is fine afterwards
        assert b"".join(s.read_range("film.mkv", 0, 10)) == data[:10]
    finally:
        s.close()


def test_a_server_with_rest_never_skips(ftp_server: EmbeddedFtpServer, ftp_root: Path) -> None:
    data = os.urandom(100_000)
    (ftp_root / "a.bin").write_bytes(data)
    s = _source(ftp_server.port, max_skip=0)
    try:
        assert b"".join(s.read_range("a.bin", 90_000, 10)) == data[90_000:90_010]
        assert not s.rest_refused
    finally:
        s.close()


@pytest.mark.requires_ffmpeg
def test_a_budgeted_probe_counts_what_the_server_sends_before_the_offset(
        no_rest: tuple[EmbeddedFtpServer, bytes, list[str]], probe_clips: dict[str, Path]) -> None:
    """moov_at_end.mp4 (~3 MiB, the header at the end): probed whole within a budget
    that holds the file, refused (ProbeFailed naming the budget, not a read of the
    whole file) within one that does not."""
    from reelhouse.errors import ProbeFailed
    from reelhouse.library.probe import probe

    server, _, _ = no_rest
    clip = probe_clips["moov_at_end.mp4"]
    (server.root / "cam.mp4").write_bytes(clip.read_bytes())
    size = clip.stat().st_size
    s = _source(server.port)
    try:
        r = probe(s, "cam.mp4", size, budget=2 * size)
        assert r.video_codec == "h264" and size <= r.bytes_read <= 2 * size  # the skip counted
        with pytest.raises(ProbeFailed, match="budget"):
            probe(s, "cam.mp4", size, budget=size // 2)
        assert s.rest_refused
    finally:
        s.close()
