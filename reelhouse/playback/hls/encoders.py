"""The ffmpeg processes that make segments, shared by viewers.

:meth:`EncoderPool.segment` returns the path of segment ``n`` once it is on disk. A
(file, track) may have several encoders, one per position window, so viewers at
different positions of one file never take each other's encoder away (issue 14: two
viewers made 6 of 10 segment requests fail with 502):

- A request waits for an encoder of its track that has started at or before ``n`` and
  written up to ``n - restart_gap`` (the one nearest below ``n``).
- Otherwise a new encoder starts at ``n``. A viewer (its playback token) that seeks
  replaces its own old encoder of that track, unless another viewer asked that encoder
  for something in the last ``stale_after`` seconds.
- Limits: ``max_encoders`` video transcodes on the server, ``max_per_user`` of them per
  user (with ``shared``, several nodes: in the whole cluster, as leased slots in Redis;
  progressive streams, :meth:`EncoderPool.hold`, count too),
  ``max_per_track`` encoders per (file, track), ``4 * max_encoders`` of every kind on
  the server and ``4 * max_per_user`` audio-only encoders (HLS audio renditions) per
  user on this node, so one user's audio tracks never take every other user's. At a
  limit, an encoder no viewer asked anything of for ``stale_after`` seconds makes
  room; else
  :class:`~reelhouse.errors.ServiceBusy` (503, never a 502).
- An encoder that catches up with the segments another one of its track made stops.
- A request whose encoder was stopped meanwhile asks again instead of failing.

A monitor thread (every ``tick`` seconds) kills encoders nobody asked anything of for
``idle_timeout`` seconds, pauses (SIGSTOP) encoders more than ``ahead`` segments past
the furthest request and resumes them (SIGCONT) when viewers catch up (POSIX; on
Windows encoders are not paused), so a closed tab
costs nothing after the timeout and a paused film costs no CPU.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from reelhouse.errors import NotFound, ServiceBusy, TranscodeFailed
from reelhouse.leased_slots import LeasedSlots
from reelhouse.playback.hls.encoder import Encoder, Key

__all__ = ["Encoder", "EncoderPool", "Key"]

log = logging.getLogger(__name__)

#: :meth:`EncoderPool._ensure`'s answer "start an encoder: build its command first".
_BUILD = object()


class EncoderPool:
    """Encoders by (file key, track); see the module doc for the rules."""

    def __init__(self, max_encoders: int, idle_timeout: float, restart_gap: int = 2,
                 ahead: int = 8, tick: float = 0.5,
                 on_tick: Callable[[], object] | None = None, max_per_user: int | None = None,
                 max_per_track: int = 4, stale_after: float = 20.0,
                 shared: LeasedSlots | None = None) -> None:
        self.max_encoders = max_encoders
        self.shared = shared
        self.max_per_user = max_per_user or max_encoders
        self.max_per_track = max_per_track
        self.stale_after = stale_after
        self.idle_timeout = idle_timeout
        self.restart_gap = restart_gap
        self.ahead = ahead
        self.tick = min(tick, max(0.05, idle_timeout / 4))
        self.on_tick = on_tick
        self._encoders: dict[Key, list[Encoder]] = {}
        self._held: Counter[str | None] = Counter()  # transcodes outside the pool, by user (hold)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._monitor: threading.Thread | None = None
        self.starts = 0  # encoders started (for tests and metrics)

    @property
    def max_audio_per_user(self) -> int:
        """Most audio-only encoders (``heavy=False``) of one user on this node: 4 per
        transcode the user may run, as the server allows ``4 * max_encoders`` of every
        kind."""
        return 4 * self.max_per_user

    # -- requests -----------------------------------------------------------------------
    def segment(self, key: Key, n: int, out_dir: Path, command: Callable[[int], list[str]],
                timeout: float = 60.0, heavy: bool = True, viewer: str | None = None,
                user: str | None = None, group: int | None = None) -> Path:
        """Path of segment ``n`` of ``key`` in ``out_dir``, made by the argv
        ``command(start)`` if needed (called without the pool's lock: it may read the
        source, and a failure there passes to the caller); blocks until it is written
        (at most ``timeout`` seconds). ``heavy``: a video transcode (counts against the
        limits). ``viewer``: who asks (a playback token), ``user``: whose limit a new
        encoder counts against, ``group``: the file's source id (:meth:`stop_group`
        stops its encoders when it is removed).

        Raises ServiceBusy (an encoder limit), TranscodeFailed (ffmpeg failed or timed
        out), NotFound (the encoder ended without reaching ``n``, or its source was
        removed)."""
        path = out_dir / f"{n}.ts"
        deadline = time.monotonic() + timeout
        argv: list[str] | None = None
        while True:
            got = self._ensure(key, n, out_dir, argv, path, heavy, viewer, user, group)
            if got is _BUILD:
                # outside the lock: a command may read the source first (the keyframe
                # before a seek in a file without a keyframe index)
                argv = command(n)
                continue
            enc = got if isinstance(got, Encoder) else None
            while enc is not None:
                if path.exists():
                    return path
                if not enc.alive():
                    if path.exists():
                        return path
                    if enc.gone:
                        raise NotFound("the file's source was removed")
                    if enc.stopped:
                        break  # stopped by the pool (made room, caught up): ask again
                    if enc.proc.returncode == 0:
                        raise NotFound(f"segment {n} is past the end of the media")
                    raise TranscodeFailed(f"ffmpeg failed making segment {n}: {enc.error_tail()}")
                if time.monotonic() > deadline:
                    raise TranscodeFailed(f"segment {n} took longer than {timeout:.0f} s to make")
                now = time.monotonic()
                enc.last_used = now
                enc.viewers[viewer] = now
                time.sleep(0.01)
            if enc is None:
                return path
            if time.monotonic() > deadline:
                raise TranscodeFailed(f"segment {n} took longer than {timeout:.0f} s to make")

    def _ensure(self, key: Key, n: int, out_dir: Path, argv: list[str] | None,
                path: Path, heavy: bool, viewer: str | None, user: str | None,
                group: int | None = None) -> Encoder | object | None:
        """The encoder to wait on for segment ``n``, ``None`` when it is on disk, or
        :data:`_BUILD` when a new encoder is needed and ``argv`` (its command) is not
        built yet: the caller builds it without the lock and asks again."""
        with self._lock:
            now = time.monotonic()
            for enc in list(self._encoders.get(key, [])):
                enc.advance()
                if not enc.alive():  # ended (its waiters see why): out of the way
                    self._kill(enc)
            serving = [e for e in self._encoders.get(key, [])
                       if e.start <= n <= e.next + self.restart_gap]
            best = max(serving, key=lambda e: e.start) if serving else None
            if best is not None:
                best.wanted = max(best.wanted, n)
                best.last_used = now
                best.viewers[viewer] = now
                best.resume()
            if path.exists():
                return None
            if best is not None and best.next <= n:  # (past n: n left the cache)
                return best
            if argv is None:
                return _BUILD
            # a seek: this viewer's own old encoder of the track makes way
            stale = now - self.stale_after
            for enc in list(self._encoders.get(key, [])):
                if viewer in enc.viewers and not enc.others_recent(viewer, stale):
                    self._kill(enc)
            self._make_room(key, heavy, user, viewer, stale)
            slot = self._shared_slot(heavy, user, viewer, stale)
            try:
                enc = self._start(key, n, out_dir, argv, now)
            except BaseException:
                self._give_back(slot)
                raise
            enc.heavy, enc.owner, enc.viewers[viewer], enc.group = heavy, user, now, group
            enc.slot = slot
            self._ensure_monitor()
            return enc

    def _make_room(self, key: Key, heavy: bool, user: str | None, viewer: str | None,
                   stale: float) -> None:
        """Stop encoders nobody watches (else the asking viewer's own, e.g. of the
        rendition it switches from) until a new one fits every limit; raises
        ServiceBusy when the ones in the way are all watched by others."""
        while True:
            alive = [e for es in self._encoders.values() for e in es if e.alive()]
            transcodes = [e for e in alive if e.heavy]
            mine = [e for e in transcodes if user is not None and e.owner == user]
            my_audio = [e for e in alive if not e.heavy and user is not None and e.owner == user]
            track = [e for e in alive if e.key == key]
            n_mine = len(mine) + (self._held[user] if user is not None else 0)
            n_all = len(transcodes) + sum(self._held.values())
            if heavy and n_mine >= self.max_per_user:
                blocking, what = mine, (f"your {n_mine} transcode(s), the limit per user "
                                        "(hls_max_encoders_per_user)")
            elif heavy and n_all >= self.max_encoders:
                blocking, what = transcodes, (f"{n_all} transcode(s), the server's limit "
                                              "(hls_max_encoders)")
            elif not heavy and len(my_audio) >= self.max_audio_per_user:
                blocking, what = my_audio, (f"your {len(my_audio)} audio encoder(s), the limit per user "
                                            "(4 × hls_max_encoders_per_user)")
            elif len(track) >= self.max_per_track:
                blocking, what = track, f"{len(track)} encoders of this track, its limit"
            elif len(alive) >= 4 * self.max_encoders:
                blocking, what = alive, f"{len(alive)} encoders, the server's limit"
            else:
                return
            idle = [e for e in blocking if max(e.viewers.values(), default=e.last_used) <= stale]
            own = [e for e in blocking if viewer in e.viewers and not e.others_recent(viewer, stale)]
            if not idle and not own:
                raise ServiceBusy(f"the server is already running {what}; try again in a few seconds")
            self._kill(min(idle or own, key=lambda e: e.last_used))

    def _shared_slot(self, heavy: bool, user: str | None, viewer: str | None, stale: float) -> str | None:
        """With ``shared`` (several nodes): a slot of the user's ``max_per_user``
        transcodes in the whole cluster for a new transcode; this node's own encoders of
        the user that nobody watches make room first. Raises ServiceBusy."""
        if self.shared is None or not heavy or user is None:
            return None
        while True:
            try:
                slot = self.shared.take(f"hls:{user}", self.max_per_user)
            except Exception as exc:  # redis.exceptions.RedisError, OSError
                raise ServiceBusy("the cluster's encoder count is unreachable; try again shortly") from exc
            if slot is not None:
                return slot
            mine = [e for es in self._encoders.values() for e in es if e.alive() and e.heavy and e.owner == user]
            idle = [e for e in mine if max(e.viewers.values(), default=e.last_used) <= stale]
            own = [e for e in mine if viewer in e.viewers and not e.others_recent(viewer, stale)]
            if not idle and not own:
                raise ServiceBusy(f"your {self.max_per_user} transcode(s) already run on this and other "
                                  "nodes, the limit per user (hls_max_encoders_per_user); try again later")
            self._kill(min(idle or own, key=lambda e: e.last_used))

    def _give_back(self, slot: str | None) -> None:
        if slot is not None and self.shared is not None:
            try:
                self.shared.give_back(slot)
            except Exception:  # its lease runs out by itself
                log.warning("hls: giving back a shared encoder slot failed", exc_info=True)

    def _start(self, key: Key, n: int, out_dir: Path, argv: list[str], now: float) -> Encoder:
        enc = Encoder.launch(key, n, out_dir, argv, now, first=not self._encoders.get(key))
        self._encoders.setdefault(key, []).append(enc)
        self.starts += 1
        return enc

    def _kill(self, enc: Encoder) -> None:
        encs = self._encoders.get(enc.key, [])
        if enc in encs:
            encs.remove(enc)
        if not encs:
            self._encoders.pop(enc.key, None)
        enc.terminate()
        slot, enc.slot = enc.slot, None
        self._give_back(slot)

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
            for enc in [e for es in self._encoders.values() for e in es]:
                enc.advance()
                ahead_of_it = [o for o in self._encoders.get(enc.key, [])
                               if o is not enc and o.alive() and o.start <= enc.next < o.next]
                if ahead_of_it and enc.alive():  # caught up with another's segments
                    log.debug("encoder %s at %d reached another's segments: stopped", enc.key, enc.next)
                    self._kill(enc)
                elif not enc.alive():
                    if enc.proc.returncode not in (0, None, -9):  # -9: we killed it
                        log.warning("encoder %s ended with %s: %s", enc.key,
                                    enc.proc.returncode, enc.error_tail())
                    self._kill(enc)
                elif now - enc.last_used > self.idle_timeout:
                    log.debug("encoder %s idle for %.1f s: stopped", enc.key, now - enc.last_used)
                    self._kill(enc)
                elif not enc.paused and enc.next > enc.wanted + self.ahead:
                    enc.pause()
                elif enc.paused and enc.next <= enc.wanted + self.ahead // 2:
                    enc.resume()

    def hold(self, user: str | None) -> Callable[[], None]:
        """Count one video transcode run outside the pool (a progressive stream: one
        ffmpeg writing to one client) against the limits, ``user``'s included, until
        the returned release is called (once is enough; more calls do nothing).
        Encoders nobody watches make room first. Raises ServiceBusy at a limit."""
        with self._lock:
            stale = time.monotonic() - self.stale_after
            self._make_room(("", ""), True, user, None, stale)
            slot = self._shared_slot(True, user, None, stale)
            self._held[user] += 1
        released = threading.Event()

        def release() -> None:
            if released.is_set():
                return
            released.set()
            with self._lock:
                self._held[user] -= 1
            self._give_back(slot)
        return release

    def running(self) -> list[Encoder]:
        with self._lock:
            return [e for es in self._encoders.values() for e in es if e.alive()]

    def stop_file(self, file_key: str) -> None:
        with self._lock:
            for enc in [e for es in self._encoders.values() for e in es if e.key[0] == file_key]:
                self._kill(enc)

    def stop_group(self, group: int) -> int:
        """Kill the encoders of ``group`` (a removed source's); their waiters get
        NotFound. Returns how many were running."""
        with self._lock:
            encs = [e for es in self._encoders.values() for e in es if e.group == group]
            for enc in encs:
                enc.gone = True
                self._kill(enc)
        return len(encs)

    def close(self) -> None:
        """Kill every encoder and stop the monitor."""
        self._stop.set()
        if self._monitor is not None:
            self._monitor.join(5)
        with self._lock:
            for enc in [e for es in self._encoders.values() for e in es]:
                self._kill(enc)
