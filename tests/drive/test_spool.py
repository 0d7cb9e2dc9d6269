"""What :meth:`Spool.pending` (``drive status``'s ``pending_uploads``) says while an
upload runs during the writes, while a failed one is retried, and once every try
failed; it never waits for the running upload (which holds the file's lock)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from reelhouse.drive.spool import Spool
from reelhouse.drive.status import Counters
from reelhouse.drive.streamer import STREAM_AFTER
from reelhouse.errors import ReelhouseError
from reelhouse.sources.memory import MemorySource

MIB = 1024 * 1024


def test_an_upload_during_the_writes_shows_bytes_sent(tmp_path: Path) -> None:
    src = MemorySource({})
    spool = Spool(tmp_path / "spool", src, Counters(), attempts=1, delay=0)
    node = spool.open("big.bin", new=True)
    block = os.urandom(MIB)
    for i in range(STREAM_AFTER // MIB + 4):
        node.write(src, i * MIB, block)
    size = STREAM_AFTER + 4 * MIB
    deadline = time.monotonic() + 10
    while spool.pending()[0]["sent"] < size - 2 * MIB and time.monotonic() < deadline:
        time.sleep(0.01)  # the upload sends once 2 MiB are waiting
    [up] = spool.pending()
    assert up["path"] == "big.bin" and up["state"] == "uploading" and up["size"] == size, up
    assert size - 2 * MIB <= up["sent"] <= size
    assert spool.upload(node) is not None
    assert spool.pending() == []
    assert src.files["big.bin"] == block * (size // MIB)
    spool.release(node)
    spool.close()


def test_retrying_then_failed(tmp_path: Path) -> None:
    src = MemorySource({})
    spool = Spool(tmp_path / "spool", src, Counters(), attempts=3, delay=0.4)
    node = spool.open("notes.txt", new=True)
    node.write(src, 0, b"keep me")
    src.offline = True
    failed: list[ReelhouseError] = []

    def upload() -> None:
        try:
            spool.upload(node)
        except ReelhouseError as exc:
            failed.append(exc)

    uploading = threading.Thread(target=upload)
    uploading.start()
    seen = set()
    while uploading.is_alive():
        for up in spool.pending():  # answers at once while the upload holds the lock
            seen.add((up["path"], up["state"], up["size"], bool(up["error"])))
        time.sleep(0.02)
    uploading.join()
    assert failed
    assert ("notes.txt", "retrying", 7, True) in seen
    assert spool.pending() == [{"path": "notes.txt", "state": "failed", "sent": 0, "size": 7,
                                "error": failed[0].message}]
    src.offline = False
    assert spool.upload(node) is not None  # the next try: done, nothing pending
    assert spool.pending() == [] and src.files["notes.txt"] == b"keep me"
    spool.release(node)
    spool.close()


@pytest.mark.parametrize("state", ["uploading", "retrying"])
def test_pending_skips_deleted_files(tmp_path: Path, state: str) -> None:
    src = MemorySource({})
    spool = Spool(tmp_path / "spool", src, Counters())
    node = spool.open("gone.txt", new=True)
    node.upload_state = state
    spool.forget("gone.txt")
    assert spool.pending() == []
    spool.release(node)
    spool.close()
