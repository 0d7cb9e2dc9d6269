"""What a kind of job is: a :class:`TaskSpec` registered with the job system, the
:class:`JobContext` its body runs with, and what the body may return or raise.

A body runs in whichever process claims the job (the web server, a ``reelhouse worker``
or the CLI command that started it), so it reads its arguments from the job row
(``payload``, ``source_id``), never from a closure of the process that queued it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from reelhouse.db.models import Job

__all__ = ["JobContext", "Observer", "Outcome", "Retry", "TaskSpec"]

#: ``observer(counts, message)``: sees every progress call of a job run in this process
#: (the CLI's progress bars); database writes of progress are throttled, this is not.
Observer = Callable[[dict[str, int], str], None]


class Retry(Exception):
    """Raised by a body: run the job again after ``delay`` seconds (the job goes back
    to the queue with ``not_before`` set; ``message`` is kept as its last error)."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.message = message
        self.delay = delay


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a body may return: final ``counts`` (the job's progress), an optional
    ``note`` kept as the job's ``error`` (e.g. "3 files could not be read"), any
    ``value`` handed back to an in-process caller, and the final ``state``: ``done``,
    or ``partial``/``failed`` for work that ended but did not do all it should (a scan
    whose folders could not all be listed)."""

    counts: dict[str, int] = field(default_factory=dict)
    note: str | None = None
    value: object = None
    state: str = "done"


@dataclass(frozen=True, slots=True)
class JobContext:
    """A running job as its body sees it."""

    job_id: int
    key: str
    kind: str
    source_id: int | None
    payload: dict[str, Any]
    #: how many times the job was claimed, this run included (1 on the first run)
    attempt: int
    #: ``progress(counts, message)``: shown by the API/UI/CLI; call it as often as you like
    progress: Callable[[dict[str, int], str], None]
    #: true once the job is cancelled, its lease was lost, or this process stops; the
    #: body then raises :class:`~reelhouse.errors.Cancelled` (or returns) soon
    should_stop: Callable[[], bool]
    #: true when :attr:`should_stop` is due to this process stopping (the job is
    #: queued again for the next start instead of ending ``cancelled``)
    shutting_down: Callable[[], bool]


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A kind of job.

    - ``run(ctx)`` does the work and returns an :class:`Outcome`, a dict of counts or
      None. Errors: :class:`Retry` queues it again later; ``Cancelled`` ends it
      cancelled; any other ``ReelhouseError`` fails it with its message; anything else
      fails it as an internal error.
    - ``on_submit(session, job)`` runs inside the transaction that creates the job
      (e.g. a sync creates its report row), so the row exists before any worker can
      claim the job.
    - ``on_change(job)`` runs right after the job system changed the job's state
      outside the body (queued again by a retry, a stop or a lost lease; cancelled
      while queued; ended), in the process that changed it. Services mirror the state
      into their own rows with it (transfers, sync runs), so those follow the job row
      within milliseconds, not in its transaction.
    - ``unique``: one queued or running job of this kind per source at a time;
      submitting another returns that one.
    - ``listed``: false for parts of another job (a scan's probe jobs, jobs/probes.py):
      the list of recent jobs leaves them out; the job they belong to shows their progress.
    """

    kind: str
    run: Callable[[JobContext], Outcome | dict[str, int] | None]
    on_submit: Callable[[Session, Job], None] | None = None
    on_change: Callable[[Job], None] | None = None
    unique: bool = False
    listed: bool = True
