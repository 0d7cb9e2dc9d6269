"""The production server (``make_server``: uvicorn + httptools, the head limits and
timeouts of ``serve``) in a thread on a free loopback port, for the tests that speak
raw HTTP or WebSockets to it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from reelhouse.core import Core
from reelhouse.server import make_server


@contextmanager
def production_server(core: Core, timeout: float = 30.0) -> Iterator[int]:
    """Serve ``core`` with :func:`reelhouse.server.make_server` (the core is left open)
    until the block ends; yields the port on 127.0.0.1 once uvicorn has started (within
    ``timeout`` seconds)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = make_server(core, "127.0.0.1", port, close_core=False)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)
