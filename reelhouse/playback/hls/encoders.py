"""The ffmpeg processes that make segments: one per (file, track), shared by viewers.

:meth:`EncoderPool.segment` returns the path of segment ``n`` once it is on disk. If the
track's encoder is running and ``n`` is at most ``restart_gap`` segments past what it
has written, the request waits for it; otherwise (a seek far ahead, or back before the
encoder's start) the encoder is killed and a new one starts at ``n``. At most
``max_encoders`` run at once: beyond that :class:`~reelhouse.errors.ServiceBusy`.

A monitor thread (every ``tick`` seconds) kills encoders nobody asked anything of for
``idle_timeout`` seconds, pauses (SIGSTOP) encoders more than ``ahead`` segments past
the furthest request and resumes them (SIGCONT) when viewers catch up (POSIX; on
Windows encoders are not paused), so a closed tab
costs nothing after the timeout and a paused film costs no CPU.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reelhouse.errors import NotFound, ServiceBusy, TranscodeFailed

__all__ = ["Encoder", "EncoderPool"]

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (file key, track)

_CAN_PAUSE = hasattr(signal, "SIGSTOP")


@dataclass(eq=False)
class Encoder:
    """One running ffmpeg: writes ``start, start+1, …`` into ``out_dir``; ``next`` is the
    first segment not yet on disk, ``wanted`` the furthest one asked for."""

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


class EncoderPool:
    """Encoders by (file key, track); see the module doc for the rules."""

    def __init__(self, max_encoders: int, idle_timeout: float, restart_gap: int = 2,
                 ahead: int = 8, tick: float = 0.5,
                 on_tick: Callable[[], object] | None = None) -> None:
        self.max_encoders = max_encoders
        self.idle_timeout = idle_timeout
        self.restart_gap = restart_gap
        self.ahead = ahead
        self.tick = min(tick, max(0.05, idle_timeout / 4))
        self.on_tick = on_tick
        self._encoders: dict[Key, Encoder] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._monitor: threading.Thread | None = None
        self.starts = 0  # encoders started (for tests and metrics)

    # -- requests -----------------------------------------------------------------------
    def segment(self, key: Key, n: int, out_dir: Path, command: Callable[[int], list[str]],
                timeout: float = 60.0, heavy: bool = True) -> Path:
        """Path of segment ``n`` of ``key`` in ``out_dir``, made by ``command(start)`` if
        needed; blocks until it is written (at most ``timeout`` seconds). ``heavy``: a
        video transcode (counts against ``max_encoders``).

        Raises ServiceBusy (too many encoders), TranscodeFailed (ffmpeg failed or timed
        out), NotFound (the encoder ended without reaching ``n``)."""
        path = out_dir / f"{n}.ts"
        enc = self._ensure(key, n, out_dir, command, path, heavy)
        deadline = time.monotonic() + timeout
        while enc is not None:
            if path.exists():
                break
            if not enc.alive():
                if path.exists():
                    break
                if enc.proc.returncode == 0:
                    raise NotFound(f"segment {n} is past the end of the media")
                raise TranscodeFailed(f"ffmpeg failed making segment {n}: {enc.error_tail()}")
            if time.monotonic() > deadline:
                raise TranscodeFailed(f"segment {n} took longer than {timeout:.0f} s to make")
            enc.last_used = time.monotonic()
            time.sleep(0.01)
        return path

    def _ensure(self, key: Key, n: int, out_dir: Path, command: Callable[[int], list[str]],
                path: Path, heavy: bool) -> Encoder | None:
        with self._lock:
            enc = self._encoders.get(key)
            now = time.monotonic()
            if enc is not None:
                enc.advance()
                enc.wanted = max(enc.wanted, n) if n >= enc.start else n
                enc.last_used = now
                if path.exists():
                    self._resume_if_needed(enc)
                    return None
                if enc.alive() and enc.start <= n <= enc.next + self.restart_gap:
                    self._resume_if_needed(enc)
                    return enc
                self._kill(enc)
            elif path.exists():
                return None
            alive = [e for e in self._encoders.values() if e.alive()]
            transcodes = sum(1 for e in alive if e.heavy)
            if (heavy and transcodes >= self.max_encoders) or len(alive) >= 4 * self.max_encoders:
                raise ServiceBusy(f"the server is already running {transcodes} transcode(s), its "
                                  "limit (hls_max_encoders); try again in a few seconds")
            enc = self._start(key, n, out_dir, command(n), now)
            enc.heavy = heavy
            self._ensure_monitor()
            return enc

    def _start(self, key: Key, n: int, out_dir: Path, argv: list[str], now: float) -> Encoder:
        out_dir.mkdir(parents=True, exist_ok=True)
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
        enc = Encoder(key, proc, out_dir, n, log_path, now, next=n, wanted=n)
        self._encoders[key] = enc
        self.starts += 1
        log.debug("encoder %s started at segment %d (pid %d)", key, n, proc.pid)
        return enc

    @staticmethod
    def _resume_if_needed(enc: Encoder) -> None:
        if enc.paused and enc.alive() and _CAN_PAUSE:
            with contextlib.suppress(ProcessLookupError):
                os.kill(enc.proc.pid, signal.SIGCONT)
        enc.paused = False

    def _kill(self, enc: Encoder) -> None:
        self._encoders.pop(enc.key, None)
        if enc.alive():
            with contextlib.suppress(ProcessLookupError):
                enc.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            enc.proc.wait(5)
        with contextlib.suppress(OSError):
            enc.log_path.unlink()

    # -- monitor ------------------------------------------------------------------------
    def _ensure_monitor(self) -> None:
        if self._monitor is None or not self._monitor.is_alive():
            self._stop.clear()
            self._monitor = threading.Thread(target=self._watch, name="hls-encoders",
                                             daemon=True)
            self._monitor.start()

    def _watch(self) -> None:
        last_hook = 0.0
        while not self._stop.wait(self.tick):
            self.sweep()
            if self.on_tick is not None and time.monotonic() - last_hook > 5:
                last_hook = time.monotonic()
                try:
                    self.on_tick()
                except Exception:  # the hook (cache trim) must not stop the monitor
                    log.exception("hls monitor hook failed")

    def sweep(self) -> None:
        """One monitor pass: drop ended encoders, kill idle ones, throttle fast ones."""
        now = time.monotonic()
        with self._lock:
            for enc in list(self._encoders.values()):
                enc.advance()
                if not enc.alive():
                    if enc.proc.returncode not in (0, None, -9):  # -9: we killed it
                        log.warning("encoder %s ended with %s: %s", enc.key,
                                    enc.proc.returncode, enc.error_tail())
                    self._kill(enc)
                elif now - enc.last_used > self.idle_timeout:
                    log.debug("encoder %s idle for %.1f s: stopped", enc.key, now - enc.last_used)
                    self._kill(enc)
                elif _CAN_PAUSE and not enc.paused and enc.next > enc.wanted + self.ahead:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(enc.proc.pid, signal.SIGSTOP)
                    enc.paused = True
                elif enc.paused and enc.next <= enc.wanted + self.ahead // 2:
                    self._resume_if_needed(enc)

    def running(self) -> list[Encoder]:
        with self._lock:
            return [e for e in self._encoders.values() if e.alive()]

    def stop_file(self, file_key: str) -> None:
        with self._lock:
            for enc in [e for e in self._encoders.values() if e.key[0] == file_key]:
                self._kill(enc)

    def close(self) -> None:
        """Kill every encoder and stop the monitor."""
        self._stop.set()
        if self._monitor is not None:
            self._monitor.join(5)
        with self._lock:
            for enc in list(self._encoders.values()):
                self._kill(enc)
