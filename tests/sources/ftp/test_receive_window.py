"""Tests for reelhouse.sources.ftp.source._cap_receive_window: short range reads (a
probe's header blocks) cap the data socket's receive buffer, long reads keep the
kernel's autotuning."""

from __future__ import annotations

import socket

from reelhouse.sources.ftp.source import MIN_RCVBUF, SHORT_READ, _cap_receive_window


def _rcvbuf(length: int) -> tuple[int, int]:
    a, b = socket.socketpair()
    with a, b:
        before = a.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        _cap_receive_window(a, length)
        return before, a.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


def test_short_reads_get_a_small_receive_buffer() -> None:
    # Linux doubles the value given: half is asked, so a 64 KiB read lets in 64 KiB,
    # not 128 KiB (issue 15)
    _, after = _rcvbuf(64 * 1024)
    assert after <= 64 * 1024 + 4096
    _, after = _rcvbuf(1000)
    assert after >= 2 * MIN_RCVBUF  # never below the floor


def test_long_reads_are_left_alone() -> None:
    before, after = _rcvbuf(SHORT_READ + 1)
    assert after == before
