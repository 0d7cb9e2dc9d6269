"""reelhouse.drive.errnos: errors chosen by their type, not by the words of their
message (issue 12's errno table; the README's, with its NTSTATUS column). Unit-level:
the errors come from real sockets and a real FTP server's refusals through
sources/ftp/replies.translate_error, no mount."""

from __future__ import annotations

import errno
import socket

import pytest

from reelhouse import errors as e
from reelhouse.drive.errnos import NTSTATUS, errno_for, windows_errno
from reelhouse.sources.ftp.replies import translate_error


@pytest.mark.parametrize(("exc", "code"), [
    (e.SourceTimeout("no answer in 30 s"), errno.ETIMEDOUT),  # the words "timed out" not needed
    (e.SourceTimeout("FTP server timed out while listing /"), errno.ETIMEDOUT),
    (e.SourceUnreachable("FTP connection lost while reading /Films/when it timed out.mkv"), errno.ENOTCONN),
    (e.SourceUnreachable("FTP server refused the connection while connecting"), errno.ENOTCONN),
    (e.QueueFull("3 requests of yours wait for this FTP server already"), errno.EAGAIN),
    (e.SourceBusy("FTP server is busy (421 Too many connections) while listing /"), errno.EAGAIN),
    # a plain SourceUnavailable (no subtype said which): its cause, else its words
    (e.SourceUnavailable("TLS certificate of the FTP server not trusted"), errno.ENOTCONN),
    (e.SourceUnavailable("FTP server timed out while reading"), errno.ETIMEDOUT),
])
def test_the_type_chooses(exc: e.ReelhouseError, code: int) -> None:
    assert errno_for(exc) == code


def test_a_timeout_behind_a_plain_error_is_etimedout() -> None:
    try:
        try:
            raise TimeoutError
        except TimeoutError as cause:
            raise e.SourceUnavailable("FTP failure while listing") from cause
    except e.SourceUnavailable as exc:
        assert errno_for(exc) == errno.ETIMEDOUT


def test_real_socket_failures_through_the_ftp_adapter() -> None:
    """A read that waits past its timeout, and a connection to a closed port, as the FTP
    layer reports them, become ETIMEDOUT and ENOTCONN."""
    a, b = socket.socketpair()
    with a, b:
        a.settimeout(0.05)  # nothing is ever sent: the read times out (no wait on anything else)
        with pytest.raises(OSError) as timed_out:
            a.recv(1)
    assert errno_for(translate_error(timed_out.value, "reading /x")) == errno.ETIMEDOUT
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    with pytest.raises(OSError) as refused, socket.create_connection(("127.0.0.1", port), timeout=10):
        pass
    assert errno_for(translate_error(refused.value, "connecting")) == errno.ENOTCONN


def test_windows_numbers_and_ntstatus() -> None:
    """QueueFull and SourceBusy say EAGAIN, which WinFsp has no entry for: sent as EBUSY
    (STATUS_DEVICE_BUSY); ETIMEDOUT and ENOTCONN as the C runtime's 138 and 126."""
    assert windows_errno(11) == 16 and NTSTATUS[errno.EAGAIN][0] == "STATUS_DEVICE_BUSY"
    assert windows_errno(10060) == 138 and windows_errno(10057) == 126
    assert NTSTATUS[errno_for(e.SourceTimeout("x"))][0] == "STATUS_TRANSACTION_TIMED_OUT"
    assert NTSTATUS[errno_for(e.SourceUnreachable("x"))][0] == "STATUS_CONNECTION_INVALID"
    assert NTSTATUS[errno_for(e.QueueFull("x"))][0] == "STATUS_DEVICE_BUSY"
