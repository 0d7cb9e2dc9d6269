"""Moving files between sources and the local library store.

- ``copy``    upload and download of one file: temporary ``.part`` name, resume from
              what is already there, size check, rename on completion; a rate/ETA meter
- ``queue``   the persistent priority queue (``transfers`` table): workers, retries
              with backoff and jitter, cancel, restart recovery
- ``offline`` offline copies: "keep offline" for a film or a season, the local copy a
              stream falls back to when the source is down
- ``sync``    compare a source with the library (the scanner) and keep the report
              (``sync_runs`` table)
"""
