"""Limits of accepted requests over a cluster (reelhouse/auth/rates.py): one real Redis
shared by two real processes, and the per-process fallback without it. Windows are
long (10 min) so that nothing depends on how fast the machine runs the hits."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from reelhouse.auth.rates import RateLimits

from helpers import admin_core, free_port

WINDOW = 600  # seconds: far longer than any test takes


def test_a_limit_in_one_process() -> None:
    rates = RateLimits(None)
    try:
        assert all(rates.hit("edits", 20, WINDOW, "7") for _ in range(20))
        assert not rates.hit("edits", 20, WINDOW, "7")
        assert rates.hit("edits", 20, WINDOW, "8")  # another user
        assert rates.hit("other", 20, WINDOW, "7")  # another limit
    finally:
        rates.close()


_CHILD = """
import sys
from reelhouse.auth.rates import RateLimits
rates = RateLimits(sys.argv[1])
print(sum(rates.hit("edits", 20, int(sys.argv[2]), "7") for _ in range(12)), flush=True)
rates.close()
"""


@pytest.mark.requires_redis
def test_a_limit_counts_the_hits_of_every_process(redis_url: str) -> None:
    """12 hits in another process and 8 here reach the limit of 20: the 21st, here,
    is refused (per process, this one would have let 20 of its own through)."""
    out = subprocess.run([sys.executable, "-c", _CHILD, redis_url, str(WINDOW)], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.strip() == "12"
    rates = RateLimits(redis_url)
    try:
        assert all(rates.hit("edits", 20, WINDOW, "7") for _ in range(8))
        assert not rates.hit("edits", 20, WINDOW, "7")
        assert rates.hit("edits", 20, WINDOW, "8")
    finally:
        rates.close()


def test_without_redis_each_process_counts_its_own(caplog: pytest.LogCaptureFixture) -> None:
    """Redis unreachable (nothing listens on its port): the process's own count
    applies, and a request never fails because of Redis; one warning."""
    caplog.set_level(logging.WARNING)
    rates = RateLimits(f"redis://127.0.0.1:{free_port()}/0")
    try:
        assert all(rates.hit("edits", 20, WINDOW, "7") for _ in range(20))
        assert not rates.hit("edits", 20, WINDOW, "7")
    finally:
        rates.close()
    assert sum("redis unavailable" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.requires_redis
@pytest.mark.parametrize("setting", ["redis_url", "party_redis_url"])
def test_the_party_queue_edit_limit_counts_every_node(redis_url: str, tmp_path: Path, setting: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Two nodes (Cores) on one Redis: a member's queue changes on both count against
    one limit (jellyfin/party_queue.py, 20 in any 4 s; the window widened to 10 min
    here). 20 on one node fill it: the next, on the other node, is refused."""
    from reelhouse.errors import TooManyRequests
    from reelhouse.jellyfin import party_queue
    from reelhouse.jellyfin.party_queue import EDITS_BURST, check_edit_rate

    monkeypatch.setattr(party_queue, "EDITS_WINDOW", WINDOW)

    with admin_core(tmp_path / "one", **{setting: redis_url}) as one, \
            admin_core(tmp_path / "two", **{setting: redis_url}) as two:
        for _ in range(EDITS_BURST):
            check_edit_rate(one, 7)
        with pytest.raises(TooManyRequests, match="too many queue changes"):
            check_edit_rate(two, 7)
        check_edit_rate(two, 8)  # another member
