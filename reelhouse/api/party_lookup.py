"""A party found by its invite code for one user. The code is the party's only secret
(23^6 ≈ 1.5e8 codes, :mod:`reelhouse.party.codes`) and any user may ask: unthrottled,
one user could try ~500 codes a second and land in a stranger's party within hours.
Misses count per user and per address in their own throttle (the login throttle's
rules and Redis sharing, its own keys): after ``FREE_MISSES`` each try waits 1, 2, 4 … s
(429 with ``Retry-After``). A party on a source the user was not granted is a miss,
answered word for word as an unknown code; so is one whose play queue holds a file of
such a source (Jellyfin's Group.HasAccessToPlayQueue: the queue shows every member its
titles).

A member of the party (or its creator) is never throttled for it: they know the code
already. The address count was shared by everyone behind one address (a household's
router, a reverse proxy on the same machine), so a friend guessing codes made every
other member's reload and socket reconnect a 429 (1008 on the socket: the page stopped)
for up to five minutes."""

from __future__ import annotations

from reelhouse.auth.access import sees_all
from reelhouse.core import Core
from reelhouse.db.models import User
from reelhouse.errors import NotFound
from reelhouse.party.service import PartyInfo

__all__ = ["FREE_MISSES", "find_party", "may_see_party"]

#: Unknown codes a user (or an address) may try before waiting.
FREE_MISSES = 10


def find_party(core: Core, code: str, user: User, address: str) -> PartyInfo:
    """The party of ``code`` (any case) if ``user`` may see it; raises NotFound, or
    TooManyRequests while the user or the address must wait (blocking: database)."""
    who, where = f"party-code:{user.id}", f"party-code:{address}"
    try:
        info: PartyInfo | None = core.parties.get(code)
    except NotFound:
        info = None
    member = info is not None and (info.created_by == user.id or info.party.member(user.id) is not None)
    if not member:  # a hit and a miss alike: no answer while the user or the address waits
        core.party_code_throttle.check(who, where)
    try:
        if info is None:
            raise NotFound(code)
        if not may_see_party(core, user, info):
            raise NotFound(code)
    except NotFound:
        if not member:
            core.party_code_throttle.failed(who, where)
        raise NotFound(f"no party with code {code[:16]!r}") from None
    return info


def may_see_party(core: Core, user: User, info: PartyInfo) -> bool:
    """Whether ``user`` may see party ``info``: its file, and every file of its play
    queue that still exists, is on a source granted to them (blocking: database). The
    one rule of the REST API, the socket, the pages and Jellyfin's SyncPlay groups
    (no database read for a user who sees every source)."""
    if sees_all(user):
        return True
    try:
        core.access.check_file(user, info.media_file_id)
    except NotFound:
        return False
    return core.access.sees_files(user, core.parties.files_of(info))
