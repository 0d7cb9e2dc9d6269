"""The three-browser watch-party scenario, shared by tests/e2e/test_party.py and
benchmarks/party_drift.py.

Each page samples every 200 ms ``[server time estimate, video.currentTime, paused]``
(its own NTP-style estimate of the server clock, ``window.reelParty.serverNow``). A
guest's drift at a sample is its position minus the host's position at the same server
time (linear interpolation between the host's two neighbouring samples, which are at
most 0.5 s apart). Only samples from 2 s after a command (when it has "settled") until
the next command count.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

SAMPLER = """() => {
  if (window.__sampler) return;
  window.__samples = [];
  window.__sampler = setInterval(() => {
    const p = window.reelParty, v = p.video;
    const st = p.state();
    window.__samples.push([p.serverNow(), v.currentTime, v.paused, st ? st.state : null, p.expected(),
                           v.playbackRate]);
  }, 200);
}"""

SETTLE = 2.0


@dataclass
class Window:
    """A stretch of server time [start, end] (s) in which every guest should be in sync."""

    name: str
    start: float
    end: float


@dataclass
class Drift:
    """Absolute drifts (s) of guests against the host, per window."""

    per_window: dict[str, list[float]] = field(default_factory=dict)

    def all(self) -> list[float]:
        return [d for values in self.per_window.values() for d in values]

    def figures(self, values: list[float] | None = None) -> dict[str, float | int]:
        """p50, p95, max (ms) and the sample count."""
        data = sorted(self.all() if values is None else values)
        if not data:
            return {"samples": 0, "p50_ms": float("nan"), "p95_ms": float("nan"), "max_ms": float("nan")}
        p95 = data[min(len(data) - 1, round(0.95 * (len(data) - 1)))]
        return {"samples": len(data), "p50_ms": round(statistics.median(data) * 1000, 1),
                "p95_ms": round(p95 * 1000, 1), "max_ms": round(data[-1] * 1000, 1)}


def start_sampling(page: Page) -> None:
    page.wait_for_function("() => window.reelParty && window.reelParty.state()")
    page.evaluate(SAMPLER)


def samples(page: Page) -> list[list[Any]]:
    result: list[list[Any]] = page.evaluate("() => window.__samples")
    return result


def server_time(page: Page) -> float:
    return float(page.evaluate("() => window.reelParty.serverNow()"))


def _interp(host: list[list[Any]], t: float) -> float | None:
    lo, hi = 0, len(host) - 1
    if hi < 1 or t < host[0][0] or t > host[-1][0]:
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if host[mid][0] <= t:
            lo = mid
        else:
            hi = mid
    (t0, p0, *_), (t1, p1, *_) = host[lo], host[hi]
    if t1 - t0 > 0.5 or t1 <= t0:
        return None
    return float(p0 + (p1 - p0) * (t - t0) / (t1 - t0))


def drift(host: list[list[Any]], guests: list[list[list[Any]]], windows: list[Window]) -> Drift:
    """Guests' |position − host position| in each window (see the module docstring)."""
    out = Drift()
    for w in windows:
        values = out.per_window.setdefault(w.name, [])
        # only the host's samples of this window: the next command may act right after it
        ref_samples = [s for s in host if w.start - 0.5 <= s[0] <= w.end]
        for guest in guests:
            for t, pos, *_ in guest:
                if w.start <= t <= w.end:
                    ref = _interp(ref_samples, t)
                    if ref is not None:
                        values.append(abs(pos - ref))
    return out


def throttle(context: BrowserContext, page: Page, cpu_rate: float = 2.0, latency_ms: float = 60,
             down_kbps: float = 6000) -> Any:
    """Slow ``page`` down through the Chrome DevTools Protocol: CPU (``rate`` × slower)
    and network (latency, download throughput). Returns the CDP session."""
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": latency_ms,
        "downloadThroughput": down_kbps * 1000 / 8, "uploadThroughput": down_kbps * 1000 / 8,
    })
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu_rate})
    return cdp


def wait_members(page: Page, count: int, status: str | None = None, timeout: float = 20.0) -> None:
    """Until ``page`` shows ``count`` connected members (all with ``status`` if given)."""
    expr = """([n, s]) => { const st = window.reelParty && window.reelParty.state();
        if (!st) return false;
        const on = st.participants.filter(p => p.connected);
        return on.length === n && (!s || on.every(p => p.status === s)); }"""
    page.wait_for_function(expr, arg=[count, status], timeout=timeout * 1000)


def wait_state(page: Page, state: str, timeout: float = 20.0) -> None:
    page.wait_for_function("(s) => window.reelParty.state() && window.reelParty.state().state === s",
                           arg=state, timeout=timeout * 1000)


def pause_for(seconds: float) -> None:
    time.sleep(seconds)


def click_command(host: Page, action: str) -> None:
    """The host presses play/pause (``toggle``) or +10 s (``forward``) in the page."""
    host.locator("#party-play" if action == "toggle" else "#party-fwd").click()


#: (window name, host action, seconds to hold, party state it leads to)
SCRIPT = [
    ("play", "toggle", 6.0, "playing"),
    ("pause", "toggle", 3.5, "paused"),
    ("play again", "toggle", 4.5, "playing"),
    ("seek +10 s", "forward", 5.5, "playing"),
]


def run_script(host: Page, pages: list[Page], on_command: Any = None) -> list[Window]:
    """Play, pause, play, seek +10 s from the host's page; returns the settled windows.
    ``on_command(name)`` runs once every page shows the new state."""
    windows: list[Window] = []
    for name, action, hold, state in SCRIPT:
        click_command(host, action)
        for p in pages:
            wait_state(p, state)
        t = server_time(host)
        if on_command is not None:
            on_command(name)
        time.sleep(max(0.0, hold - (server_time(host) - t)))
        windows.append(Window(name, t + SETTLE, server_time(host)))
    return windows
