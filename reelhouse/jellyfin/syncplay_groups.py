"""SyncPlay groups in the database: which watch party each app session follows.

A group is a watch party (``watch_sessions``); ``syncplay_members`` holds one row per
app session (its grant: ``s:<session id>`` or ``k:<api key id>``) in a group, as a
Jellyfin session is in one group at most. A group made with ``SyncPlay/New`` before
any item is a row without a party (``party_id`` NULL, only its maker sees it) until
``SetNewQueue`` names the items: the party is then made (collaborative: in SyncPlay
everyone controls) with the session's user as host, under the party service's limits
(``party_max_open``). The group's play queue is ``syncplay_queues`` (one row per
party, :mod:`.syncplay_queue`, written under optimistic locking); the party's file is
the playing entry's (a party made in the browser has no row: its one file).

Group ids: ``ids.encode("party", party id)``, ``ids.encode("syncgroup", row id)`` for
a group without an item yet. Who sees a group (List, get, Join): a user who may see
its file and every file of its queue (source grants: api/party_lookup.py), for parties
that an app session is in or that the user is a member of; a browser party's code
stays its secret until someone brings an app in.
All methods block (database): call them from a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from reelhouse.api.party_lookup import may_see_party
from reelhouse.core import Core
from reelhouse.db.models import ApiKey, MediaFile, SyncPlayMember, SyncPlayQueue, User, WatchParticipant, WatchSession
from reelhouse.errors import Conflict, InvalidInput, NotFound, PermissionDenied, SourceBusy
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.syncplay_queue import MAX_ITEMS, PlayQueue, one_item
from reelhouse.party.service import PartyInfo

__all__ = ["Group", "SyncPlayGroups", "item_of", "party_name"]

#: Groups without an item one user may hold at once (one per app session anyway).
MAX_PENDING = 20
_RETRIES = 20


def party_name(code: str) -> str:
    """A party's GroupName: its code, so a browser user can join it at /party."""
    return f"Watch party {code}"


@dataclass(frozen=True, slots=True)
class Group:
    """A group as the routes see it: its id and name, and the party (None: no item yet)."""

    group_id: str
    name: str
    party: PartyInfo | None


def item_of(core: Core, file_id: int) -> str:
    """The Jellyfin item id a media file plays as (its film or episode, else the file)."""
    with core.sessions() as s:
        row = s.execute(select(MediaFile.movie_id, MediaFile.episode_id).where(MediaFile.id == file_id)).first()
    if row is not None and row[0] is not None:
        return ids.encode("movie", row[0])
    if row is not None and row[1] is not None:
        return ids.encode("episode", row[1])
    return ids.encode("file", file_id)


