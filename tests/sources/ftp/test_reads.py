"""The resume decisions shared by ``read_range`` and ``aread_range`` (``reads._Resume``):
pure, no server. The reads themselves against real servers: tests/faults/test_resume.py."""

from __future__ import annotations

import pytest

from reelhouse.errors import SourceUnavailable
from reelhouse.sources.ftp.reads import _BROKEN, _EOF, _PARTIAL, RESUME_DELAYS, _Resume


def test_a_read_that_ends_well_is_over() -> None:
    r = _Resume("a.mkv", 100, 50)
    assert (r.pos, r.end, r.failures) == (100, 150, 0)
    assert r.ended(150, _PARTIAL, True) and r.pos == 150
    assert _Resume("a.mkv", 0, 50).ended(20, _EOF, True)  # a file shorter than the range: the 226 says so
    assert not _Resume("a.mkv", 0, 50).refused()  # a first try refused: the caller raises


@pytest.mark.parametrize(("outcome", "clean"), [(_BROKEN, False), (_BROKEN, True), (_EOF, False)])
def test_a_broken_transfer_resumes_where_it_stopped_until_the_reconnects_are_used_up(
        outcome: str, clean: bool, caplog: pytest.LogCaptureFixture) -> None:
    r = _Resume("a.mkv", 0, 1000)
    assert not r.ended(0, outcome, clean) and r.failures == 1  # nothing came: counts
    waits = [r.delay()]
    while r.refused():  # every reconnect refused
        if r.failures > len(RESUME_DELAYS):
            break
        waits.append(r.delay())
    assert waits == list(RESUME_DELAYS)
    with pytest.raises(SourceUnavailable, match=f"'a.mkv' at byte 0; {len(RESUME_DELAYS)} reconnects failed"):
        r.delay()
    assert f"resuming (try {len(RESUME_DELAYS)})" in caplog.text


def test_bytes_received_start_the_count_again() -> None:
    r = _Resume("a.mkv", 0, 1000)
    assert not r.ended(0, _BROKEN, False) and r.refused() and r.failures == 2
    assert not r.ended(300, _BROKEN, False)  # this one brought 300 bytes
    assert (r.pos, r.failures, r.delay()) == (300, 1, RESUME_DELAYS[0])
    assert not r.ended(300, _EOF, False) and (r.pos, r.failures) == (300, 2)
