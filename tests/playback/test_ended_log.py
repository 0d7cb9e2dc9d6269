"""A stream reelhouse ends on purpose logs reelhouse's own line, not uvicorn's ERROR.

Before: each stream ended for a client that stopped reading (``stream_send_timeout``)
also logged "ASGI callable returned without completing response." at ERROR on
``uvicorn.error``, one line per stream. A real uvicorn serves the app; a socket with a
small receive buffer asks for a big file and reads nothing."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.library import queries
from reelhouse.playback import ended
from reelhouse.server import create_app
from reelhouse.sources.registry import SourceSpec

from helpers import playback_token, serving

MiB = 1024 * 1024


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def _capturing(records: _Records) -> Iterator[None]:
    """Records of uvicorn's error logger and of direct play while the block runs; to be
    entered once uvicorn runs (its logging config drops the handlers it finds, and its
    loggers do not propagate to the root, where caplog listens)."""
    loggers = [logging.getLogger("uvicorn.error"), logging.getLogger("reelhouse.playback.direct")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(records)
    loggers[1].setLevel(logging.INFO)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(records)
            lg.setLevel(level)


@pytest.fixture
def records() -> _Records:
    return _Records()


def _wait(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _read_to_eof(sock: socket.socket, timeout: float) -> None:
    """Read until the server closes the connection (it does after its log call)."""
    sock.settimeout(1.0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if not sock.recv(1024 * 1024):
                return
        except TimeoutError:
            continue
    raise AssertionError("the server did not close the stalled stream's connection")


def test_a_stalled_reader_is_timed_out_without_an_error_line(tmp_path: Path, records: _Records) -> None:
    films = tmp_path / "local" / "Films"
    films.mkdir(parents=True)
    with (films / "Huge.Movie.2020.mkv").open("wb") as fh:
        fh.truncate(512 * MiB)  # sparse: a stalled reader cannot reach its end
    core = Core(load_settings(data_dir=tmp_path / "data", stream_send_timeout=1.0))
    try:
        uid = core.users.add("alice", "alice-password").id
        row = core.sources.create(SourceSpec(name="disk", kind="local", path=str(tmp_path / "local")))
        core.jobs.run_scan_now(row.id)
        with core.sessions() as s:
            files, _ = queries.list_media_files(s, row.id, False, 0, 10)
        fid = files[0].id
        with contextlib.ExitStack() as stack, serving(create_app(core), log_level="info", lifespan="on") as base:
            port = int(base.rsplit(":", 1)[1])
            stack.enter_context(_capturing(records))
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
            try:
                sock.connect(("127.0.0.1", port))
                path = f"/api/library/media-files/{fid}/stream?token={playback_token(core, uid, fid)}"
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
                _wait(lambda: any("read nothing" in r.getMessage() for r in records.records), 60,
                      "the stalled stream was not timed out")
                _read_to_eof(sock, 60)
            finally:
                sock.close()
    finally:
        core.close()
    timed_out = [r for r in records.records if "read nothing" in r.getMessage()]
    assert len(timed_out) == 1 and timed_out[0].levelno == logging.INFO
    assert [r.getMessage() for r in records.records if r.levelno >= logging.ERROR] == []


def test_an_unfinished_response_not_marked_is_still_an_error(records: _Records) -> None:
    """The filter drops uvicorn's line only for a response reelhouse ended on purpose."""
    async def unfinished(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"10")]})
        await send({"type": "http.response.body", "body": b"12345", "more_body": True})

    ended.install_filter()
    with serving(ended.TrackEnded(unfinished), log_level="info") as base:
        port = int(base.rsplit(":", 1)[1])
        with _capturing(records), socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            _read_to_eof(sock, 30)
    assert [r.getMessage() for r in records.records if r.levelno >= logging.ERROR] == [ended.UNFINISHED]