class SyncPlayGroups:
    """The SyncPlay side of ``core.parties`` (see the module docstring)."""

    def __init__(self, core: Core) -> None:
        self.core = core

    # -- reads ------------------------------------------------------------------------------
    def current(self, grant: str) -> tuple[SyncPlayMember, str | None] | None:
        """The grant's membership row and its party's code (None: no item yet), or None."""
        with self.core.sessions() as s:
            row = s.scalar(select(SyncPlayMember).where(SyncPlayMember.grant == grant))
            if row is None:
                return None
            code = s.scalar(select(WatchSession.code).where(WatchSession.id == row.party_id)) \
                if row.party_id is not None else None
            s.expunge(row)
            return row, code

    def visible(self, user: User) -> list[Group]:
        """The groups ``user`` may see and join, newest first."""
        with self.core.sessions() as s:
            codes = s.scalars(select(WatchSession.code).where(
                WatchSession.ended_at.is_(None),
                or_(WatchSession.id.in_(self._apps()), WatchSession.id.in_(self._mine(user.id))))
                .order_by(WatchSession.id.desc()).limit(200)).all()
            pending = s.execute(select(SyncPlayMember.id, SyncPlayMember.name).where(
                SyncPlayMember.user_id == user.id, SyncPlayMember.party_id.is_(None))).all()
        groups = [Group(ids.encode("syncgroup", rid), name, None) for rid, name in pending]
        for code in codes:
            info = self._party(code)
            if info is not None and may_see_party(self.core, user, info):  # Jellyfin: HasAccessToPlayQueue
                groups.append(Group(ids.encode("party", info.id), party_name(info.code), info))
        return groups

    @staticmethod
    def _apps() -> Select[int | None]:
        """Parties that an app session is in: SyncPlay groups."""
        return select(SyncPlayMember.party_id).where(SyncPlayMember.party_id.is_not(None))

    @staticmethod
    def _mine(user_id: int) -> Select[int]:
        """Parties the user is a member of (joined in the browser with the code)."""
        return select(WatchParticipant.session_id).where(WatchParticipant.user_id == user_id)

    def find(self, user: User, group_id: str) -> Group:
        """The group ``group_id`` if ``user`` may see it (as :meth:`visible`: party ids
        are guessable, a browser party's code is its secret); NotFound otherwise (a
        hidden group answers as an unknown one), InvalidInput for a malformed id."""
        ref = ids.decode(group_id, "party", "syncgroup")
        if ref.kind == "syncgroup":
            with self.core.sessions() as s:
                row = s.get(SyncPlayMember, ref.id)
                if row is not None and row.user_id == user.id and row.party_id is None:
                    return Group(group_id, row.name, None)
            raise NotFound("no such SyncPlay group")
        with self.core.sessions() as s:
            code = s.scalar(select(WatchSession.code).where(
                WatchSession.id == ref.id, WatchSession.ended_at.is_(None),
                or_(WatchSession.id.in_(self._apps()), WatchSession.id.in_(self._mine(user.id)))))
        info = self._party(code) if code else None
        if info is None or not may_see_party(self.core, user, info):
            raise NotFound("no such SyncPlay group")  # Jellyfin: HasAccessToPlayQueue
        return Group(ids.encode("party", info.id), party_name(info.code), info)

    def members(self, party_id: int) -> list[str]:
        """The grants of the app sessions in a party."""
        with self.core.sessions() as s:
            return list(s.scalars(select(SyncPlayMember.grant).where(SyncPlayMember.party_id == party_id)))

    def ended_sessions(self, party_id: int) -> list[tuple[str, int]]:
        """``(grant, user id)`` of the app sessions in the party's group that have
        ended (revoked or expired session, deleted API key, disabled user) without
        leaving it: their socket was closed, so nobody saw them go."""
        with self.core.sessions() as s:
            rows = s.execute(select(SyncPlayMember.grant, SyncPlayMember.user_id)
                             .where(SyncPlayMember.party_id == party_id)).all()
            keys = {int(g[2:]) for g, _ in rows if g.startswith("k:") and g[2:].isdigit()}
            live_keys = set(s.scalars(select(ApiKey.id).where(ApiKey.id.in_(keys)))) if keys else set()
            disabled = set(s.scalars(select(User.id).where(User.id.in_({u for _, u in rows}), User.disabled)))
        gone: list[tuple[str, int]] = []
        for grant, user_id in rows:
            kind, _, number = str(grant).partition(":")
            alive = number.isdigit() and user_id not in disabled and (
                self.core.auth_sessions.is_live(int(number), user_id) if kind == "s" else
                kind == "k" and int(number) in live_keys)
            if not alive:
                gone.append((str(grant), int(user_id)))
        return gone

    def _party(self, code: str) -> PartyInfo | None:
        try:
            return self.core.parties.get(code)
        except NotFound:
            return None

    # -- writes -----------------------------------------------------------------------------
    def new(self, user: User, grant: str, name: str) -> Group:
        """A group without an item, with the grant's session in it (out of any other:
        leave it first). Conflict past MAX_PENDING such groups of the user."""
        with self.core.sessions() as s:
            count = s.scalar(select(func.count()).select_from(SyncPlayMember).where(
                SyncPlayMember.user_id == user.id, SyncPlayMember.party_id.is_(None),
                SyncPlayMember.grant != grant)) or 0
            if count >= MAX_PENDING:
                raise Conflict(f"you already have {MAX_PENDING} SyncPlay groups without an item")
            s.execute(delete(SyncPlayMember).where(SyncPlayMember.grant == grant))
            row = SyncPlayMember(grant=grant, user_id=user.id, party_id=None, name=name[:120])
            s.add(row)
            s.commit()
            return Group(ids.encode("syncgroup", row.id), row.name, None)

    def enter(self, user: User, grant: str, party_id: int) -> None:
        """Put the grant's session in the party's group (out of any other)."""
        with self.core.sessions() as s:
            s.execute(delete(SyncPlayMember).where(SyncPlayMember.grant == grant))
            s.add(SyncPlayMember(grant=grant, user_id=user.id, party_id=party_id, name=""))
            s.commit()

    def leave_party(self, grant: str, party_id: int) -> bool:
        """Take the grant's session out of party ``party_id``'s group if it is still in
        that one (not moved on to another); whether it was."""
        with self.core.sessions() as s:
            done = s.execute(delete(SyncPlayMember).where(SyncPlayMember.grant == grant,
                                                          SyncPlayMember.party_id == party_id))
            s.commit()
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def leave(self, grant: str) -> tuple[int | None, bool]:
        """Take the grant's session out of its group: ``(party id or None, whether
        another app session of the same user is still in that party)``."""
        with self.core.sessions() as s:
            row = s.scalar(select(SyncPlayMember).where(SyncPlayMember.grant == grant))
            if row is None:
                return None, False
            party_id, user_id = row.party_id, row.user_id
            s.delete(row)
            s.commit()
            if party_id is None:
                return None, False
            others = s.scalar(select(func.count()).select_from(SyncPlayMember).where(
                SyncPlayMember.party_id == party_id, SyncPlayMember.user_id == user_id)) or 0
            return party_id, others > 0

    def files_of(self, user: User, items: object) -> list[tuple[str, int]]:
        """``(item id, media file id)`` of each Jellyfin item id in ``items`` (a list of
        strings) that ``user`` may see; InvalidInput for a malformed list or more than
        MAX_ITEMS, NotFound for an unknown or hidden item (as the rest of the API
        answers for one)."""
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise InvalidInput("the item ids must be a list of strings")
        if len(items) > MAX_ITEMS:
            raise InvalidInput(f"a SyncPlay queue holds at most {MAX_ITEMS} items")
        from reelhouse.jellyfin.streams import check_visible, file_for

        out: list[tuple[str, int]] = []
        resolved: dict[str, int] = {}
        for item in items:
            if item not in resolved:
                file_id = file_for(self.core, item, None)
                check_visible(self.core, user, file_id, item)
                resolved[item] = file_id
            out.append((item, resolved[item]))
        return out

    def check_members(self, party: PartyInfo, file_ids: Iterable[int]) -> None:
        """PermissionDenied unless everyone in the group (the party's members and the
        app sessions in it) may play every file: Jellyfin refuses a queue that one
        participant could not see (Group.cs, AllUsersHaveAccessToQueue)."""
        users = {p.user_id for p in party.party.participants}
        with self.core.sessions() as s:
            users |= set(s.scalars(select(SyncPlayMember.user_id).where(SyncPlayMember.party_id == party.id)))
        for file_id in set(file_ids):
            for uid in sorted(users):
                if not self.core.access.may_play(uid, file_id):
                    raise PermissionDenied("someone in this SyncPlay group may not play that item "
                                           "(its source is not granted to them)")

    # -- the play queue ---------------------------------------------------------------------
    def queue(self, party: PartyInfo) -> tuple[PlayQueue, int]:
        """The party's play queue and its version (0: none stored, the party's one file)."""
        with self.core.sessions() as s:
            row = s.get(SyncPlayQueue, party.id)
            if row is not None:
                return PlayQueue.from_json(row.data), row.version
        item = item_of(self.core, party.media_file_id)
        return one_item(item, ids.encode("file", party.media_file_id), party.media_file_id, 0.0), 0

    def change_queue(self, party: PartyInfo, change: Callable[[PlayQueue], PlayQueue | None]
                     ) -> tuple[PlayQueue, PlayQueue | None, int]:
        """Apply ``change`` to the party's queue and store the result, guarded by the
        row's version (another node's change in between: read again and apply again).
        Returns ``(before, after or None if ``change`` changed nothing, version)``.
        Raises what ``change`` raises, SourceBusy if the row stays contended."""
        for _ in range(_RETRIES):
            before, version = self.queue(party)
            after = change(before)
            if after is None:
                return before, None, version
            with self.core.sessions() as s:
                if version == 0:
                    s.add(SyncPlayQueue(party_id=party.id, data=after.to_json(), version=1))
                    try:
                        s.commit()
                    except IntegrityError:
                        s.rollback()
                        continue
                    return before, after, 1
                done = s.execute(update(SyncPlayQueue)
                                 .where(SyncPlayQueue.party_id == party.id, SyncPlayQueue.version == version)
                                 .values(data=after.to_json(), version=version + 1)
                                 .execution_options(synchronize_session=False))
                if done.rowcount != 1:  # type: ignore[attr-defined]
                    s.rollback()
                    continue
                s.commit()
                return before, after, version + 1
        raise SourceBusy("the SyncPlay queue is too busy right now; try again", retry_after=1, public=True)
