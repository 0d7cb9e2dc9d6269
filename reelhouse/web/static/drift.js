// Drift correction of the watch-party page (party.js): what to do about a drift, pure.
//
// drift = where this player is − where the party is (s; > 0: ahead). Each 100 ms tick:
//   over SEEK (2 s): align (seek and start in step) · right after a stall (the position
//   stopped advancing), over AFTER_STALL: jump over it with one seek · under DEAD (40 ms),
//   or under SETTLED (10 ms) once correcting: playbackRate 1 · else: nudge the
//   playbackRate by GAIN × drift, at most ±MAX.
// The nudge is proportional (the drift shrinks by GAIN of itself per second: 63 % in 1 s)
// up to ±MAX (20 %, reached at 200 ms of drift): a 1.9 s drift is worked off in about
// 10 s of playback at up to 1.2× (Chromium keeps the pitch, HTMLMediaElement
// preservesPitch). The rate was capped at 5 % from 50 ms of drift: a 1.9 s drift took 38 s.
// Loaded by party.html before party.js; tests/party/test_drift_maths.py runs it under node.
"use strict";
(() => {
  const SEEK = 2, AFTER_STALL = 0.12, DEAD = 0.04, SETTLED = 0.01, GAIN = 1, MAX = 0.2;
  const STALL_WINDOW = 3, JUMP_GAP = 1.5;  // s: "right after a stall"; jumps at most this often

  // The playbackRate that works off `drift` (s).
  function rate(drift) {
    return 1 - Math.max(-MAX, Math.min(MAX, GAIN * drift));
  }

  // What to do about `drift` (s): {action: "align" | "jump" | "settle" | "nudge", rate}.
  // `correcting`: a nudge is under way; `sinceStall`, `sinceJump`: seconds since the last
  // stall and the last jump.
  function decide(drift, correcting, sinceStall, sinceJump) {
    const size = Math.abs(drift);
    if (size > SEEK) return { action: "align", rate: 1 };
    if (size > AFTER_STALL && sinceStall < STALL_WINDOW && sinceJump > JUMP_GAP) return { action: "jump", rate: 1 };
    if (size < DEAD && (!correcting || size < SETTLED)) return { action: "settle", rate: 1 };
    return { action: "nudge", rate: rate(drift) };
  }

  globalThis.ReelhouseDrift = Object.freeze({ decide, rate, SEEK, AFTER_STALL, DEAD, SETTLED, GAIN, MAX });
})();
