"""Uploads by name: which upload runs where (one upload a name in the whole cluster)
and where an upload keeps the version of the local file its ``.part`` began from; and
downloads by local file (one download a file in the whole cluster)."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

from reelhouse.errors import Conflict, SourceUnavailable
from reelhouse.leased_slots import LeasedSlots
from reelhouse.sources.base import normalize_path

__all__ = ["UploadClaims", "upload_key"]


def upload_key(source_id: int, remote: str) -> str:
    """The cluster's name of the upload to ``remote`` on source ``source_id``."""
    return f"upload:{source_id}:{normalize_path(remote)}"


class UploadClaims:
    """The uploads running anywhere (with Redis) and their signature files.

    ``store``: the library store (signatures live in its hidden ``.uploads`` folder);
    ``redis_url``: the cluster's Redis, or None for one process; ``lease``: seconds a
    claim lives without its holder (a dead worker's claim runs out)."""

    def __init__(self, store: Path, redis_url: str | None, lease: float) -> None:
        self.store = store
        self.slots = LeasedSlots(redis_url, lease) if redis_url else None

    def signature(self, source_id: int, remote: str) -> Path:
        """Where an upload to ``remote`` on source ``source_id`` keeps the version of the
        local file its ``.part`` began from (copy.upload's ``signature``): a hidden folder
        of the store, one file per (source, path), named by a hash."""
        digest = hashlib.sha256(upload_key(source_id, remote).encode("utf-8", "surrogateescape")).hexdigest()[:32]
        return self.store / ".uploads" / digest

    def claim(self, source_id: int, remote: str) -> str | None:
        """Claim, for the whole cluster, the upload to ``remote`` on source ``source_id``
        (two uploads of one name would append to each other's ``.part``; copy.upload
        refuses the second one only within its process); a token for :meth:`release`,
        None without Redis. Raises Conflict while another node or worker uploads there,
        SourceUnavailable when Redis is unreachable. Blocks."""
        return self._take(upload_key(source_id, remote),
                          f"an upload to {normalize_path(remote)!r} is already running; try again when it ends")

    def claim_download(self, dest: Path) -> str | None:
        """Claim, for the whole cluster, the download to local file ``dest`` (two would
        write one ``.part`` together; copy.download refuses the second one only within
        its process), as :meth:`claim`."""
        return self._take(f"download:{dest}", f"a download to {dest} is already running; try again when it ends")

    def _take(self, key: str, busy: str) -> str | None:
        if self.slots is None:
            return None
        try:
            slot = self.slots.take(key, 1)
        except Exception as exc:  # redis.exceptions.RedisError, OSError
            raise SourceUnavailable(f"redis: {exc}") from exc
        if slot is None:
            raise Conflict(busy)
        return slot

    def release(self, slot: str | None) -> None:
        """End a claim of :meth:`claim` (its lease runs out if Redis is unreachable)."""
        if slot is not None and self.slots is not None:
            with contextlib.suppress(Exception):
                self.slots.give_back(slot)
