"""A bounded lane of threads for the big-library read routes (issue 14: the tail of
the API latency under 20 clients without pause).

FastAPI runs a sync route in anyio's shared thread pool (40 threads). Twenty library
pages at once are then twenty CPU-bound threads taking turns on the GIL, each holding
it for up to ``sys.getswitchinterval()`` (5 ms) before the next one gets it: every
request in flight, and the event loop (which answers page-cache hits, health checks
and streams), waits behind all of them, so a 3 ms page took 100-250 ms at the p99.
The grid, title lists, show page, media-file pages and continue watching run here
instead: at most :data:`LIBRARY_READ_THREADS` at a time, the rest wait their turn in
order (first come, first served), so the GIL is shared by a few threads and the loop.

The lane is per app (``app.state.read_lane``, made by
:func:`~reelhouse.api.app.install_api`), never a module global.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, Request

__all__ = ["LIBRARY_READ_THREADS", "ReadLane", "ReadLaneDep", "get_read_lane"]

#: Threads that run library reads at once. Two cores: one runs Python (the GIL), the
#: other the database's own work (SQLite's C code and psycopg release the GIL), so a
#: few threads keep both busy; more only lengthen every request's turn on the GIL.
#: 3 and 8 measured the same within the noise of a loaded machine (benchmarks/README.md,
#: "API CPU per request and the tail"); 8 so that a few slow reads (a PostgreSQL round
#: trip that stalls, an "unwatched" grid) cannot hold every other user's library reads.
LIBRARY_READ_THREADS = 8

_P = ParamSpec("_P")
_T = TypeVar("_T")


class ReadLane:
    """Runs blocking read functions in anyio's worker threads, ``threads`` at a time."""

    def __init__(self, threads: int = LIBRARY_READ_THREADS) -> None:
        self.threads = threads
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """``fn(*args, **kwargs)`` in a worker thread once one of the lane's turns is
        free; its result, or its exception raised here."""
        if self._limiter is None:  # made in the event loop that first uses it
            self._limiter = anyio.CapacityLimiter(self.threads)
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs), limiter=self._limiter)


async def get_read_lane(request: Request) -> ReadLane:
    """The app's :class:`ReadLane` (async: no thread hop)."""
    lane: ReadLane = request.app.state.read_lane
    return lane


ReadLaneDep = Annotated[ReadLane, Depends(get_read_lane)]
