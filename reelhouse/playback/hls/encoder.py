"""One ffmpeg process making HLS segments, as :class:`~.encoders.EncoderPool` runs it:
started, paused (SIGSTOP) and resumed (SIGCONT) on POSIX (on Windows encoders are not
paused), and killed with its log removed. The pool decides when; this module only does it."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from reelhouse.errors import TranscodeFailed

__all__ = ["CAN_PAUSE", "Encoder", "Key"]

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (file key, track)

#: Whether encoders can be paused here (POSIX signals).
CAN_PAUSE = hasattr(signal, "SIGSTOP")


@dataclass(eq=False)
class Encoder:
    """One running ffmpeg: writes ``start, start+1, …`` into ``out_dir``; ``next`` is the
    first segment not yet on disk, ``wanted`` the furthest one asked for; ``viewers``
    the last request time (monotonic s) of each viewer it served; ``owner`` the user
    who started it."""

    key: Key
    proc: subprocess.Popen[bytes]
    out_dir: Path
    start: int
    log_path: Path
    last_used: float
    heavy: bool = True
    next: int = 0
    wanted: int = 0
    paused: bool = False
    owner: str | None = None
    stopped: bool = False  # killed by the pool (not an ffmpeg failure)
    group: int | None = None  # the file's source id (:meth:`EncoderPool.stop_group`)
    slot: str | None = None  # its owner's slot in the cluster (EncoderPool ``shared``)
    gone: bool = False  # killed because its source was removed
    viewers: dict[str | None, float] = field(default_factory=dict)
    started_at: float = field(default_factory=time.monotonic)

    def advance(self) -> int:
        while (self.out_dir / f"{self.next}.ts").exists():
            self.next += 1
        return self.next

    def alive(self) -> bool:
        return self.proc.poll() is None

    def error_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace").strip()[-400:]
        except OSError:
            return ""

    @classmethod
    def launch(cls, key: Key, n: int, out_dir: Path, argv: list[str], now: float,
               first: bool) -> Encoder:
        """Start ``argv`` (an ffmpeg writing segments ``n, n+1, …`` into ``out_dir``),
        its stderr in ``out_dir/encoder-<n>.log``; ``first``: no other encoder of the
        track writes there, so partial segments (``*.tmp``) left by a killed one go.
        ``now``: monotonic seconds. Raises TranscodeFailed when ffmpeg cannot start."""
        out_dir.mkdir(parents=True, exist_ok=True)
        if first:
            for stale in out_dir.glob("*.tmp"):
                with contextlib.suppress(OSError):
                    stale.unlink()
        log_path = out_dir / f"encoder-{n}.log"
        with open(log_path, "wb") as err:
            try:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=err)
            except OSError as exc:
                raise TranscodeFailed(f"could not start ffmpeg: {exc}") from exc
        log.debug("encoder %s started at segment %d (pid %d)", key, n, proc.pid)
        return cls(key, proc, out_dir, n, log_path, now, next=n, wanted=n)

    def pause(self) -> None:
        """SIGSTOP it (where signals allow: :data:`CAN_PAUSE`)."""
        if CAN_PAUSE:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGSTOP)
            self.paused = True

    def resume(self) -> None:
        """SIGCONT it if paused and still running."""
        if self.paused and self.alive() and CAN_PAUSE:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGCONT)
        self.paused = False

    def terminate(self) -> None:
        """Kill it if running (``stopped``: by the pool, not an ffmpeg failure), reap
        it (at most 5 s) and remove its log."""
        if self.alive():
            self.stopped = True
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        with contextlib.suppress(OSError):
            self.log_path.unlink()

    def others_recent(self, viewer: str | None, since: float) -> bool:
        """Did a viewer other than ``viewer`` ask it for something after ``since``?"""
        return any(t > since for v, t in self.viewers.items() if v != viewer)
