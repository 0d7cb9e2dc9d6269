"""Probes and fingerprints made ahead of the scan loop, several files at once (issue
14: "probing runs over all pooled connections at once").

The scan loop writes rows one file at a time; the reads that feed it (a probe's header
and tail blocks, the fingerprint's first and last 64 KiB) are network-bound on FTP, so
:class:`ProbeAhead` runs them for the next files in ``workers`` threads (an FTP
source's pool size minus one: one connection stays free for streams) while the loop
writes. The results are handed over in the loop's order; a file the loop might take as
a move (same size and fingerprint as a vanished row) is fingerprinted only, and its
probe left to the loop, as before.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from reelhouse.errors import ReelhouseError
from reelhouse.library.fingerprint import content_hash
from reelhouse.library.probe import PROBE_SLOW_START, ProbeResult, probe
from reelhouse.sources.base import Entry, Source
from reelhouse.sources.reader import SourceReader

__all__ = ["NOT_RUN", "Prepared", "ProbeAhead"]


class _NotRun:
    """The probe was left to the scan loop."""


NOT_RUN = _NotRun()


@dataclass
class Prepared:
    """What a worker read of one file: its reader (with the blocks fetched), the probe
    result or the error it raised (NOT_RUN: left to the loop; None: empty file) and the
    fingerprint or its error (None: empty file)."""

    reader: SourceReader
    probe: ProbeResult | ReelhouseError | _NotRun | None
    digest: str | ReelhouseError | None


def workers_for(source: Source) -> int:
    """Threads for ``source``: its FTP pool's size minus one, else 4 (a local disk)."""
    pool = getattr(source, "pool", None)
    size = getattr(pool, "size", None)
    return max(1, int(size) - 1) if isinstance(size, int) else 4


class ProbeAhead:
    """``take(entry)`` in the order of ``entries``. ``may_move(size)``: a vanished row has
    that size (the file is fingerprinted first); ``maybe_moved(size, digest)``: one has
    that fingerprint too (the loop may take the file as a move: it is not probed ahead).
    ``gate``: a semaphore shared by every reader of the source in this process (phase-2
    jobs of one source running side by side), so together they hold at most its value
    of the source's connections."""

    def __init__(self, source: Source, entries: list[Entry], budget: int,
                 maybe_moved: Callable[[int, str], bool], may_move: Callable[[int], bool],
                 workers: int | None = None, gate: threading.Semaphore | None = None) -> None:
        self.source = source
        self.gate = gate
        self.may_move = may_move
        self.entries = entries
        self.budget = budget
        self.maybe_moved = maybe_moved
        self.workers = workers or workers_for(source)
        self.window = 2 * self.workers
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="scan-probe")
        self._futures: dict[str, Future[Prepared]] = {}
        self._next = 0

    def _work(self, entry: Entry) -> Prepared:
        with self.gate if self.gate is not None else contextlib.nullcontext():
            return self._read(entry)

    def _read(self, entry: Entry) -> Prepared:
        reader = SourceReader(self.source, entry.path, entry.size or 0, slow_start=PROBE_SLOW_START)
        if not entry.size:
            return Prepared(reader, None, None)
        if self.may_move(entry.size):  # the loop checks for a move first: fingerprint first
            digest = self._digest(entry, reader)
            if isinstance(digest, str) and self.maybe_moved(entry.size, digest):
                return Prepared(reader, NOT_RUN, digest)
            return Prepared(reader, self._probe(entry, reader), digest)
        # the probe first: its first block covers the fingerprint's head (read once)
        result = self._probe(entry, reader)
        return Prepared(reader, result, self._digest(entry, reader))

    def _digest(self, entry: Entry, reader: SourceReader) -> str | ReelhouseError:
        try:
            return content_hash(self.source, entry.path, entry.size or 0, reader=reader)
        except ReelhouseError as exc:
            return exc

    def _probe(self, entry: Entry, reader: SourceReader) -> ProbeResult | ReelhouseError:
        try:
            return probe(self.source, entry.path, entry.size or 0, budget=self.budget, reader=reader)
        except ReelhouseError as exc:
            return exc

    def take(self, entry: Entry) -> Prepared:
        """The prepared reads of ``entry`` (waits for them); the next ones start."""
        while self._next < len(self.entries) and len(self._futures) < self.window:
            ahead = self.entries[self._next]
            self._next += 1
            self._futures[ahead.path] = self._pool.submit(self._work, ahead)
        future = self._futures.pop(entry.path, None)
        if future is None:  # not one of ``entries``: read it now
            return self._work(entry)
        return future.result()

    def close(self) -> None:
        """Drop what is not started; reads under way end on their own."""
        for future in self._futures.values():
            future.cancel()
        self._futures.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)
