"""Revocations reach another process's caches through Redis at once
(auth/revocations.py): two Cores on one database and one redis-server, the second
trusting resolved tokens for a minute; a logout, a disabled user and a revoked API key
on the first are refused on the second within a fraction of a second."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reelhouse.auth.users import UserChange
from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.errors import AuthenticationFailed

pytestmark = [pytest.mark.requires_redis]


@pytest.fixture
def two_cores(tmp_path: Path, redis_url: str) -> Iterator[tuple[Core, Core]]:
    db = f"sqlite:///{tmp_path / 'shared.db'}"
    a = Core(load_settings(data_dir=tmp_path / "a", database_url=db, redis_url=redis_url), consume_jobs=False)
    b = Core(load_settings(data_dir=tmp_path / "b", database_url=db, redis_url=redis_url))
    try:
        assert b.revocations is not None and b.revocations.wait_subscribed(10)
        b.auth.cache_seconds = 60.0  # only the push can make B forget in time
        yield a, b
    finally:
        a.close()
        b.close()


#: Seconds a refusal may take on B: far under B's 60 s window, so only the push can do
#: it; a fraction of a second is usual, 10 s leaves room for a loaded 2-core CI machine.
PUSH_LIMIT = 10.0


def _refused_within(check: Callable[[], object], limit: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < limit:
        try:
            check()
        except AuthenticationFailed:
            return time.monotonic() - start
        time.sleep(0.01)
    raise AssertionError(f"still accepted after {limit} s")


def test_logout_disable_and_key_revocation_reach_the_other_process(two_cores: tuple[Core, Core]) -> None:
    a, b = two_cores
    a.users.add("admin", "admin-password", is_admin=True)
    uid = a.users.add("friend", "friend-password").id
    token, info = a.auth_sessions.create(uid)
    assert b.auth.identify(token).user.id == uid  # cached on B now
    a.auth_sessions.revoke(info.id)
    print("logout on A refused on B after", _refused_within(lambda: b.auth.identify(token), PUSH_LIMIT), "s")

    key, key_info = a.api_keys.create(uid, "tv")
    b.auth.identify(key)
    a.api_keys.revoke(key_info.id)
    _refused_within(lambda: b.auth.identify(key), PUSH_LIMIT)

    token, _ = a.auth_sessions.create(uid)
    b.auth.identify(token)
    a.users.update(uid, UserChange(disabled=True))
    _refused_within(lambda: b.auth.identify(token), PUSH_LIMIT)


def test_own_messages_are_ignored_and_redis_away_keeps_the_window(tmp_path: Path) -> None:
    """An unreachable Redis never fails a revocation or a request: the cache window is
    the bound then."""
    core = Core(load_settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0"))
    try:
        uid = core.users.add("friend", "friend-password").id
        token, info = core.auth_sessions.create(uid)
        core.auth.identify(token)
        core.auth_sessions.revoke(info.id)  # published in the background: fails quietly
        with pytest.raises(AuthenticationFailed):
            core.auth.identify(token)
    finally:
        core.close()
