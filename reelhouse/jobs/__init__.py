"""The one job system: every piece of background work is a job here.

- :mod:`.system`: ``JobSystem`` — register kinds, submit (by priority), claim, run with
  progress and cancel, retries, run in the caller (CLI) or follow another process.
- :mod:`.tasks`: what a kind registers (``TaskSpec``), what its body sees
  (``JobContext``) and may return or raise (``Outcome``, ``Retry``).
- :mod:`.leases`: heartbeats of running jobs and the reaper that gives a dead
  worker's jobs to another (why a 60 s lease and a 10 s heartbeat: see there).
- :mod:`.progress`: a running job's progress writes (throttled; the last one lands).
- :mod:`.probes`: phase 2 of scans (probes, fingerprints, metadata) as ``probe``
  jobs of a few hundred files each, shared by every consumer.
- :mod:`.queue`: huey on SQLite or Redis (messages, the periodic schedule) and the
  consumer of ``reelhouse serve`` / ``reelhouse worker``.
- :mod:`.runner`: ``JobRunner``, the system of a reelhouse process with the scan kind
  and the schedule of rescans. Syncs, transfers (and offline copies, which are
  downloads) and HLS prepare register their kinds from their own packages / core.py.
"""
