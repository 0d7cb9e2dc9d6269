"""Shared fixtures: a real FTP server (pyftpdlib, port 0), real media clips (ffmpeg),
a Core + app on a temp data dir, and guards against leaked sockets and threads.

Markers (pyproject.toml) say what a test needs; locally a missing dependency skips the
test with the reason, under ``CI=true`` such a skip fails the run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine

from reelhouse import core as core_module
from reelhouse.auth import users as users_module
from reelhouse.core import Core
from reelhouse.db.engine import make_engine
from reelhouse.db.migrate import upgrade as _real_upgrade
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.demo.media import make_clip
from reelhouse.demo.probe_clips import make_probe_clips
from reelhouse.server import create_app

from helpers import (
    FTP_PASSWORD,
    FTP_USER,
    PG_URL,
    admin_client,
    admin_core,
    free_port,
    postgres_schema,
    redis_server,
    stop_without_leaks,
)

# Speed is measured in benchmarks/, not in tests: Hypothesis's per-example deadline
# (200 ms) and its "too slow" health check turned a loaded CI machine into failures
# (test_syncplay_pure's round trip took ~430 ms at load 10).
hypothesis_settings.register_profile("reelhouse", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("reelhouse")

_TESTS = Path(__file__).parent
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_NEEDS = ("requires_ffmpeg", "requires_chromium", "requires_postgres", "requires_fuse",
          "requires_redis", "ftpd", "requires_node")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if CI and report.skipped and any(item.get_closest_marker(m) for m in _NEEDS):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true (a system dependency is missing): {report.longrepr}"


# -- per-test set-up costs ---------------------------------------------------------
#: argon2id at its cheapest work (argon2-cffi's ``profiles.CHEAPEST`` cost, full-size
#: salt and hash): every test adds an admin and logs in, which at the production
#: parameters (RFC 9106 low-memory: t=3, 64 MiB, p=4) cost ~1 s of a loaded 2-core CI
#: machine per test. A hash keeps its parameters, so a server in a child process (the
#: production hasher) verifies these and rehashes them at the next login.
_CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Path]:
    """A SQLite database migrated to head by the real migrations, made once per session
    (on first use): :func:`_quick_set_up` copies it where a Core opens a new one."""
    made: list[Path] = []

    def template() -> Path:
        if not made:
            path = tmp_path_factory.mktemp("migrated") / "reelhouse.db"
            engine = make_engine(f"sqlite:///{path}")
            try:
                _real_upgrade(engine)
                with engine.connect() as conn:  # everything in the file itself, no -wal
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                engine.dispose()
            made.append(path)
        return made[0]

    return template


@pytest.fixture(autouse=True)
def _quick_set_up(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
                  _migrated_sqlite: Callable[[], Path]) -> None:
    """Cut the set-up every test repeats, keeping what it means: a Core opening a SQLite
    database that does not exist yet starts from a copy of :func:`_migrated_sqlite` (the
    bytes the migrations would write; its own ``upgrade`` still runs and finds it at
    head), and passwords are hashed with :data:`_CHEAP_HASHER`. Tests of the migrations
    (tests/db) run them for real."""
    monkeypatch.setattr(users_module, "_hasher", _CHEAP_HASHER)
    if "db" in request.path.relative_to(_TESTS).parts[:1]:
        return

    def upgrade(engine: Engine) -> None:
        db = engine.url.database
        if engine.dialect.name == "sqlite" and db and db != ":memory:" and not os.path.exists(db):
            with contextlib.suppress(OSError):  # a folder it may not write: the upgrade says so, as ever
                shutil.copyfile(_migrated_sqlite(), db)
        _real_upgrade(engine)

    monkeypatch.setattr(core_module, "upgrade", upgrade)


# -- leak guard -----------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _leak_guard() -> Iterator[None]:
    """No stray non-daemon threads after a test."""
    before = {t.ident for t in threading.enumerate()}
    yield
    deadline = time.monotonic() + 15  # a wait only when one is left: room for a loaded machine
    while True:
        extra = [t for t in threading.enumerate()
                 if t.ident not in before and t.is_alive() and not t.daemon
                 and not t.name.startswith(("ThreadPoolExecutor", "AnyIO", "asyncio", "job", "ftp-finish",
                                                  "local-io"))]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not extra, f"threads leaked: {[t.name for t in extra]}"


# -- FTP ------------------------------------------------------------------------------
@pytest.fixture
def ftp_root(tmp_path: Path) -> Path:
    root = tmp_path / "ftp"
    root.mkdir()
    return root


@pytest.fixture
def ftp_server(ftp_root: Path) -> Iterator[EmbeddedFtpServer]:
    """A pyftpdlib server on a free loopback port serving ``ftp_root``; after the test,
    no connection from this process to it may remain open. A wrong password gets its 530
    at once (pyftpdlib waits ``auth_failed_timeout``, 3 s, against guessing)."""
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, port=free_port(),  # restartable
                               handler_overrides={"auth_failed_timeout": 0}).start()
    yield server
    stop_without_leaks(server)


# -- media ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def clip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def sample_mp4(clip_cache: Path) -> Path:
    """A 12 s 320x240 H.264/AAC MP4 (moov first)."""
    return make_clip(clip_cache / "sample.mp4", seconds=12, width=320, height=240)


@pytest.fixture(scope="session")
def sample_mkv(clip_cache: Path) -> Path:
    """A 12 s 320x240 H.264/AAC MKV."""
    return make_clip(clip_cache / "sample.mkv", seconds=12, width=320, height=240)


@pytest.fixture(scope="session")
def probe_clips(clip_cache: Path) -> dict[str, Path]:
    """The probe clips (reelhouse/demo/probe_clips.py) by name: moov_at_end.mp4,
    two_audio_subs.mkv, hevc_hdr10.mkv, truncated.mkv, not_media.mkv."""
    return make_probe_clips(clip_cache / "probe")


@pytest.fixture(scope="session")
def big_file(clip_cache: Path) -> Path:
    """8 MiB of random bytes (range tests need bytes, not media)."""
    path = clip_cache / "big.bin"
    path.write_bytes(os.urandom(8 * 1024 * 1024))
    return path


# -- app ------------------------------------------------------------------------------
@pytest.fixture
def core(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Core]:
    """A Core on a fresh data dir with an admin: on SQLite, or on a fresh schema of
    $REELHOUSE_TEST_POSTGRES_URL when asked for with :data:`ENGINES`
    (``@pytest.mark.parametrize("core", ENGINES, indirect=True)``; skipped when that is
    unset, a failure under CI=true)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        with admin_core(tmp_path / "data") as c:
            yield c
        return
    if not PG_URL:
        pytest.skip("set REELHOUSE_TEST_POSTGRES_URL to a postgresql+psycopg:// URL")
    with postgres_schema(PG_URL, "rh_core") as url, admin_core(tmp_path / "data", database_url=url) as c:
        yield c


@pytest.fixture
def client(core: Core) -> Iterator[TestClient]:
    """A logged-in API client (session cookie + bearer token)."""
    with admin_client(core) as c:
        yield c


@pytest.fixture
def anon(core: Core) -> Iterator[TestClient]:
    """An API client that has not logged in."""
    with TestClient(create_app(core)) as c:
        yield c


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port (``helpers.redis_server``);
    skipped where redis-server is not installed (a failure under CI=true)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    with redis_server() as url:
        yield url


@pytest.fixture
def fresh_stat_verdicts() -> Iterator[None]:
    """Forget what servers taught sources/ftp/statlist.py (servers of earlier tests may
    have had the same port), before and after the test."""
    from reelhouse.sources.ftp import statlist

    statlist.forget_all()
    yield
    statlist.forget_all()


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder that user nobody can reach (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="rh-open-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
