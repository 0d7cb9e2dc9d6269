"""The request head on the production server (``make_server``: uvicorn + httptools), as
a hostile client sends it (QA): a 20 MB header, a 2 MB cookie or 50,000 small headers
are a 431 after at most ``head_limit`` bytes are held, not a 200 after the process
buffered them all; a head trickled byte by byte (slowloris) is a 408 once
``head_timeout`` passes, and a health check stays fast meanwhile."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from api.live_server import production_server

from reelhouse.core import Core


@pytest.fixture
def port(core: Core) -> Iterator[int]:
    core.settings.head_timeout = 2.0
    with production_server(core) as free:
        yield free


def _answer(sock: socket.socket, timeout: float = 10) -> bytes:
    sock.settimeout(timeout)
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except (ConnectionResetError, BrokenPipeError):
        pass
    return out


def _send_head(port: int, extra: list[bytes]) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
            for line in extra:
                sock.sendall(line + b"\r\n")
            sock.sendall(b"\r\n")
        except (ConnectionResetError, BrokenPipeError):
            pass
        return _answer(sock)


def _health_seconds(port: int) -> float:
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert _answer(sock).startswith(b"HTTP/1.1 200")
    return time.monotonic() - start


@pytest.mark.parametrize("extra", [
    [b"X-Big: " + b"a" * 20_000_000],
    [b"Cookie: " + b"a=b; " * 400_000],
    [b"X-%d: a" % i for i in range(50_000)],
])
def test_huge_heads_are_431(port: int, extra: list[bytes]) -> None:
    answer = _send_head(port, extra)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert b"request head too large" in answer
    assert _health_seconds(port) < 2


def test_ordinary_heads_and_bodies_pass(port: int) -> None:
    assert _send_head(port, [b"X-Ok: " + b"a" * 8000, b"Connection: close"]).startswith(b"HTTP/1.1 200")
    body = b'{"username": "nobody", "password": "' + b"x" * 200_000 + b'"}'
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:  # head + body in one write
        sock.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        assert _answer(sock).startswith(b"HTTP/1.1 422")  # the app saw the 200 KB body


def test_slowloris_head_is_408_and_others_are_served(port: int) -> None:
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(20)]
    try:
        start = time.monotonic()
        for sock in socks:
            sock.sendall(b"GET /api/health HTTP/1.1\r\n")
        while time.monotonic() - start < 1.5:  # one byte a tick, the head never ends
            for sock in socks:
                sock.sendall(b"X")
            assert _health_seconds(port) < 1
            time.sleep(0.2)
        answer = _answer(socks[0], timeout=5)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert time.monotonic() - start < 5
    finally:
        for sock in socks:
            sock.close()


def test_stalled_body_is_408(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n")  # and nothing more
        start = time.monotonic()
        answer = _answer(sock, timeout=8)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"request body stalled" in answer and time.monotonic() - start < 6
