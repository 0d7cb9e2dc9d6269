"""Watch-party drift in three real browsers: p50, p95 and max of |guest − host| (ms).

One host and two guests (headless Debian chromium, one context each), one guest slowed
through the Chrome DevTools Protocol (CPU ×2, 60 ms latency, 6 Mb/s). The host plays,
pauses, plays again and jumps 10 s; every page samples ``currentTime`` against its own
server-clock estimate every 200 ms; samples count from 2 s after each command until the
next (tests/e2e/party_sync.py has the details). Printed as one JSON object:

- ``reelhouse``: the party page as shipped (clock estimate, scheduled starts, drift
  correction);
- ``peer``: the same pages with ``?sync=naive`` — each message obeyed on arrival, no
  clock, no correction (how simple sync players behave);
- ``limit``: the goal of issue 7 (p95 ≤ 100 ms, max ≤ 250 ms).

    .venv/bin/python benchmarks/party_drift.py [--rounds 1]

Needs /usr/bin/chromium, ffmpeg and the dev venv (Playwright). About 1 min per round.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import select

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from e2e.party_sync import Drift, drift, run_script, samples, start_sampling, throttle, wait_members  # noqa: E402
from e2e.support import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

from reelhouse.config import load_settings  # noqa: E402
from reelhouse.core import Core  # noqa: E402
from reelhouse.db.models import MediaFile, User  # noqa: E402
from reelhouse.demo.media import make_clip  # noqa: E402
from reelhouse.server import create_app  # noqa: E402
from reelhouse.sources.registry import SourceSpec  # noqa: E402

USERS = {"host": "host-password", "sam": "sam-password", "alex": "alex-password"}


def log(*parts: object) -> None:
    print("[bench]", *parts, file=sys.stderr, flush=True)


def serve(core: Core) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(core), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{port}"


def one_round(browser: Any, core: Core, base: str, file_id: int, query: str) -> Drift:
    contexts = []
    try:
        pages = []
        code = None
        for name in USERS:
            ctx = browser.new_context(base_url=base, viewport={"width": 1000, "height": 700})
            ctx.set_default_timeout(30_000)
            with core.sessions() as s:
                uid = s.scalars(select(User.id).where(User.name == name)).one()
            ctx.add_cookies([{"name": "reelhouse_session", "value": core.signer.session(uid), "url": base}])
            contexts.append(ctx)
            if code is None:
                user = core.users.get(uid)
                assert user is not None
                code = core.parties.create(user, file_id).code
            page = ctx.new_page()
            if name == "alex":
                throttle(ctx, page, cpu_rate=2.0, latency_ms=60, down_kbps=6000)
            page.goto(f"/party/{code}{query}")
            pages.append(page)
        for p in pages:
            wait_members(p, 3)
            p.wait_for_function("() => window.reelParty.video.readyState >= 3")
            start_sampling(p)
        windows = run_script(pages[0], pages)
        return drift(samples(pages[0]), [samples(p) for p in pages[1:]], windows)
    finally:
        for ctx in contexts:
            ctx.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=1, help="scenario runs per variant")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="party-bench-") as tmp:
        films = Path(tmp) / "films"
        clip = make_clip(films / "Big Buck Bunny (2008)" / "Big.Buck.Bunny.2008.mp4", seconds=30,
                         width=480, height=270)
        core = Core(load_settings(data_dir=Path(tmp) / "data"))
        for name, password in USERS.items():
            core.users.add(name, password)
        src = core.sources.create(SourceSpec(name="disk", kind="local", path=str(films)))
        core.jobs.run_scan_now(src.id)
        with core.sessions() as s:
            file_id = s.scalars(select(MediaFile.id)).one()
        server, thread, base = serve(core)
        results: dict[str, Any] = {}
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                for variant, query in (("reelhouse", ""), ("peer", "?sync=naive")):
                    total = Drift()
                    for r in range(args.rounds):
                        log(f"{variant}: round {r + 1}/{args.rounds}")
                        got = one_round(browser, core, base, file_id, query)
                        for k, v in got.per_window.items():
                            total.per_window.setdefault(k, []).extend(v)
                    results[variant] = {**total.figures(),
                                        "per_command": {k: total.figures(v) for k, v in total.per_window.items()}}
                browser.close()
        finally:
            server.should_exit = True
            thread.join(10)
            core.close()
    print(json.dumps({
        "benchmark": "party_drift",
        "setup": {"pages": 3, "throttled": "1 page: CPU x2, 60 ms latency, 6 Mb/s",
                  "clip": f"{clip.name}: 30 s 480x270 H.264/AAC", "sample_every_ms": 200, "settle_s": 2.0,
                  "rounds": args.rounds},
        "reelhouse": results.get("reelhouse"),
        "peer": {"what": "same pages with ?sync=naive (obey messages on arrival, no clock, no correction)",
                 **(results.get("peer") or {})},
        "limit": {"what": "issue 7 goal", "p95_ms": 100, "max_ms": 250},
    }, indent=2))


if __name__ == "__main__":
    main()
