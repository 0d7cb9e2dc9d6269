"""Run one piece of work in several threads at once and fail the test on any error:
the set-up the tests of concurrent readers share."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["in_threads"]


def in_threads(work: Callable[[int], object], count: int, timeout: float = 60.0, name: str = "worker") -> None:
    """Run ``work(i)`` for ``i`` in ``range(count)``, each in a thread of its own
    (``{name}-{i}``), started together; wait up to ``timeout`` seconds for each; then
    assert that none raised (AssertionError listing what they raised)."""
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), name=f"{name}-{i}") for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not errors, errors
