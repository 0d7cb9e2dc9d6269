"""What server-side sessions cost per request.

Measures, in one run on one machine (SQLite, uvicorn on loopback, one client):
- ``health``: ``GET /api/health`` (no authentication): the limit of the stack;
- ``session``: ``GET /api/auth/me`` with a bearer session token (one indexed row read
  per request, plus a write at most once a minute);
- ``peer_signed``: the same route authenticated the way reelhouse did before issue 13 —
  a stateless itsdangerous token, verified without the database (not revocable) —
  measured in-process as the cost of the check alone, next to ``identify_us`` (ours);
- ``revocation_s``: seconds from ``POST /api/auth/logout`` to the first 401;
- ``playback_grant_miss_us`` / ``_hit_us``: a playback URL's source-grant check
  (``Authenticator.may_play``) reading the database, and answered from its cache.

Prints one JSON object. ``--requests`` per HTTP target (default 2000).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
from itsdangerous import URLSafeTimedSerializer

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.server import make_server


def _http(client: httpx.Client, url: str, n: int, headers: dict[str, str]) -> dict[str, float]:
    lat = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(url, headers=headers)
        lat.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.text
    lat.sort()
    return {"requests_per_s": round(n / sum(lat), 1), "p50_ms": round(statistics.median(lat) * 1000, 3),
            "p99_ms": round(lat[int(n * 0.99)] * 1000, 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        core = Core(load_settings(data_dir=Path(tmp)), consume_jobs=False)
        core.users.add("admin", "admin-password", is_admin=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = make_server(core, "127.0.0.1", port, close_core=False)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=10) as client:
                token = client.post("/api/auth/login", json={"username": "admin",
                                                             "password": "admin-password"}).json()["token"]
                client.cookies.clear()
                bearer = {"authorization": f"Bearer {token}"}
                out: dict[str, object] = {
                    "health": _http(client, "/api/health", args.requests, {}),
                    "session": _http(client, "/api/auth/me", args.requests, bearer),
                }
                n = 5000
                t0 = time.perf_counter()
                for _ in range(n):
                    core.auth.identify(token)
                out["identify_us"] = round((time.perf_counter() - t0) / n * 1e6, 1)
                # A playback URL's source-grant check (Authenticator.may_play): a miss
                # is file_access's database read, a hit the per-(user, file) cache.
                viewer = core.users.add("viewer", "viewer-password").id
                access = core.auth.file_access
                assert access is not None
                t0 = time.perf_counter()
                for _ in range(n):
                    access(viewer, 1)
                out["playback_grant_miss_us"] = round((time.perf_counter() - t0) / n * 1e6, 1)
                core.auth._files_ok[(viewer, 1)] = time.monotonic()
                t0 = time.perf_counter()
                for _ in range(n):
                    core.auth.may_play(viewer, 1)
                out["playback_grant_hit_us"] = round((time.perf_counter() - t0) / n * 1e6, 1)
                signer = URLSafeTimedSerializer(os.urandom(32), salt="reelhouse.session")
                old = signer.dumps({"u": 1})
                t0 = time.perf_counter()
                for _ in range(n):
                    signer.loads(old, max_age=3600)
                out["peer_signed_us"] = round((time.perf_counter() - t0) / n * 1e6, 1)
                t0 = time.perf_counter()
                assert client.post("/api/auth/logout", headers=bearer).status_code == 204
                while client.get("/api/auth/me", headers=bearer).status_code != 401:
                    pass
                out["revocation_s"] = round(time.perf_counter() - t0, 4)
                out["load_1min"] = round(os.getloadavg()[0], 2)
                out["cpus"] = os.cpu_count()
        finally:
            server.should_exit = True
            thread.join(10)
            core.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
