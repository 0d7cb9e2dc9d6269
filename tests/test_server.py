"""reelhouse/server.py: the objects of start-up are frozen out of the garbage
collector's full collections (issue 14: no 100-300 ms pauses under load)."""

from __future__ import annotations

import gc

from reelhouse.server import freeze_startup_objects


def test_startup_objects_are_frozen() -> None:
    before = gc.get_freeze_count()
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > max(before, 10_000)
        tracked = len(gc.get_objects())
        assert tracked < gc.get_freeze_count()  # a full collection walks only what came after
    finally:
        gc.unfreeze()
