"""A TCP proxy on loopback that holds every byte ``delay`` seconds in each direction:
real latency (a round trip of ``2 * delay``) for one browser, on every connection it
makes (the page, the film's range requests, the party WebSocket), without throttling
bandwidth. Order is kept: each chunk is written ``delay`` s after it was read."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_END = b""


def _pipe(src: socket.socket, dst: socket.socket, delay: float) -> None:
    chunks: queue.Queue[tuple[float, bytes]] = queue.Queue()

    def read() -> None:
        try:
            while data := src.recv(65536):
                chunks.put((time.monotonic() + delay, data))
        except OSError:
            pass
        chunks.put((time.monotonic() + delay, _END))

    def write() -> None:
        try:
            while True:
                due, data = chunks.get()
                time.sleep(max(0.0, due - time.monotonic()))
                if data is _END:
                    break
                dst.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    for target in (read, write):
        threading.Thread(target=target, daemon=True, name="latency-proxy").start()


@contextmanager
def latency_proxy(upstream: str, delay: float) -> Iterator[str]:
    """A proxy to ``upstream`` (``http://host:port``) adding ``delay`` s each way; yields
    its own base URL. Its connections end with the block."""
    host, port = upstream.removeprefix("http://").split(":")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    open_socks: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection((host, int(port)))
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            open_socks.extend((client, server))
            _pipe(client, server, delay)
            _pipe(server, client, delay)

    thread = threading.Thread(target=accept, daemon=True, name="latency-proxy-accept")
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (Linux)
        listener.close()
        for s in open_socks:
            with contextlib.suppress(OSError):
                s.close()
        thread.join(5)
