"""The folder a 257 reply names (replies.pwd_path): RFC 959's quoted form with doubled
quotes inside, and the unquoted form some servers send."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelhouse.sources.ftp.replies import pwd_path


@pytest.mark.parametrize(("reply", "path"), [
    ('257 "/" is the current directory', "/"),
    ('257 "/home/me"', "/home/me"),
    ('257 "/say ""hi"""', '/say "hi"'),
    ("257 /home/me is the current directory.", "/home/me"),
    ("257 /", "/"),
    ("257 current directory is /home", None),  # no path we can be sure of: the caller takes "/"
    ('550 "/x" no', None),
    ("257", None),
])
def test_pwd_path(reply: str, path: str | None) -> None:
    assert pwd_path(reply) == path


@given(st.text(alphabet=st.characters(exclude_characters="\r\n"), min_size=1).map(lambda s: "/" + s))
def test_quoted_paths_round_trip(path: str) -> None:
    assert pwd_path('257 "' + path.replace('"', '""') + '" is the current directory') == path
