"""The party state machine: a table of transitions, and a hypothesis stateful test that
drives random event sequences (with time passing) and checks the invariants after each:
no sequence reaches an invalid state, and waiting always ends (by the timeout at the
latest)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import settings
from hypothesis import strategies as hs
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from reelhouse.errors import Conflict, InvalidInput, PermissionDenied, ReelhouseError
from reelhouse.party import state as st

A, B, C = 1, 2, 3


def party(*members: int, **kw: object) -> st.Party:
    p = st.Party(host_id=None, duration=100.0, wait_timeout=8.0, lead=0.3)
    for i, uid in enumerate(members):
        p = st.apply(p, st.Join(uid, f"u{uid}", float(i)))
    return replace(p, **kw)  # type: ignore[arg-type]


def buffering(p: st.Party, uid: int, since: float) -> st.Party:
    return st._member(p, replace(p.member(uid), buffering_since=since))  # type: ignore[arg-type]


# (name, start, event, expected state, position, at) — position/at None: not checked
TABLE: list[tuple[str, st.Party, st.Event, str, float | None, float | None]] = [
    ("play from idle starts lead s ahead", party(A, B), st.Play(A, 10.0), "playing", 0.0, 10.3),
    ("play while playing changes nothing", party(A, B, state="playing", position=5.0, at=1.0),
     st.Play(A, 10.0), "playing", 5.0, 1.0),
    # HTML's play(): "if the playback has ended ... seek to the earliest possible position"
    ("play at the end starts over", party(A, state="paused", position=100.0, at=5.0),
     st.Play(A, 10.0), "playing", 0.0, 10.3),
    ("play once playing ran to the end starts over", party(A, state="playing", position=90.0, at=0.0),
     st.Play(A, 200.0), "playing", 0.0, 200.3),
    ("play just before the end goes on", party(A, state="paused", position=99.5, at=5.0),
     st.Play(A, 10.0), "playing", 99.5, 10.3),
    ("pause freezes the running position", party(A, B, state="playing", position=5.0, at=1.0),
     st.Pause(A, 3.0), "paused", 7.0, 3.0),
    ("pause where the sender pressed it, 0.4 s before it came",
     party(A, B, state="playing", position=5.0, at=1.0), st.Pause(A, 3.0, 6.6), "paused", 6.6, 3.0),
    ("a pause position too far from the running one is not taken",
     party(A, B, state="playing", position=5.0, at=1.0), st.Pause(A, 3.0, 1.0), "paused", 7.0, 3.0),
    ("pause before the scheduled start", party(A, state="playing", position=5.0, at=10.3),
     st.Pause(A, 10.1), "paused", 5.0, 10.1),
    ("seek while paused stays paused", party(A, state="paused", position=5.0), st.Seek(A, 4.0, 42.0),
     "paused", 42.0, 4.0),
    ("seek while playing restarts ahead", party(A, state="playing", position=5.0, at=1.0),
     st.Seek(A, 4.0, 42.0), "playing", 42.0, 4.3),
    ("seek past the end is clamped", party(A, state="paused"), st.Seek(A, 1.0, 500.0), "paused", 100.0, None),
    ("buffering while playing waits", party(A, B, state="playing", position=0.0, at=0.0),
     st.Buffering(B, 2.0), "waiting", 2.0, 2.0),
    ("buffering that may not hold: marked, the party plays on untouched",
     party(A, B, state="playing", position=0.0, at=0.0), st.Buffering(B, 2.0, holds=False), "playing", 0.0, 0.0),
    ("buffering while paused just marks", party(A, B, state="paused", position=3.0),
     st.Buffering(B, 2.0), "paused", 3.0, None),
    ("play with a member buffering waits", buffering(party(A, B, state="paused", position=3.0), B, 1.0),
     st.Play(A, 2.0), "waiting", 3.0, 2.0),
    ("play with a member stuck past the timeout plays", buffering(party(A, B, state="paused"), B, 1.0),
     st.Play(A, 20.0), "playing", 0.0, 20.3),
    ("ready ends the wait", buffering(party(A, B, state="waiting", position=3.0, at=2.0), B, 2.0),
     st.Ready(B, 4.0), "playing", 3.0, 4.3),
    ("tick before the timeout keeps waiting", buffering(party(A, B, state="waiting", position=3.0, at=2.0), B, 2.0),
     st.Tick(9.9), "waiting", 3.0, 2.0),
    ("tick at the timeout plays on", buffering(party(A, B, state="waiting", position=3.0, at=2.0), B, 2.0),
     st.Tick(10.0), "playing", 3.0, 10.3),
    ("the buffering member leaving ends the wait", buffering(party(A, B, state="waiting", at=2.0), B, 2.0),
     st.Leave(B, 3.0), "playing", None, 3.3),
    ("the buffering member disconnecting ends the wait", buffering(party(A, B, state="waiting", at=2.0), B, 2.0),
     st.Disconnect(B, 3.0), "playing", None, 3.3),
    ("pause while waiting", buffering(party(A, B, state="waiting", position=3.0, at=2.0), B, 2.0),
     st.Pause(A, 3.0), "paused", 3.0, 3.0),
    ("end", party(A, state="playing", position=1.0, at=0.0), st.End(A, 2.0), "ended", 3.0, 2.0),
    ("collaborative: a guest plays", party(A, B, mode="collaborative"), st.Play(B, 1.0), "playing", 0.0, 1.3),
    ("the host is gone: the longest-present member controls",
     st.apply(party(A, B, C), st.Disconnect(A, 5.0)), st.Play(B, 6.0), "playing", 0.0, 6.3),
    # Jellyfin SyncPlay's Stop: Idle; the next play starts the item over
    ("stop goes idle at 0", buffering(party(A, B, state="waiting", position=5.0, at=1.0), B, 1.0),
     st.Stop(A, 3.0), "idle", 0.0, 3.0),
    ("play after a stop starts at 0", st.apply(party(A, state="playing", position=5.0, at=1.0), st.Stop(A, 3.0)),
     st.Play(A, 4.0), "playing", 0.0, 4.3),
    # another file: every connected member loads it, the party waits for them
    ("load waits for the connected members", party(A, B, state="playing", position=50.0, at=1.0),
     st.Load(A, 3.0, 4.0, 30.0), "waiting", 4.0, 3.0),
    ("load with nobody connected plays lead s ahead",
     st.apply(party(A, state="paused", position=50.0), st.Disconnect(A, 2.0)),
     st.Load(A, 3.0, 0.0, 30.0), "playing", 0.0, 3.3),
    ("load clamps to the new file's duration", party(A, state="paused"), st.Load(A, 3.0, 90.0, 20.0),
     "waiting", 20.0, 3.0),
]


def test_load_marks_connected_members_only_and_takes_the_duration() -> None:
    p = st.apply(party(A, B, C, state="playing", at=1.0, mode="collaborative"), st.Disconnect(C, 2.0))
    after = st.apply(p, st.Load(B, 3.0, 1.0, None))
    assert after.duration is None and after.last == ("load", B, 1.0)
    assert [(m.user_id, m.buffering_since) for m in after.participants] == [(A, 3.0), (B, 3.0), (C, None)]
    ready = st.apply(st.apply(after, st.Ready(A, 4.0)), st.Ready(B, 5.0))
    assert (ready.state, ready.position, ready.at) == ("playing", 1.0, 5.3)


@pytest.mark.parametrize(("name", "start", "event", "state", "position", "at"), TABLE, ids=[t[0] for t in TABLE])
def test_transitions(name: str, start: st.Party, event: st.Event, state: str,
                     position: float | None, at: float | None) -> None:
    after = st.apply(start, event)
    assert after.state == state
    if position is not None:
        assert after.position == pytest.approx(position)
    if at is not None:
        assert after.at == pytest.approx(at)
    st.check_invariants(after, event.now)


REFUSED: list[tuple[str, st.Party, st.Event, type[ReelhouseError]]] = [
    ("guest plays in host mode", party(A, B), st.Play(B, 1.0), PermissionDenied),
    ("guest seeks in host mode", party(A, B), st.Seek(B, 1.0, 3.0), PermissionDenied),
    ("guest stops in host mode", party(A, B), st.Stop(B, 1.0), PermissionDenied),
    ("guest loads a file in host mode", party(A, B), st.Load(B, 1.0, 0.0, 10.0), PermissionDenied),
    ("load at a negative position", party(A), st.Load(A, 1.0, -1.0, 10.0), InvalidInput),
    ("guest pauses in host mode", party(A, B, state="playing"), st.Pause(B, 1.0), PermissionDenied),
    ("guest changes the mode", party(A, B, mode="collaborative"), st.SetMode(B, 1.0, "host"), PermissionDenied),
    ("guest hands the host role", party(A, B, mode="collaborative"), st.HostTransfer(B, 1.0, B), PermissionDenied),
    ("guest ends the party", party(A, B, mode="collaborative"), st.End(B, 1.0), PermissionDenied),
    ("a stranger plays", party(A), st.Play(C, 1.0), PermissionDenied),
    ("the host is gone: not the newer member", st.apply(party(A, B, C), st.Disconnect(A, 5.0)),
     st.Play(C, 6.0), PermissionDenied),
    ("the host is gone: still only the host ends it", st.apply(party(A, B), st.Disconnect(A, 5.0)),
     st.End(B, 6.0), PermissionDenied),
    ("a stranger buffers", party(A), st.Buffering(C, 1.0), PermissionDenied),
    ("host role to a stranger", party(A), st.HostTransfer(A, 1.0, C), InvalidInput),
    ("negative seek", party(A), st.Seek(A, 1.0, -1.0), InvalidInput),
    ("NaN seek", party(A), st.Seek(A, 1.0, float("nan")), InvalidInput),
    ("anything after the end", party(A, state="ended"), st.Join(B, "b", 1.0), Conflict),
]


@pytest.mark.parametrize(("name", "start", "event", "error"), REFUSED, ids=[t[0] for t in REFUSED])
def test_refused(name: str, start: st.Party, event: st.Event, error: type[ReelhouseError]) -> None:
    with pytest.raises(error):
        st.apply(start, event)


def test_host_succession_and_transfer() -> None:
    p = party(A, B, C)
    assert p.host_id == A
    p = st.apply(p, st.HostTransfer(A, 5.0, C))
    assert p.host_id == C and p.last is not None and p.last[0] == "host"
    p = st.apply(p, st.Leave(C, 6.0))  # the host leaves: the longest-present (A) takes over
    assert p.host_id == A
    p = st.apply(p, st.Disconnect(A, 7.0))  # a disconnect (reload) keeps the role
    assert p.host_id == A
    p = st.apply(p, st.Join(A, "u1", 8.0))
    assert p.member(A).connected and p.member(A).joined_at == 0.0  # type: ignore[union-attr]
    p = st.apply(st.apply(p, st.Leave(A, 9.0)), st.Leave(B, 9.0))
    assert p.host_id is None and p.participants == ()
    p = st.apply(p, st.Join(C, "u3", 10.0))  # the first to come back hosts
    assert p.host_id == C


def test_a_member_that_may_not_hold_is_shown_buffering_but_nobody_waits() -> None:
    p = st.apply(party(A, B, state="playing", position=0.0, at=0.0), st.Buffering(B, 2.0, holds=False))
    assert p.member(B).buffering_since is not None and not p.holding(2.0)  # type: ignore[union-attr]
    assert st.apply(p, st.Play(A, 3.0)).state == "playing"
    st.check_invariants(p, 2.0)


def test_position_runs_at_rate_and_stops_at_the_end() -> None:
    p = party(A, state="playing", position=10.0, at=100.0, rate=1.0)
    assert p.position_at(99.0) == 10.0  # before the scheduled start
    assert p.position_at(102.5) == 12.5
    assert p.position_at(1000.0) == 100.0  # the duration


# -- stateful -------------------------------------------------------------------------
USERS = hs.sampled_from([A, B, C])


class PartyMachine(RuleBasedStateMachine):
    """Random sequences of every event, time moving forward by random steps."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.applied_at = 0.0  # time of the last event: the machine's view of "now"
        self.party = st.Party(host_id=None, duration=60.0, wait_timeout=5.0, lead=0.3)

    def _do(self, event: st.Event) -> None:
        before = self.party
        try:
            self.party = st.apply(self.party, event)
            self.applied_at = event.now
        except (PermissionDenied, InvalidInput, Conflict):
            assert self.party is before  # refused: nothing changed

    @rule(dt=hs.floats(0, 3))
    def time_passes(self, dt: float) -> None:
        self.now += dt

    @rule(uid=USERS)
    def join(self, uid: int) -> None:
        self._do(st.Join(uid, f"u{uid}", self.now))

    @rule(uid=USERS)
    def leave(self, uid: int) -> None:
        self._do(st.Leave(uid, self.now))

    @rule(uid=USERS)
    def disconnect(self, uid: int) -> None:
        self._do(st.Disconnect(uid, self.now))

    @rule(uid=USERS)
    def play(self, uid: int) -> None:
        self._do(st.Play(uid, self.now))

    @rule(uid=USERS, pos=hs.none() | hs.floats(-5, 100) | hs.just(float("nan")))
    def pause(self, uid: int, pos: float | None) -> None:
        self._do(st.Pause(uid, self.now, pos))

    @rule(uid=USERS, pos=hs.floats(-5, 100) | hs.just(float("nan")))
    def seek(self, uid: int, pos: float) -> None:
        self._do(st.Seek(uid, self.now, pos))

    @rule(uid=USERS, holds=hs.booleans())
    def buffer(self, uid: int, holds: bool) -> None:
        self._do(st.Buffering(uid, self.now, holds))

    @rule(uid=USERS)
    def ready(self, uid: int) -> None:
        self._do(st.Ready(uid, self.now))

    @rule(uid=USERS, to=USERS)
    def transfer(self, uid: int, to: int) -> None:
        self._do(st.HostTransfer(uid, self.now, to))

    @rule(uid=USERS, mode=hs.sampled_from(["host", "collaborative"]))
    def mode(self, uid: int, mode: st.Mode) -> None:
        self._do(st.SetMode(uid, self.now, mode))

    @rule(uid=USERS)
    def stop(self, uid: int) -> None:
        self._do(st.Stop(uid, self.now))

    @rule(uid=USERS, pos=hs.floats(-5, 100) | hs.just(float("nan")),
          duration=hs.none() | hs.floats(0, 100) | hs.just(float("inf")))
    def load(self, uid: int, pos: float, duration: float | None) -> None:
        self._do(st.Load(uid, self.now, pos, duration))

    @rule()
    def tick(self) -> None:
        self._do(st.Tick(self.now))

    @precondition(lambda self: self.party.state == "waiting")
    @rule()
    def waiting_always_ends(self) -> None:
        """With nothing else happening, a tick at the deadline ends any wait."""
        deadline = self.party.wait_deadline()
        assert deadline is not None
        after = st.apply(self.party, st.Tick(deadline))
        assert after.state == "playing" and after.at >= deadline

    @invariant()
    def valid(self) -> None:
        if self.party.state != "ended":
            st.check_invariants(self.party, self.applied_at)


PartyMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
test_party_machine = PartyMachine.TestCase
