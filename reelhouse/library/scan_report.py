"""A scan's counts and outcome (:class:`ScanReport`), and the shapes of its hooks
(library/scanner.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from reelhouse.library.probing import Pending, ProbeReport

__all__ = ["FAILED_SHARE", "Phase2", "Progress", "ScanReport"]

#: ``progress(counts, message)``: a scan's counts (:meth:`ScanReport.counts`) and what it does now.
Progress = Callable[[dict[str, int], str], None]

#: A scan in which at least this share of the folders could not be listed ends
#: ``failed`` rather than ``partial`` (issue 14: 400 of 407 failed folders ended "done").
FAILED_SHARE = 0.5

@dataclass
class ScanReport:
    """Counts of one scan; ``errors`` holds one line per failed folder or file,
    ``folder_errors`` the failed folders' lines alone. Phase 1 fills the counts up to
    ``missing``/``moved`` and ``to_probe`` (files it left for phase 2); phase 2 adds
    ``probe_done`` (files it handled), ``probed``, ``matched`` and ``unreadable``
    (files whose probe failed: broken, not a video, or empty; the grid flags a title
    with no other file, :func:`~reelhouse.library.queries.unplayable_titles`; each
    named in ``errors``). ``notes``: one line per link to a folder a walk did not go
    into (a loop, or a folder walked through another path:
    :class:`~reelhouse.sources.walk.LinkedFolderSkipped`); not errors."""

    folders: int = 0
    files_seen: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: int = 0
    restored: int = 0
    moved: int = 0
    probed: int = 0
    matched: int = 0  # files sent through metadata matching (NFO, artwork, TMDB)
    unreadable: int = 0  # files whose probe failed (this scan's probes)
    total: int = 0
    to_probe: int = 0
    probe_done: int = 0
    errors: list[str] = field(default_factory=list)
    folder_errors: list[str] = field(default_factory=list)
    errors_unlisted: int = 0  # errors of probe jobs past the lines each one keeps
    notes: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """``done`` when every folder was listed; ``partial`` when some could not be
        (their files were neither added nor marked missing); ``failed`` when
        :data:`FAILED_SHARE` or more of them could not be."""
        failed = len(self.folder_errors)
        if not failed:
            return "done"
        return "failed" if failed >= FAILED_SHARE * (failed + self.folders) else "partial"

    def problem(self, limit: int = 20) -> str | None:
        """One line for a job's ``error``: the failed folders first, then other errors."""
        if self.folder_errors:
            n, total = len(self.folder_errors), len(self.folder_errors) + self.folders
            more = f"; … {n - limit} more" if n > limit else ""
            return f"{n} of {total} folders could not be listed: " + "; ".join(self.folder_errors[:limit]) + more
        return "; ".join(self.errors[:5]) or None

    def add_phase2(self, got: ProbeReport) -> None:
        """Count what phase 2 did (one run of :func:`probe_files`)."""
        self.probe_done += got.done
        self.probed += got.probed
        self.matched += got.matched
        self.unreadable += got.failed
        self.errors.extend(got.errors)

    def counts(self) -> dict[str, int]:
        return {
            "folders": self.folders,
            "files_seen": self.files_seen,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "missing": self.missing,
            "restored": self.restored,
            "moved": self.moved,
            "probed": self.probed,
            "matched": self.matched,
            "unreadable": self.unreadable,
            "errors": len(self.errors) + self.errors_unlisted,
            "folders_failed": len(self.folder_errors),
            "notes": len(self.notes),
            "total": self.total,
            "done": self.files_seen,
            "to_probe": self.to_probe,
            "probe_done": self.probe_done,
        }


#: ``phase2(pending, report, progress)``: probe and enrich ``pending`` (phase 2), adding
#: what was done to ``report``; raises Cancelled when the scan is stopped.
Phase2 = Callable[[Pending, ScanReport, Progress], None]
