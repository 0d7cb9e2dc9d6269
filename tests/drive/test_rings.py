"""The memory of the tee's ring buffers (reelhouse/drive/rings.py): on huge page
boundaries where the platform has transparent huge pages, and unmapped when closed."""

from __future__ import annotations

import sys

import pytest

from reelhouse.drive.rings import HUGE, address, new_ring
from reelhouse.drive.tee import RING


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="transparent huge pages are Linux's")
def test_the_ring_sits_on_huge_page_boundaries_and_frees_its_mapping() -> None:
    for _ in range(3):
        buf, whole, ring = new_ring(RING)
        try:
            assert len(ring) == RING
            assert len(buf) in (RING, RING + HUGE)  # one huge page more where not aligned
            ring[:4] = b"ring"
            ring[-4:] = b"last"
            index = bytes(whole).find(b"ring")
            assert 0 <= index <= len(buf) - RING
            assert (address(buf) + index) % HUGE == 0
            assert bytes(whole[index + RING - 4:index + RING]) == b"last"
        finally:
            ring.release()
            whole.release()
            buf.close()
        assert buf.closed
