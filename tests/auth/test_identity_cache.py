"""The identity cache of :class:`reelhouse.auth.identity.Authenticator`: a token is read
from the database once per cache window, a revocation or user change in this process
is seen at once, one in another process (another node, a CLI command) within the
window."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event

from reelhouse.auth.identity import IDENTITY_CACHE_SECONDS
from reelhouse.auth.users import UserChange
from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.errors import AuthenticationFailed

from helpers import ADMIN


def _reads(core: Core) -> list[str]:
    """The statements this thread runs from now on (the core's background threads share
    the engine: their queries are not the cache's)."""
    seen: list[str] = []
    me = threading.get_ident()

    @event.listens_for(core.engine, "before_cursor_execute")
    def _count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if threading.get_ident() == me:
            seen.append(statement)

    return seen


def test_a_token_is_read_once_per_window(core: Core) -> None:
    token, info = core.auth_sessions.create(core.users.by_name(ADMIN).id)
    core.auth.cache_seconds = 30.0  # the 0.5 s default can pass on a loaded machine
    assert core.auth.identify_cached(token) is None
    reads = _reads(core)
    first = core.auth.identify(token)
    n = len(reads)
    assert n >= 1 and first.session_id == info.id
    for _ in range(20):
        assert core.auth.identify(token) is first
    assert len(reads) == n  # no database read within the window
    assert core.auth.identify_cached(token) is first
    core.auth.cache_seconds = 0.05
    time.sleep(0.06)
    assert core.auth.identify_cached(token) is None
    core.auth.identify(token)
    assert len(reads) > n


def test_revocations_here_are_seen_at_once(core: Core) -> None:
    core.users.add("friend", "friend-password")
    fid = core.users.by_name("friend").id
    a, info = core.auth_sessions.create(fid)
    b, _ = core.auth_sessions.create(fid)
    key, key_info = core.api_keys.create(fid, "script")
    for token in (a, b, key):
        core.auth.identify(token)
    core.auth_sessions.revoke(info.id)  # one session ends, the others stay
    with pytest.raises(AuthenticationFailed):
        core.auth.identify(a)
    assert core.auth.identify(b).user.id == fid
    core.api_keys.revoke(key_info.id)
    with pytest.raises(AuthenticationFailed):
        core.auth.identify(key)
    core.users.update(fid, UserChange(disabled=True))
    with pytest.raises(AuthenticationFailed):
        core.auth.identify(b)


def test_a_changed_user_is_read_again(core: Core) -> None:
    """Grants and names are not revocations but change what a request may see."""
    core.users.add("friend", "friend-password")
    fid = core.users.by_name("friend").id
    token, _ = core.auth_sessions.create(fid)
    assert not core.auth.identify(token).user.restrict_sources
    core.users.update(fid, UserChange(restrict_sources=True, name="pal"))
    user = core.auth.identify(token).user
    assert user.restrict_sources and user.name == "pal"
    key, _ = core.api_keys.create(fid, "script")
    core.auth.identify(key)
    core.users.remove(fid)
    with pytest.raises(AuthenticationFailed):
        core.auth.identify(key)


def test_another_process_revoking_is_seen_within_the_window(core: Core, tmp_path: Path) -> None:
    token, info = core.auth_sessions.create(core.users.by_name(ADMIN).id)
    cached_at = time.monotonic()
    core.auth.identify(token)  # kept no earlier than cached_at
    other = Core(load_settings(data_dir=tmp_path / "data"), consume_jobs=False)  # e.g. a CLI command
    try:
        other.auth_sessions.revoke(info.id)
    finally:
        other.close()
    # no wall-clock bound (a loaded machine may be slow anywhere): once the window since
    # the identity was kept has passed, the very next identify must see the revocation
    while time.monotonic() - cached_at <= IDENTITY_CACHE_SECONDS:
        time.sleep(0.01)
    with pytest.raises(AuthenticationFailed):
        core.auth.identify(token)


def test_an_answer_read_across_a_revocation_is_not_kept(core: Core) -> None:
    """A request that read a session just before it was revoked here must not put it
    back in the cache."""
    token, info = core.auth_sessions.create(core.users.by_name(ADMIN).id)
    resolve = core.auth_sessions.resolve

    def resolve_then_revoke(t: str) -> object:
        found = resolve(t)
        core.auth_sessions.revoke(info.id)  # lands while the answer is on its way
        return found

    core.auth_sessions.resolve = resolve_then_revoke  # type: ignore[method-assign]
    try:
        core.auth.identify(token)
    finally:
        core.auth_sessions.resolve = resolve  # type: ignore[method-assign]
    assert core.auth.identify_cached(token) is None
    with pytest.raises(AuthenticationFailed):
        core.auth.identify(token)
