"""A real party server for the tests that need real sockets (a slow or stuck reader,
commands racing): uvicorn on loopback in a thread, logged-in users, a party, and
WebSocket members (the ``websockets`` library) that may read slowly or not at all."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from party.support import USERS, add_media_file

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.server import create_app

from helpers import ADMIN, ADMIN_PASSWORD


@contextmanager
def serve(app: object, **config: Any) -> Iterator[str]:
    """uvicorn in a thread; yields ``host:port``. The listening socket's small send
    buffer is inherited by the connections it accepts, so a client that stops reading
    blocks the server soon. ``config``: more ``uvicorn.Config`` arguments."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    options: dict[str, Any] = {"ws_ping_interval": None, **config}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",  # type: ignore[arg-type]
                                           ws="auto", timeout_graceful_shutdown=2, **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn-party")
    thread.start()
    deadline = time.monotonic() + 30  # generous: a loaded 2-core machine
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def login(base: str, name: str, password: str) -> str:
    """A bearer token for ``name``."""
    r = httpx.post(f"http://{base}/api/auth/login", json={"username": name, "password": password}, timeout=30)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def connect(base: str, code: str, token: str, rcvbuf: int | None = None) -> Any:
    """A member's WebSocket; with ``rcvbuf`` (bytes) a small receive buffer and a client
    that reads from the socket only while its one-message queue is empty: a member that
    stops calling ``recv`` soon stops reading the socket at all."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    host, port = base.split(":")
    sock.connect((host, int(port)))
    from websockets.sync.client import connect as ws_connect

    return ws_connect(f"ws://{base}/api/parties/{code}/ws", sock=sock, compression=None,
                      max_queue=1 if rcvbuf else 4096, ping_interval=None,
                      additional_headers={"Authorization": f"Bearer {token}"})


def party(base: str, token: str, code: str) -> dict[str, Any]:
    """The party as the REST API shows it."""
    r = httpx.get(f"http://{base}/api/parties/{code}", headers={"authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


@dataclass
class LiveParty:
    """A party on a real server: its Core, ``host:port``, a bearer token per user name
    (the admin and :data:`party.support.USERS`), the party's code and its film's id."""

    core: Core
    base: str
    tokens: dict[str, str]
    code: str
    media_id: int


@contextmanager
def live_party(tmp_path: Path, *, host: str = ADMIN, mode: str | None = None, duration: float = 3600.0,
               **settings: Any) -> Iterator[LiveParty]:
    """A Core (``settings``: more ``load_settings`` arguments) with the admin and the
    test users, a film of ``duration`` seconds, served by :func:`serve`, and a party on
    it started by ``host`` (``mode``: the party's mode, the API's default if None).
    The Core is closed at the end."""
    core = Core(load_settings(data_dir=tmp_path / "data", **settings))
    try:
        users = {ADMIN: ADMIN_PASSWORD, **USERS}
        core.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
        for name, password in USERS.items():
            core.users.add(name, password)
        media_id = add_media_file(core, duration=duration)
        with serve(create_app(core)) as base:
            tokens = {n: login(base, n, p) for n, p in users.items()}
            body: dict[str, Any] = {"media_file_id": media_id, **({"mode": mode} if mode else {})}
            r = httpx.post(f"http://{base}/api/parties", json=body,
                           headers={"authorization": f"Bearer {tokens[host]}"}, timeout=30)
            assert r.status_code in (200, 201), r.text
            yield LiveParty(core, base, tokens, str(r.json()["code"]), media_id)
    finally:
        core.close()
