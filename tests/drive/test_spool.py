"""What :meth:`Spool.pending` (``drive status``'s ``pending_uploads``) says while an
upload runs during the writes, while a failed one is retried, and once every try
failed; it never waits for the running upload (which holds the file's lock)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from reelhouse.drive.recovery import recover
from reelhouse.drive.spool import Spool, SpoolFile
from reelhouse.drive.status import Counters
from reelhouse.drive.streamer import STREAM_AFTER
from reelhouse.errors import PermissionDenied, ReelhouseError
from reelhouse.sources.memory import MemorySource

MIB = 1024 * 1024


def _new_file(tmp_path: Path, name: str, data: bytes = b"", attempts: int = 3,
              delay: float = 1.0) -> tuple[MemorySource, Spool, SpoolFile]:
    """A spool (``attempts``, ``delay``: :class:`Spool`'s) over an empty MemorySource
    with ``name`` opened as a new file, ``data`` written at byte 0."""
    src = MemorySource({})
    spool = Spool(tmp_path / "spool", src, Counters(), attempts=attempts, delay=delay)
    node = spool.open(name, new=True)
    if data:
        node.write(src, 0, data)
    return src, spool, node


def _upload_in_thread(spool: Spool, node: SpoolFile) -> tuple[threading.Thread, list[ReelhouseError]]:
    """``spool.upload(node)`` started in a thread; the thread and the list its error
    (if any) lands in."""
    failed: list[ReelhouseError] = []

    def upload() -> None:
        try:
            spool.upload(node)
        except ReelhouseError as exc:
            failed.append(exc)

    uploading = threading.Thread(target=upload)
    uploading.start()
    return uploading, failed


def test_an_upload_during_the_writes_shows_bytes_sent(tmp_path: Path) -> None:
    src, spool, node = _new_file(tmp_path, "big.bin", attempts=1, delay=0)
    block = os.urandom(MIB)
    for i in range(STREAM_AFTER // MIB + 4):
        node.write(src, i * MIB, block)
    size = STREAM_AFTER + 4 * MIB
    deadline = time.monotonic() + 30
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
    src, spool, node = _new_file(tmp_path, "notes.txt", b"keep me", delay=0.4)
    src.offline = True
    uploading, failed = _upload_in_thread(spool, node)
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
    _, spool, node = _new_file(tmp_path, "gone.txt")
    node.upload_state = state
    spool.forget("gone.txt")
    assert spool.pending() == []
    spool.release(node)
    spool.close()


def test_two_live_mounts_of_one_server_keep_their_own_spool(tmp_path: Path) -> None:
    # two mounts of the same server, user and root at once share a spool folder name:
    # the second one's recovery must not take (upload, then delete) the first one's
    # files while the first still owns them
    src, first, node = _new_file(tmp_path, "keep.txt", b"precious", attempts=1, delay=0)
    src.offline = True
    with pytest.raises(ReelhouseError):
        first.upload(node)
    second = Spool(tmp_path / "spool", src, Counters(), attempts=1, delay=0)
    src.offline = False
    assert recover(second) == [] and "keep.txt" not in src.files
    node.write(src, 8, b" and more")  # the first mount goes on writing, and closes
    src.offline = True
    with pytest.raises(ReelhouseError):
        first.upload(node)
    first.close()  # (a crash: nothing uploaded, the spool file kept)
    second.close()
    src.offline = False
    third = Spool(tmp_path / "spool", src, Counters(), attempts=1, delay=0)  # the next mount
    assert recover(third) == []
    assert src.files["keep.txt"] == b"precious and more"
    third.close()


def test_a_file_named_like_a_running_uploads_part_waits_for_it(tmp_path: Path) -> None:
    """``x`` uploads through ``x.part`` (slowly) when the user writes and closes ``x.part``:
    that upload waits until ``x``'s has renamed its ``.part`` away, then sends the user's
    bytes; ``x``'s next upload goes through another name."""

    class Slow(MemorySource):
        def __init__(self) -> None:
            super().__init__({})
            self.writing = threading.Event()
            self.go = threading.Event()

        def write(self, path: str, chunks: object, offset: int = 0) -> int:
            if path == "x.part":
                self.writing.set()
                assert self.go.wait(10)
            return super().write(path, chunks, offset)  # type: ignore[arg-type]

    src = Slow()
    spool = Spool(tmp_path / "spool", src, Counters(), attempts=1, delay=0)
    x = spool.open("x", new=True)
    x.write(src, 0, b"the big file")
    done: list[object] = []
    uploading = threading.Thread(target=lambda: done.append(spool.upload(x)))
    uploading.start()
    assert src.writing.wait(10)  # x is being sent to x.part
    user = spool.open("x.part", new=True)
    user.write(src, 0, b"the user's own part")
    saving = threading.Thread(target=lambda: done.append(spool.upload(user)))
    saving.start()
    try:
        time.sleep(0.3)
        assert saving.is_alive() and "x.part" not in src.files  # waits for x's upload
    finally:
        src.go.set()
        uploading.join(10)
        saving.join(10)
    assert src.files == {"x": b"the big file", "x.part": b"the user's own part"}
    x.write(src, 0, b"THE")
    assert spool.upload(x) is not None
    assert src.files == {"x": b"THE big file", "x.part": b"the user's own part"}
    for node in (x, user):
        spool.release(node)
    spool.close()


def test_a_delete_keeps_the_file_until_the_server_deleted_it(tmp_path: Path) -> None:
    """:meth:`Spool.deleting` stops uploads without dropping the bytes; :meth:`kept` (the
    server refused the delete) leaves the file pending as it was, its last handle closed
    meanwhile included; :meth:`deleted` drops it."""
    src, spool, node = _new_file(tmp_path, "draft.txt", b"unsent", attempts=1, delay=0)
    assert spool.deleting("draft.txt") is node
    assert spool.upload(node) is None and "draft.txt" not in src.files  # none starts
    spool.release(node)  # its last handle closes while it is being deleted
    spool.kept(node)
    assert node.local.read_bytes() == b"unsent" and node.manifest.exists()
    assert [u["state"] for u in spool.pending()] == ["failed"]  # listed, retried later
    spool.retry_failed(lambda: False)
    assert src.files["draft.txt"] == b"unsent" and spool.pending() == []
    _, spool2, other = _new_file(tmp_path / "2", "gone.txt", b"bytes")
    assert spool2.deleting("gone.txt") is other
    spool2.deleted(other)
    spool2.release(other)
    assert not other.local.exists() and spool2.node("gone.txt") is None
    spool.close()
    spool2.close()


def test_stop_ends_the_retries_at_once(tmp_path: Path) -> None:
    """An unmount that waits no longer (:meth:`Spool.stop`): the retry under way ends
    without its delay, and no new upload starts; the file stays in the spool."""
    src, spool, node = _new_file(tmp_path, "notes.txt", b"keep me", attempts=3, delay=30)
    src.offline = True
    uploading, failed = _upload_in_thread(spool, node)
    deadline = time.monotonic() + 30  # generous: a loaded 2-core machine
    while not spool.pending() or spool.pending()[0]["state"] != "retrying":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    started = time.monotonic()
    spool.stop()
    uploading.join(10)
    assert not uploading.is_alive() and time.monotonic() - started < 5
    assert failed and "offline" in failed[0].message
    src.offline = False
    with pytest.raises(ReelhouseError, match="unmounted"):
        spool.upload(node)
    assert node.dirty and node.manifest.exists() and "notes.txt" not in src.files
    spool.release(node)
    spool.close()


class _Refusing(MemorySource):
    """A MemorySource refusing every upload under ``locked/`` (as pyftpdlib's "550 Not
    enough privileges."), counting the uploads it was asked for."""

    def __init__(self) -> None:
        super().__init__({})
        self.writes: list[str] = []

    def write(self, path: str, chunks: Iterable[bytes], offset: int = 0) -> int:
        self.writes.append(path)
        if path.startswith("locked/"):
            raise PermissionDenied(f"FTP server denied access while writing {path!r}: 550 Not enough privileges.")
        return super().write(path, chunks, offset)


def test_a_refused_file_is_kept_and_never_sent_again_by_itself(tmp_path: Path) -> None:
    """A refusal is not retried (one write however many attempts), is listed as
    ``refused`` with the server's reply, and neither the server coming back
    (retry_failed), the unmount (flush_all) nor the next mount (recover) sends it again;
    the next mount keeps it with its bytes. A refused file holding no byte goes at its
    last close (release says so), and at the next mount if a mount left one."""
    src = _Refusing()
    spool = Spool(tmp_path / "spool", src, Counters(), attempts=3, delay=0)
    node = spool.open("locked/a.txt", new=True)
    node.write(src, 0, b"a draft")
    with pytest.raises(PermissionDenied):
        spool.upload(node)
    assert src.writes == ["locked/a.txt.part"]
    [up] = spool.pending()
    assert (up["path"], up["state"], up["size"]) == ("locked/a.txt", "refused", 7)
    assert up["error"].endswith("550 Not enough privileges.")
    spool.retry_failed(lambda: False)
    assert spool.flush_all() == ["locked/a.txt"]
    assert spool.release(node) is False  # bytes: kept
    empty = spool.open("locked/e.txt", new=True)
    with pytest.raises(PermissionDenied):
        spool.upload(empty)
    assert spool.refused().keys() == {"locked/a.txt", "locked/e.txt"}
    assert spool.release(empty) is True  # nothing written: dropped
    assert spool.refused().keys() == {"locked/a.txt"}
    left_empty = spool.open("locked/left.txt", new=True)  # refused, still open at unmount
    with pytest.raises(PermissionDenied):
        spool.upload(left_empty)
    assert len(src.writes) == 3
    spool.close()
    later = Spool(tmp_path / "spool", src, Counters(), attempts=3, delay=0)
    assert recover(later) == []
    assert len(src.writes) == 3  # nothing sent
    assert later.refused() == {"locked/a.txt": up["error"]}
    kept = later.node("locked/a.txt")
    assert kept is not None and kept.read(src, 0, 100) == b"a draft"
    later.forget("locked/a.txt")  # rm on the mount
    later.close()
    assert sorted(p.name for p in (tmp_path / "spool").iterdir()) == []
