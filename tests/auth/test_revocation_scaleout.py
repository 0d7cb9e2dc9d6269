"""A revoked session stops working in under a second on every API process: two
``reelhouse serve`` processes share one PostgreSQL database (and a redis-server for
their party hub, as deployed); a logout on one, and an admin disabling a user on one,
end the bearer token, the cookie and the playback URL on the other."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, SourceRow

from helpers import ADMIN, ADMIN_PASSWORD, postgres_schema, serve_process

URL = os.environ.get("REELHOUSE_TEST_POSTGRES_URL", "")

pytestmark = [
    pytest.mark.requires_postgres,
    pytest.mark.requires_redis,
    pytest.mark.skipif(not URL, reason="set REELHOUSE_TEST_POSTGRES_URL to run the PostgreSQL tests"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is missing"),
]


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_schema(URL, "rh_test") as url:
        yield url


#: The most seconds a refusal on B may take in this test: the 0.5 s identity window
#: (IDENTITY_CACHE_SECONDS) plus room for two server processes on a loaded 2-core CI
#: machine, where one probe's round trip alone can take a few hundred ms. A refusal
#: that waits for the session's next touch (60 s) or never comes still fails.
REFUSED_WITHIN = 3.0


def _until_refused(probes: dict[str, Callable[[], int]], limit: float = 15.0) -> dict[str, float]:
    """Seconds from the start until each probe's first request answered 401 was sent
    (polled every 20 ms): a slow answer does not count against the server's bound."""
    start, seen = time.monotonic(), {}
    while len(seen) < len(probes) and time.monotonic() - start < limit:
        for name, probe in probes.items():
            sent = time.monotonic() - start
            if name not in seen and probe() == 401:
                seen[name] = sent
        time.sleep(0.02)
    return seen


def test_revocation_reaches_the_other_process_at_once(pg_url: str, redis_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    media = tmp_path / "media"
    media.mkdir()
    (media / "film.mp4").write_bytes(os.urandom(100_000))
    core = Core(load_settings(data_dir=data, database_url=pg_url), consume_jobs=False)
    try:
        core.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
        core.users.add("friend", "friend-password")
        with core.sessions() as s:
            src = SourceRow(name="disk", kind="local", path=str(media))
            s.add(src)
            s.flush()
            mf = MediaFile(source_id=src.id, path="film.mp4", size=100_000, kind="movie")
            s.add(mf)
            s.commit()
            file_id = mf.id
    finally:
        core.close()
    env = {"REELHOUSE_DATA_DIR": str(data), "REELHOUSE_DATABASE_URL": pg_url,
           "REELHOUSE_PARTY_REDIS_URL": redis_url, "REELHOUSE_JOBS_IN_PROCESS": "false",
           "REELHOUSE_LOG_LEVEL": "WARNING"}
    with serve_process(env) as a, serve_process(env) as b, httpx.Client(timeout=10) as http:
        def login(base: str, name: str, password: str) -> str:
            r = http.post(base + "/api/auth/login", json={"username": name, "password": password})
            assert r.status_code == 200, r.text
            http.cookies.clear()  # the probes send the cookie or the bearer on purpose
            return str(r.json()["token"])

        def probes(token: str) -> dict[str, Callable[[], int]]:
            bearer = {"authorization": f"Bearer {token}"}
            r = http.post(f"{b}/api/library/media-files/{file_id}/playback", headers=bearer)
            assert r.status_code == 200, r.text
            play_url = r.json()["url"]
            assert http.get(play_url, headers={"range": "bytes=0-9"}).status_code == 206
            return {
                "bearer": lambda: http.get(b + "/api/auth/me", headers=bearer).status_code,
                "cookie": lambda: http.get(b + "/api/auth/me",
                                           headers={"cookie": f"reelhouse_session={token}"}).status_code,
                "playback": lambda: http.get(play_url, headers={"range": "bytes=0-9"}).status_code,
            }

        # 1. a logout on A
        token = login(a, ADMIN, ADMIN_PASSWORD)
        checks = probes(token)
        assert all(p() in (200, 206) for p in checks.values())
        assert http.post(a + "/api/auth/logout",
                         headers={"authorization": f"Bearer {token}"}).status_code == 204
        times = _until_refused(checks)
        print("logout on A -> refused on B after (s):", times)
        assert set(times) == set(checks) and max(times.values()) < REFUSED_WITHIN, times

        # 2. an admin on A disables a user logged in on B
        admin = login(a, ADMIN, ADMIN_PASSWORD)
        friend = login(b, "friend", "friend-password")
        checks = probes(friend)
        users = http.get(a + "/api/users", headers={"authorization": f"Bearer {admin}"}).json()
        fid = next(u["id"] for u in users if u["name"] == "friend")
        r = http.patch(f"{a}/api/users/{fid}", json={"disabled": True},
                       headers={"authorization": f"Bearer {admin}"})
        assert r.status_code == 200
        times = _until_refused(checks)
        print("disabled on A -> refused on B after (s):", times)
        assert set(times) == set(checks) and max(times.values()) < REFUSED_WITHIN, times
