"""The pure verdict of :mod:`reelhouse.sources.ftp.restcheck` (the server check itself:
tests/sources/ftp/test_quirks.py, on pyftpdlib servers that honour and ignore REST)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reelhouse.sources.ftp.restcheck import verdict


@given(st.binary(min_size=2, max_size=200), st.integers(min_value=1, max_value=300))
def test_a_server_honouring_or_ignoring_rest_is_told_apart_unless_the_bytes_cannot_tell(data: bytes, n: int) -> None:
    honoured, ignored = verdict(data[1:1 + n], data), verdict(data[:n], data)
    m = min(n, len(data) - 1)
    if data[1:m + 1] == data[:m]:  # alike bytes (zeros): no verdict either way
        assert honoured is None and ignored is None
    else:
        assert honoured is True and ignored is False


def test_table() -> None:
    assert verdict(b"BCD", b"ABCD") is True
    assert verdict(b"ABC", b"ABCD") is False
    assert verdict(b"\0\0\0", b"\0\0\0\0") is None  # an ISO's zeros
    assert verdict(b"", b"ABCD") is None  # nothing after REST 1: a 1-byte file
    assert verdict(b"XYZ", b"ABCD") is None  # neither: the file changed between the reads
    assert verdict(b"B", b"AB") is True
