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


class Proxy:
    """The running proxy: ``url``; :meth:`cut` drops every open connection and, while
    ``refusing`` is set, new ones are closed at once (a network that is down)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.refusing = False
        self.socks: list[socket.socket] = []

    def cut(self) -> None:
        for s in self.socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self.socks.clear()


@contextmanager
def latency_proxy(upstream: str, delay: float) -> Iterator[Proxy]:
    """A proxy to ``upstream`` (``http://host:port``) adding ``delay`` s each way; its
    connections end with the block."""
    host, port = upstream.removeprefix("http://").split(":")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    proxy = Proxy(f"http://127.0.0.1:{listener.getsockname()[1]}")
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if proxy.refusing:
                client.close()
                continue
            server = socket.create_connection((host, int(port)))
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            proxy.socks.extend((client, server))
            _pipe(client, server, delay)
            _pipe(server, client, delay)

    thread = threading.Thread(target=accept, daemon=True, name="latency-proxy-accept")
    thread.start()
    try:
        yield proxy
    finally:
        stop.set()
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (Linux)
        listener.close()
        proxy.cut()
        thread.join(5)
