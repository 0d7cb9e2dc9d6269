"""The queue: a huey instance on SQLite (``<data_dir>/jobs.db``, the default) or on
Redis (``redis_url``, for ``reelhouse worker`` processes on other machines), and the
consumer that runs its messages.

huey carries messages (a job's key, with the job's priority and, for a retry, an eta)
and runs the periodic schedule; the ``jobs`` table keeps what users see and who runs
what (state, progress, owner, lease). See jobs/system.py.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from huey import PriorityRedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer

from reelhouse.config import Settings

__all__ = ["JobConsumer", "make_huey", "start_consumer"]

#: Longest wait (s) of an idle in-process worker before it polls the queue again, so a
#: job starts within this time of being submitted (huey's own default is 10 s).
POLL_MAX_DELAY = 0.25


def make_huey(settings: Settings) -> Huey:
    """The queue named by ``settings.jobs_backend``. Redis uses huey's priority queue
    (a sorted set; needs Redis >= 5), so jobs run by priority on both backends."""
    if settings.jobs_backend == "redis":
        assert settings.redis_url is not None  # checked by Settings
        return PriorityRedisHuey("reelhouse", url=settings.redis_url, utc=True)
    settings.ensure_data_dir()
    return SqliteHuey("reelhouse", filename=str(settings.data_dir / "jobs.db"), utc=True)


class JobConsumer(Consumer):  # type: ignore[misc]
    """huey's consumer (worker threads + the periodic scheduler) that, when it stops,
    first tells the job system (``on_stop``: running bodies stop and their jobs go back
    to the queue) and then waits for its workers. ``signals``: false inside the web
    server, where uvicorn owns SIGINT/SIGTERM (and only the main thread may set
    handlers); true for ``reelhouse worker``, where SIGINT and SIGTERM both stop it."""

    def __init__(self, huey: Huey, on_stop: Callable[[], None], signals: bool,
                 **options: Any) -> None:
        self._on_stop = on_stop
        self._signals = signals
        super().__init__(huey, worker_type="thread", periodic=True, check_worker_health=False,
                         graceful_signal="TERM", **options)

    def _set_signal_handlers(self) -> None:
        if self._signals:
            # SIGINT and SIGTERM: stop gracefully (huey's SIGHUP restart is left out)
            self._signal_actions = {signal.SIGINT: (False, True), signal.SIGTERM: (False, True)}
            super()._set_signal_handlers()

    def stop(self, graceful: bool = False) -> None:
        self._on_stop()
        super().stop(graceful=True)


def start_consumer(huey: Huey, workers: int, on_stop: Callable[[], None]) -> JobConsumer:
    """Start ``workers`` worker threads and the scheduler (periodic tasks) in this
    process; stop them with ``consumer.stop()``."""
    consumer = JobConsumer(huey, on_stop, signals=False, workers=workers,
                           max_delay=POLL_MAX_DELAY)
    consumer.start()
    return consumer
