"""The address an FTP server is counted under (issue 14): one server reached as
``127.0.0.1`` by one source and as ``localhost`` (or by its DNS name and its IP) by
another is one server for the cluster's counts (:mod:`.slots`)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Final

__all__ = ["RESOLVED_TTL", "server_address"]

#: Seconds a resolved server address is kept before ``getaddrinfo`` is asked again
#: (DNS answers change rarely; a few minutes, like a resolver's usual cache).
RESOLVED_TTL: Final = 300.0

_resolved: dict[tuple[str, int], tuple[float, str]] = {}  # (host, port) → (monotonic expiry, address)
_resolved_lock = threading.Lock()


def server_address(host: str, port: int) -> str:
    """The address ``host`` names, for counting connections to one server once: an IP
    literal as it is (IPv6 in its compressed form), a name resolved by
    ``getaddrinfo`` (its first IPv4 address, else its first one: the address a
    connection to it tries first) and kept :data:`RESOLVED_TTL` seconds per process.
    A name that does not resolve now counts as its lower-cased self (the connection
    fails anyway; the key stays stable). Blocks on DNS the first time: call it off the
    event loop. Never raises."""
    name = host.strip().lower().strip("[]")
    now = time.monotonic()
    with _resolved_lock:
        hit = _resolved.get((name, port))
    if hit is not None and hit[0] > now:
        return hit[1]
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        address = name
    else:
        v4 = [i[4][0] for i in infos if i[0] == socket.AF_INET]
        address = str(v4[0] if v4 else infos[0][4][0]) if infos else name
    with _resolved_lock:
        _resolved[(name, port)] = (now + RESOLVED_TTL, address)
    return address
