"""The job queue: a huey instance on SQLite (``<data_dir>/jobs.db``, the default) or on
Redis (``redis_url``, for ``reelhouse worker`` processes on other machines), and the
consumer that runs its tasks inside the web server.

huey keeps the queue (what is to run); the ``jobs`` table keeps what users see (state,
progress, errors). See jobs/runner.py.
"""

from __future__ import annotations

from typing import Any

from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer

from reelhouse.config import Settings

__all__ = ["InProcessConsumer", "make_huey", "start_consumer"]

#: Longest wait (s) of an idle in-process worker before it polls the queue again, so a
#: job starts within this time of being submitted (huey's own default is 10 s).
POLL_MAX_DELAY = 0.25


def make_huey(settings: Settings) -> Huey:
    """The queue named by ``settings.jobs_backend``."""
    if settings.jobs_backend == "redis":
        assert settings.redis_url is not None  # checked by Settings
        return RedisHuey("reelhouse", url=settings.redis_url, utc=True)
    settings.ensure_data_dir()
    return SqliteHuey("reelhouse", filename=str(settings.data_dir / "jobs.db"), utc=True)


class InProcessConsumer(Consumer):  # type: ignore[misc]
    """huey's consumer, minus its signal handlers: in the web server, uvicorn owns
    SIGINT/SIGTERM (and a thread that is not the main one may not set handlers)."""

    def _set_signal_handlers(self) -> None:
        pass


def start_consumer(huey: Huey, workers: int, **options: Any) -> InProcessConsumer:
    """Start ``workers`` worker threads and the scheduler (periodic tasks) in this
    process; stop them with ``consumer.stop(graceful=True)``."""
    consumer = InProcessConsumer(
        huey, workers=workers, worker_type="thread", periodic=True, max_delay=POLL_MAX_DELAY,
        check_worker_health=False, **options,
    )
    consumer.start()
    return consumer
