"""The party clock: server time, and the NTP-style estimate of it that a client keeps.

The server is the authority: every broadcast says "position P at server time T". A
client converts that to its own clock with an offset estimated from ping/pong pairs as
NTP does (RFC 5905 §8, with one server timestamp): for a ping sent at client time
``t0``, answered with server time ``ts`` and received at ``t1``, the round trip is
``t1 - t0`` and the offset ``ts - (t0 + t1) / 2``. The sample with the lowest round trip
of the last 8 is the most trustworthy (its error is at most half its round trip), so
two honest samples differ by at most half their round trips together: a sample further
off than that (plus ``JUMP_MARGIN``) means a clock jumped (a suspended machine's
monotonic clock stops while it sleeps; a server's clock is stepped) and the older
samples are dropped, rather than one of them winning on round trip for 8 pings. The
browser runs the same code in ``web/static/party.js``; this one serves Python clients
(tests, benchmarks).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

__all__ = ["JUMP_MARGIN", "ClockEstimate", "Sample", "server_now"]

#: Seconds two samples may disagree beyond half their round trips together (timer jitter).
JUMP_MARGIN = 0.05


def server_now() -> float:
    """The server clock: Unix time in seconds (float)."""
    return time.time()


@dataclass(frozen=True, slots=True)
class Sample:
    """One ping/pong: round trip ``rtt`` and ``offset`` (server − client), seconds."""

    rtt: float
    offset: float


class ClockEstimate:
    """Offset of the server clock from the local one, from the best of the last
    ``keep`` samples (lowest round trip)."""

    def __init__(self, keep: int = 8) -> None:
        self.samples: deque[Sample] = deque(maxlen=keep)

    def add(self, t0: float, server_time: float, t1: float) -> Sample:
        """Record a ping sent at local ``t0``, answered with ``server_time``, received at
        local ``t1`` (all seconds). A reply before its ping (``t1 < t0``) is ignored."""
        rtt = max(0.0, t1 - t0)
        sample = Sample(rtt, server_time - (t0 + t1) / 2)
        if t1 >= t0:
            best = self.best
            if best is not None and abs(sample.offset - best.offset) > (sample.rtt + best.rtt) / 2 + JUMP_MARGIN:
                self.samples.clear()  # one of the clocks jumped: the older samples are wrong
            self.samples.append(sample)
        return sample

    @property
    def best(self) -> Sample | None:
        return min(self.samples, key=lambda s: s.rtt) if self.samples else None

    @property
    def offset(self) -> float:
        """Server − local, seconds (0 before the first sample)."""
        best = self.best
        return best.offset if best else 0.0

    def server_time(self, local: float) -> float:
        """The server time (s) at local time ``local`` (s)."""
        return local + self.offset
