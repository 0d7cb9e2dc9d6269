"""Moving files between sources and the local library store.

- ``copy``    upload and download of one file: temporary ``.part`` name, resume from
              what is already there, size check, rename on completion
- ``store_checks`` room on the local store's disk; what a failed local write means
- ``meter``   a transfer's rate and time left (pure)
- ``queue``   the persistent priority queue (``transfers`` table): submit, list,
              cancel, restart recovery
- ``runner``  one transfer as a job: progress, retries with backoff and jitter, the
              clean-up after a cancel
- ``claims``  one upload a name in the whole cluster; upload signature files
- ``offline`` offline copies: "keep offline" for a film or a season, the local copy a
              stream falls back to when the source is down
- ``sync``    compare a source with the library (the scanner) and keep the report
              (``sync_runs`` table)
"""
