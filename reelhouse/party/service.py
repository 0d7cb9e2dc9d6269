"""Parties in the database: ``watch_sessions`` and ``watch_participants``.

Every change loads the party, runs the pure state machine (:mod:`reelhouse.party.state`)
and writes the result back guarded by the row's ``version`` (optimistic locking), so
several API processes can serve one party: a writer that lost the race reloads and
applies its event again. Because the whole state is in the database, a party survives
a server restart.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from reelhouse.db.models import MediaFile, SyncPlayQueue, User, WatchParticipant, WatchSession, utcnow
from reelhouse.errors import Conflict, InvalidInput, NotFound, ReelhouseError, SourceBusy, TooManyRequests
from reelhouse.party import state as st
from reelhouse.party.clock import server_now
from reelhouse.party.codes import new_code, normalize_code

__all__ = ["NEW_PARTIES", "NEW_PARTIES_WINDOW", "PartyInfo", "PartyService"]

#: New parties one user (not an admin) may start in NEW_PARTIES_WINDOW seconds. An
#: evening's few are far below it; a script that started and ended parties in a loop
#: (54 a second on a busy 2-core machine) grew the party tables without bound, as
#: ended parties stay (their members are told it ended).
NEW_PARTIES = 30
NEW_PARTIES_WINDOW = 600

_RETRIES = 20


@dataclass(frozen=True, slots=True)
class PartyInfo:
    """A party as stored: its ``code``, media file, creator, the machine state, and the
    row's ``version`` (one more with every stored change: messages carry it, so a
    client can tell a late message from a newer one)."""

    id: int
    code: str
    media_file_id: int
    created_by: int | None
    party: st.Party
    version: int = 0


class PartyService:
    """Create, read and change parties. ``clock`` gives server time (s);
    ``wait_timeout`` and ``lead`` (s) are the state machine's (see ``state``);
    ``max_open``: most parties one user started that have not ended and that they
    still host (or nobody does: they may join again and end it); ``admit_new``: counts
    a non-admin's new party (user id → False when over NEW_PARTIES in
    NEW_PARTIES_WINDOW s: core passes its rate limits, shared by the nodes with Redis)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], float] = server_now,
        wait_timeout: float = st.DEFAULT_WAIT_TIMEOUT,
        lead: float = st.DEFAULT_LEAD,
        max_open: int = 20,
        admit_new: Callable[[int], bool] | None = None,
    ) -> None:
        self.sessions = sessions
        self.max_open = max_open
        self.admit_new = admit_new
        self.clock = clock
        self.wait_timeout = wait_timeout
        self.lead = lead
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._cache: dict[str, tuple[int, PartyInfo]] = {}

    def _lock(self, code: str) -> threading.Lock:
        """One lock per party in this process: its writers queue here instead of racing
        on the row's version (other processes still race, and retry)."""
        key = normalize_code(code) or code
        with self._locks_lock:
            if len(self._locks) > 10_000:
                self._locks.clear()
            return self._locks.setdefault(key, threading.Lock())

    # -- reads ------------------------------------------------------------------------
    def get(self, code: str) -> PartyInfo:
        """The party with invite ``code`` (any case); raises NotFound."""
        with self.sessions() as s:
            head = self._head(s, code)
            return self._cached_info(s, head)

    def list_for(self, user_id: int) -> list[PartyInfo]:
        """Parties (not ended) that ``user_id`` is a member of, newest first."""
        with self.sessions() as s:
            rows = s.scalars(
                select(WatchSession)
                .join(WatchParticipant, WatchParticipant.session_id == WatchSession.id)
                .where(WatchParticipant.user_id == user_id, WatchSession.ended_at.is_(None))
                .options(selectinload(WatchSession.participants).selectinload(WatchParticipant.user))
                .order_by(WatchSession.id.desc())
            ).all()
            return [self._info(s, r) for r in rows]

    def files_of(self, info: PartyInfo) -> set[int]:
        """The media files party ``info`` plays: its file and every file of its SyncPlay
        play queue (``syncplay_queues.data["items"]``: ``[item id, entry id, file id]``
        each, reelhouse/jellyfin/syncplay_queue.py). Who may not see one of them may not
        see the party (Jellyfin's Group.HasAccessToPlayQueue)."""
        with self.sessions() as s:
            data = s.scalar(select(SyncPlayQueue.data).where(SyncPlayQueue.party_id == info.id))
        files = {info.media_file_id}
        items = data.get("items") if isinstance(data, dict) else None
        for entry in items if isinstance(items, list) else ():
            if isinstance(entry, list) and len(entry) == 3 and isinstance(entry[2], int):
                files.add(entry[2])
        return files

    # -- writes -----------------------------------------------------------------------
    def create(self, user: User, media_file_id: int, mode: st.Mode = "host") -> PartyInfo:
        """A new party on ``media_file_id`` with ``user`` as host and first member;
        raises NotFound (no such file), InvalidInput (bad mode), Conflict (``user``
        already has ``max_open`` parties open: parties never end by themselves, so one
        user looping on create would grow the tables and their list without bound) or
        TooManyRequests (a non-admin past NEW_PARTIES in NEW_PARTIES_WINDOW s)."""
        if mode not in ("host", "collaborative"):
            raise InvalidInput("mode must be 'host' or 'collaborative'")
        if not user.is_admin and self.admit_new is not None and not self.admit_new(user.id):
            raise TooManyRequests(f"you started {NEW_PARTIES} watch parties in the last "
                                  f"{NEW_PARTIES_WINDOW // 60} minutes; try again later", 60)
        now = self.clock()
        with self.sessions() as s:
            if s.get(MediaFile, media_file_id) is None:
                raise NotFound(f"no media file with id {media_file_id}")
            mine = (select(func.count()).select_from(WatchSession)
                    .where(WatchSession.created_by == user.id, WatchSession.ended_at.is_(None),
                           or_(WatchSession.host_id == user.id, WatchSession.host_id.is_(None))))
            if (s.scalar(mine) or 0) >= self.max_open:
                raise Conflict(f"you already have {self.max_open} watch parties that have not ended; "
                               "end one before starting another")
            for _ in range(10):  # a code collision is astronomically rare; retry anyway
                row = WatchSession(code=new_code(), media_file_id=media_file_id, host_id=user.id,
                                   created_by=user.id, mode=mode, state="idle", position=0.0,
                                   position_at=now, rate=1.0, version=0)
                row.participants.append(WatchParticipant(user_id=user.id, joined_at=now, connected=False))
                s.add(row)
                try:
                    s.commit()
                except IntegrityError:
                    s.rollback()
                    continue
                return self.get(row.code)
        raise Conflict("could not allocate a party code; try again")  # pragma: no cover

    def apply(self, code: str, make_event: Callable[[float], st.Event]) -> tuple[st.Party, PartyInfo]:
        """Apply the event ``make_event(now)`` to the stored party and store the result.

        Returns ``(party before, info after)``. Raises what the state machine raises,
        NotFound (no such party), or SourceBusy if the row stays contended (after ~20
        attempts: the database is overloaded)."""
        with self._lock(code):
            return self._apply(code, make_event)

    def load(self, code: str, user_id: int, media_file_id: int, position: float) -> tuple[st.Party, PartyInfo]:
        """The party plays media file ``media_file_id`` from ``position`` (s) from now on
        (:class:`~reelhouse.party.state.Load`: its connected members load it, the party
        waits for them). Returns as :meth:`apply`; NotFound for an unknown file."""
        with self.sessions() as s:
            row = s.execute(select(MediaFile.id, MediaFile.duration).where(MediaFile.id == media_file_id)).first()
        if row is None:
            raise NotFound(f"no media file with id {media_file_id}")
        duration = float(row[1]) if row[1] else None
        with self._lock(code):
            return self._apply(code, lambda now: st.Load(user_id, now, position, duration), media_file_id)

    def _apply(self, code: str, make_event: Callable[[float], st.Event],
               media_file_id: int | None = None) -> tuple[st.Party, PartyInfo]:
        for attempt in range(_RETRIES):
            try:
                with self.sessions() as s:
                    head = self._head(s, code)
                    info = self._cached_info(s, head)
                    before = info.party
                    event = make_event(self.clock())
                    if isinstance(event, st.Play) and before.state in ("idle", "paused") and \
                            _queue_emptied(s, head.id):
                        raise Conflict("nothing to play: the play queue is empty (a Jellyfin app "
                                       "in the party can queue a title)")
                    after = st.apply(before, event)
                    if after == before and after.last == before.last:
                        return before, info
                    if not self._store(s, head, before, after, media_file_id):
                        s.rollback()
                        continue
                    s.commit()
                    new = replace(info, party=after, version=head.version + 1,
                                  media_file_id=media_file_id if media_file_id is not None else info.media_file_id)
                    self._remember(head.version + 1, new)
                    return before, new
            except OperationalError:  # SQLite: another process holds or changed the file
                time.sleep(0.005 * (attempt + 1))
        raise SourceBusy("the party is too busy right now; try again", retry_after=1, public=True)

    def disconnect_everyone(self) -> int:
        """Mark every connected member of every open party disconnected; returns how
        many. For the start of a server that is the only one (no socket can be open
        anywhere): one that died with sockets open left their members connected, and
        the host among them in control for ever."""
        with self.sessions() as s:
            rows = s.execute(
                select(WatchSession.code, WatchParticipant.user_id)
                .join(WatchParticipant, WatchParticipant.session_id == WatchSession.id)
                .where(WatchSession.ended_at.is_(None), WatchParticipant.connected.is_(True))
            ).all()
        for code, user_id in rows:
            with contextlib.suppress(ReelhouseError):
                self.apply(code, functools.partial(_disconnect, user_id))
        return len(rows)

    def open_codes_of_user(self, user_id: int) -> list[str]:
        """The codes of the parties not ended that ``user_id`` is a member of."""
        with self.sessions() as s:
            return list(s.scalars(
                select(WatchSession.code)
                .join(WatchParticipant, WatchParticipant.session_id == WatchSession.id)
                .where(WatchParticipant.user_id == user_id, WatchSession.ended_at.is_(None))))

    def user_removing(self, user_id: int) -> int:
        """Take ``user_id``, about to be deleted, out of their open parties as a
        :class:`~reelhouse.party.state.Leave` would (a host's role passes to the
        longest-present member); returns how many. The deletion would take their member
        rows (and a host's ``host_id``) away under the rows' ``version``, unseen by every
        process's cache: that process would write the deleted user back (a foreign key
        error on every later change of the party) and show them as its host."""
        codes = self.open_codes_of_user(user_id)
        for code in codes:
            with contextlib.suppress(ReelhouseError):  # ended or gone meanwhile
                self.apply(code, functools.partial(_leave, user_id))
        return len(codes)

    # -- the cache: the last party state this process wrote or read, by version ------------
    def _remember(self, version: int, info: PartyInfo) -> None:
        with self._locks_lock:
            if len(self._cache) > 1000:
                self._cache.clear()
            # as if read from the database: ``last`` (what just happened) is not stored
            self._cache[info.code] = (version, replace(info, party=replace(info.party, last=None), version=version))

    def _cached_info(self, s: Session, head: _Head) -> PartyInfo:
        """The party at ``head``'s version: from the cache when this process holds that
        version (no member rows read), else loaded whole."""
        with self._locks_lock:
            hit = self._cache.get(head.code)
        if hit is not None and hit[0] == head.version:
            return hit[1]
        info = self._info(s, self._load(s, head.code))
        self._remember(info.version, info)
        return info

    @staticmethod
    def _head(s: Session, code: str) -> _Head:
        clean = normalize_code(code)
        row = None
        if clean is not None:
            row = s.execute(select(WatchSession.id, WatchSession.code, WatchSession.version)
                            .where(WatchSession.code == clean)).first()
        if row is None:
            raise NotFound(f"no party with code {code[:16]!r}")
        return _Head(row[0], row[1], row[2])

    def open_codes_of_source(self, source_id: int) -> list[str]:
        """The codes of the parties not ended that play a file of source ``source_id``
        (their rows go with the source's files when it is removed)."""
        with self.sessions() as s:
            return list(s.scalars(select(WatchSession.code).join(MediaFile, MediaFile.id == WatchSession.media_file_id)
                                  .where(MediaFile.source_id == source_id, WatchSession.ended_at.is_(None))))

    # -- rows <-> state -----------------------------------------------------------------
    @staticmethod
    def _load(s: Session, code: str) -> WatchSession:
        clean = normalize_code(code)
        row = None
        if clean is not None:
            row = s.scalar(
                select(WatchSession).where(WatchSession.code == clean)
                .options(selectinload(WatchSession.participants).selectinload(WatchParticipant.user))
            )
        if row is None:
            raise NotFound(f"no party with code {code[:16]!r}")
        return row

    def _party(self, s: Session, row: WatchSession) -> st.Party:
        duration = s.scalar(select(MediaFile.duration).where(MediaFile.id == row.media_file_id))
        members = tuple(
            st.Participant(p.user_id, p.user.name, p.joined_at, p.connected, p.buffering_since)
            for p in sorted(row.participants, key=lambda p: (p.joined_at, p.id or 0))
        )
        return st.Party(
            host_id=row.host_id, mode="collaborative" if row.mode == "collaborative" else "host",
            state=_STATES.get(row.state, "idle"), position=row.position, at=row.position_at,
            rate=row.rate, duration=float(duration) if duration else None, participants=members,
            wait_timeout=self.wait_timeout, lead=self.lead,
        )

    def _info(self, s: Session, row: WatchSession, party: st.Party | None = None) -> PartyInfo:
        return PartyInfo(row.id, row.code, row.media_file_id, row.created_by,
                         party if party is not None else self._party(s, row), row.version)

    @staticmethod
    def _store(s: Session, head: _Head, before: st.Party, party: st.Party, media_file_id: int | None = None) -> bool:
        """Write ``party`` (and its new file, if given) over the row if nobody changed it
        since ``head`` was read; only the member rows that changed are written."""
        other = {} if media_file_id is None else {"media_file_id": media_file_id}
        done = s.execute(
            update(WatchSession)
            .where(WatchSession.id == head.id, WatchSession.version == head.version)
            .values(host_id=party.host_id, mode=party.mode, state=party.state,
                    position=party.position, position_at=party.at, rate=party.rate,
                    version=head.version + 1, updated_at=utcnow(),
                    ended_at=utcnow() if party.state == "ended" else None, **other)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            return False
        old = {p.user_id: p for p in before.participants}
        new = {p.user_id: p for p in party.participants}
        gone = [uid for uid in old if uid not in new]
        if gone:
            s.execute(delete(WatchParticipant).where(WatchParticipant.session_id == head.id,
                                                     WatchParticipant.user_id.in_(gone)))
        for uid, p in new.items():
            was = old.get(uid)
            if was is None:
                s.execute(insert(WatchParticipant).values(
                    session_id=head.id, user_id=uid, joined_at=p.joined_at, connected=p.connected,
                    buffering_since=p.buffering_since))
            elif was != p:
                s.execute(update(WatchParticipant)
                          .where(WatchParticipant.session_id == head.id, WatchParticipant.user_id == uid)
                          .values(connected=p.connected, buffering_since=p.buffering_since)
                          .execution_options(synchronize_session=False))
        return True


def _queue_emptied(s: Session, party_id: int) -> bool:
    """Whether the party's SyncPlay play queue (jellyfin/syncplay_queue.py) was emptied of
    its playing entry: the party is idle with no item, and Play has nothing to start
    (Jellyfin's Idle group state). A party without a stored queue plays its one file."""
    data = s.scalar(select(SyncPlayQueue.data).where(SyncPlayQueue.party_id == party_id))
    return isinstance(data, dict) and data.get("playing") is None


def _disconnect(user_id: int, now: float) -> st.Event:
    return st.Disconnect(user_id, now)


def _leave(user_id: int, now: float) -> st.Event:
    return st.Leave(user_id, now)


@dataclass(frozen=True, slots=True)
class _Head:
    """The columns that say which party and which version of it."""

    id: int
    code: str
    version: int


_STATES: dict[str, st.PlaybackState] = {
    "idle": "idle", "waiting": "waiting", "paused": "paused", "playing": "playing", "ended": "ended",
}
