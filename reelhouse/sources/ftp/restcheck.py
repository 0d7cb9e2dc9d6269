"""Whether an FTP server honours ``REST`` (RFC 3659 §5): checked once per server.

Some servers answer ``REST n`` with "350 Restarting at n" and then send the file from
its first byte all the same (embedded and old Windows servers, proxies that drop the
command). Nothing in their replies tells: a read at an offset got the file's start as
if it were the bytes at the offset, silently (a player showed garbage, a probe read a
wrong header). So the first read at an offset on a server compares, on that file, the
first :data:`PROBE_BYTES` bytes after ``REST 1`` with the bytes 1.. of a read from 0
(:func:`check`); a server that sent its bytes 0.. again ignores REST
(:func:`rest_ignored`), and its reads at an offset are read from byte 0 with the bytes
before the offset skipped, as on a server that refuses REST (the caller,
:meth:`~.retrieval.Retrieval.start_retr`). The comparison itself is pure
(:func:`verdict`).

A file whose first bytes cannot tell (all alike: the zeros an ISO image starts with,
beyond :data:`PROBE_BYTES`) gives no verdict; the server is checked again on the next
read at an offset, at most :data:`MAX_TRIES` times, then trusted.
"""

from __future__ import annotations

import ftplib
import threading
from typing import TYPE_CHECKING

from reelhouse.errors import ReelhouseError
from reelhouse.sources.ftp.receive import Opened, open_transfer

if TYPE_CHECKING:
    from reelhouse.sources.ftp.retrieval import Retrieval

__all__ = ["MAX_TRIES", "PROBE_BYTES", "check", "forget", "known", "rest_ignored", "verdict"]

#: Bytes compared, at most: past the 32 KiB of zeros that start an ISO 9660 image (its
#: system area, ECMA-119 §6.2.1), so such a file still gives a verdict.
PROBE_BYTES = 64 * 1024
#: Checks without a verdict before a server is trusted.
MAX_TRIES = 3

_lock = threading.Lock()
_verdicts: dict[tuple[str, int], bool] = {}  # (host, port) → REST honoured
_tries: dict[tuple[str, int], int] = {}


def verdict(after_rest_1: bytes, from_0: bytes) -> bool | None:
    """Whether a server honoured ``REST 1``: ``after_rest_1``, the bytes it sent after
    ``REST 1``, against ``from_0``, the bytes of a read from 0 (one byte more). True
    when they are the bytes 1.., False when they are the bytes 0.. again, None when
    that cannot be told (the bytes are alike, a read is empty, or neither: the file
    changed between the reads)."""
    n = min(len(after_rest_1), len(from_0) - 1)
    if n <= 0:
        return None
    shifted, again = from_0[1 : n + 1], from_0[:n]
    if shifted == again:
        return None
    probe = after_rest_1[:n]
    if probe == shifted:
        return True
    if probe == again:
        return False
    return None


def known(host: str, port: int) -> bool:
    """Whether the server has been checked (or trusted after :data:`MAX_TRIES`)."""
    with _lock:
        return (host, port) in _verdicts


def rest_ignored(host: str, port: int) -> bool:
    """Whether the server was found to answer ``REST`` and send from byte 0 anyway."""
    with _lock:
        return _verdicts.get((host, port)) is False


def forget(host: str, port: int) -> None:
    """Drop what is known of a server (its next read at an offset checks it again)."""
    with _lock:
        _verdicts.pop((host, port), None)
        _tries.pop((host, port), None)


def check(client: Retrieval, target: str) -> None:
    """Check once whether ``client``'s server honours REST, on file ``target`` (a server
    path), unless it is :func:`known`: two short reads on the client's connection
    (``REST 1`` + ``RETR``, then ``RETR``), each cut after :data:`PROBE_BYTES`. A 5xx
    to the first ends the check: REST refused (500/502/504) sets the client's
    ``rest_refused``; a missing file is met again by the read that follows. Raises the
    reelhouse errors of the reads otherwise; a connection the cut left out of step is
    reconnected."""
    key = (client.config.host, client.config.port)
    if known(*key):
        return
    try:
        after_rest_1 = _head(client, target, 1, PROBE_BYTES)
    except ReelhouseError as exc:
        if not isinstance(exc.__cause__, ftplib.error_perm) or not client.alive:
            raise
        # REST or the file refused (5xx): not a server that ignores REST, and not
        # checked again. A REST refusal (500/502/504, RFC 959 §4.2) is noted on the
        # client so the read that follows skips from byte 0 without asking REST again;
        # a missing file (550) is the read's own matter: it meets the same reply
        if str(exc.__cause__)[:3] in ("500", "502", "504"):
            client.rest_refused = True
        with _lock:
            _verdicts[key] = True
        return
    from_0 = _head(client, target, None, PROBE_BYTES + 1)
    found = verdict(after_rest_1, from_0)
    with _lock:
        if found is not None:
            _verdicts[key] = found
        else:
            _tries[key] = _tries.get(key, 0) + 1
            if _tries[key] >= MAX_TRIES:
                _verdicts[key] = True


def _head(client: Retrieval, target: str, rest: int | None, size: int) -> bytes:
    """At most ``size`` bytes of ``target`` from ``REST rest`` (None: from 0)."""
    def _open() -> Opened:
        ftp = client._binary_ftp()
        if rest is not None:
            resp = ftp.sendcmd(f"REST {rest}")
            if not resp.startswith("3"):  # as ftplib's ntransfercmd: 350 expected
                raise ftplib.error_reply(resp)
        return open_transfer(ftp, f"RETR {target}")  # a server may send no 1xx (:mod:`.receive`)

    opened: Opened = client._call(f"checking that the server honours REST on {target!r}", _open)
    conn = client._in_transfer(opened.conn, opened.final, opened.preliminary_due)
    chunks: list[bytes] = []
    got, complete = 0, False
    try:
        while got < size:
            chunk = conn.recv(min(65536, size - got))
            if not chunk:
                complete = True
                break
            chunks.append(chunk)
            got += len(chunk)
    except OSError:
        pass  # what was read decides; the transfer's end says whether the connection is usable
    client.end_transfer(conn, complete)
    if not client.alive:
        client.connect()
    return b"".join(chunks)
