"""The party's wire format and clock estimate: a table of messages, a property test
(any input is either a message or an InvalidInput, never another error), invite codes,
and the NTP-style offset estimate."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from reelhouse.errors import InvalidInput
from reelhouse.party import protocol
from reelhouse.party import state as st
from reelhouse.party.clock import ClockEstimate
from reelhouse.party.codes import ALPHABET, CODE_LENGTH, new_code, normalize_code


@pytest.mark.parametrize(("raw", "expected"), [
    ('{"v":1,"type":"ping","t0":5}', protocol.ClientMessage("ping", t0=5.0)),
    ('{"v":1,"type":"play"}', protocol.ClientMessage("play")),
    ('{"v":1,"type":"pause"}', protocol.ClientMessage("pause")),
    ('{"v":1,"type":"pause","position":61.5}', protocol.ClientMessage("pause", position=61.5)),
    ('{"v":1,"type":"seek","position":12.5}', protocol.ClientMessage("seek", position=12.5)),
    ('{"v":1,"type":"mode","mode":"collaborative"}', protocol.ClientMessage("mode", mode="collaborative")),
    ('{"v":1,"type":"host","to":3}', protocol.ClientMessage("host", to=3)),
])
def test_parse(raw: str, expected: protocol.ClientMessage) -> None:
    assert protocol.parse(raw) == expected


@pytest.mark.parametrize("raw", [
    "", "[]", "null", '{"type":"play"}', '{"v":2,"type":"play"}', '{"v":1,"type":"dance"}',
    '{"v":1,"type":"seek"}', '{"v":1,"type":"seek","position":"1"}', '{"v":1,"type":"seek","position":true}',
    '{"v":true,"type":"play"}', '{"v":1,"type":"pause","position":NaN}', '{"v":1,"type":"pause","position":"1"}',
    '{"v":1,"type":"mode","mode":"anarchy"}', '{"v":1,"type":"host","to":"3"}', '{"v":1,"type":"host","to":false}',
    '{"v":1,"type":"play","pad":"' + "x" * 5000 + '"}', b"\xff\xfe",
    "[" * 4000,  # nested past json's recursion limit: RecursionError, not ValueError
    '{"v":1,"type":"ping","t0":' + "9" * 400 + "}", '{"v":1,"type":"seek","position":-' + "9" * 400 + "}",
])
def test_parse_refuses(raw: str | bytes) -> None:
    with pytest.raises(InvalidInput):
        protocol.parse(raw)


@given(hs.one_of(hs.text(max_size=200), hs.binary(max_size=200),
                 hs.dictionaries(hs.sampled_from(["v", "type", "position", "mode", "to", "t0"]),
                                 hs.one_of(hs.none(), hs.booleans(), hs.integers(), hs.floats(), hs.text(max_size=20),
                                           hs.sampled_from(["play", "seek", "host", "mode", "ping", 1])))
                 .map(json.dumps)))
def test_parse_never_crashes(raw: str | bytes) -> None:
    try:
        msg = protocol.parse(raw)
    except InvalidInput:
        return
    if msg.type != "ping":
        event = protocol.to_event(msg, 1)(10.0)
        assert event.now == 10.0


def test_state_message_carries_only_changed_members() -> None:
    before = st.apply(st.Party(host_id=None), st.Join(1, "a", 0.0))
    before = st.apply(before, st.Join(2, "b", 1.0))
    after = st.apply(before, st.Play(1, 2.0))
    assert protocol.members_changed(before, after) == ([], [])
    event = protocol.event_of(before, after)
    assert event is not None and (event["kind"], event["name"]) == ("play", "a")
    left = st.apply(after, st.Leave(2, 3.0))
    assert protocol.members_changed(after, left) == ([], [2])
    text = protocol.dumps({"type": "state", "party": protocol.playback("ABCDEF", 1, left)})
    assert text.startswith('{"v":1,"type":"state"')


def test_codes() -> None:
    codes = {new_code() for _ in range(200)}
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)
    assert len(codes) > 190
    assert not set(ALPHABET) & set("0O1IL5S2Z8BUV")
    assert normalize_code(" ko7-4rx ") is None  # O is not in the alphabet (0)
    assert normalize_code(" kx7-4rw ") == "KX74RW"
    assert normalize_code("KX74R") is None


def test_clock_estimate_keeps_the_lowest_round_trip_of_the_last_eight() -> None:
    clock = ClockEstimate()
    assert clock.offset == 0.0
    clock.add(100.0, 150.1, 100.2)  # rtt 0.2: offset 150.1 - 100.1 = 50.0
    clock.add(101.0, 151.01, 101.02)  # rtt 0.02: offset 50.0 (± 0.01)
    assert clock.offset == pytest.approx(50.0)
    assert clock.server_time(200.0) == pytest.approx(250.0)
    clock.add(103.0, 100.0, 102.0)  # a reply before its ping: ignored
    assert len(clock.samples) == 2
    for i in range(8):  # eight worse samples push the best one out
        clock.add(110.0 + i, 170.0 + i, 110.1 + i)
    assert clock.best is not None and clock.best.rtt == pytest.approx(0.1)
    assert clock.offset == pytest.approx(59.95)


def test_clock_estimate_follows_a_jump_of_the_local_clock_at_once() -> None:
    """A suspended laptop's monotonic clock (the page's performance.now()) stops: after
    waking it is behind by the time asleep. Two honest samples differ by at most half
    their round trips together, so a sample further off than that starts afresh rather
    than losing to an older one with a lower round trip for up to 8 pings (16 s)."""
    clock = ClockEstimate()
    clock.add(100.0, 150.01, 100.02)  # rtt 0.02: offset 50.0
    clock.add(102.0, 152.05, 102.1)  # rtt 0.1: offset 50.0
    # asleep 5 s: the local clock now reads 5 s less than it should
    clock.add(99.0, 154.05, 99.1)  # rtt 0.1: offset 55.0
    assert clock.offset == pytest.approx(55.0)
    clock.add(101.0, 156.06, 101.12)  # a later, slower sample of the same clock: kept beside it
    assert clock.offset == pytest.approx(55.0) and len(clock.samples) == 2
