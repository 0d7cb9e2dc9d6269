"""Keep and release of one offline copy at the same moment, on both engines.

Before: a keep that landed while the copy's last claim was being released was dropped
with the copy. On PostgreSQL the keep read the copy, added its claim and answered
"kept"; the release, which had dropped its own claim and found none left, deleted the
copy, and ``ON DELETE CASCADE`` took the new claim with it: the user was told the
film is kept, and nothing was. Now both lock the copy's row first
(``offline_claims.lock_copies``), so one of the two waits for the other."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.transfers import offline_claims

from helpers import ENGINES, scan_ftp

FILM = "Films/Heat.1995.mkv"


def _until(pred: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


class _Referee:
    """Holds the release (``releaser``) and the keep (``keeper``) at the moment of the
    race, whatever the engine and the code: the release stops once it has dropped its
    claim (:meth:`pause`) until the keep asked for the copy's lock, or made its claim
    and is about to commit it (held then until the release sent its delete: the
    claim is not committed yet when the release looks for claims), or ended. On
    SQLite a claim's INSERT waits for the release's write lock: sent is enough."""

    def __init__(self, core: Core) -> None:
        self.sent: dict[int, list[str]] = {}
        self.engine = core.engine
        self.sqlite = core.engine.dialect.name == "sqlite"
        self.keeper: threading.Thread | None = None
        self.releaser: threading.Thread | None = None
        self.paused, self.committing, self.deleting = threading.Event(), threading.Event(), threading.Event()
        event.listen(self.engine, "before_cursor_execute", self._seen)
        event.listen(self.engine, "commit", self._commit)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.sent.setdefault(threading.get_ident(), []).append(statement)
        if self.releaser is not None and threading.get_ident() == self.releaser.ident \
                and statement.startswith("DELETE FROM offline_copies"):
            self.deleting.set()

    def _commit(self, _conn: Any) -> None:
        assert self.keeper is not None and self.releaser is not None
        if threading.get_ident() == self.keeper.ident and self.paused.is_set():
            self.committing.set()
            _until(lambda: self.deleting.is_set() or not self.releaser.is_alive())  # type: ignore[union-attr]

    def _keeper_sent(self, *marks: str) -> bool:
        assert self.keeper is not None
        return any(m in q for q in self.sent.get(self.keeper.ident or 0, []) for m in marks)

    def pause(self) -> None:
        """In the release, its claim dropped: wait for the keep (above)."""
        assert self.keeper is not None
        self.paused.set()
        _until(lambda: not self.keeper.is_alive() or self.committing.is_set()  # type: ignore[union-attr]
               or self._keeper_sent("FOR UPDATE", "BEGIN IMMEDIATE")
               or (self.sqlite and self._keeper_sent("INSERT INTO offline_claims")))

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)
        event.remove(self.engine, "commit", self._commit)


@pytest.fixture
def kept(core: Core, ftp_server: EmbeddedFtpServer, ftp_root: Path) -> Iterator[tuple[str, int, int]]:
    """ann keeps a film offline and its copy is ready: (scope, ann's id, bob's id)."""
    (ftp_root / FILM).parent.mkdir(parents=True, exist_ok=True)
    (ftp_root / FILM).write_bytes(os.urandom(200_000))
    _, [mf] = scan_ftp(core, ftp_server.port)
    ann, bob = core.users.add("ann", "ann-password"), core.users.add("bob", "bob-password")
    scope = f"movie:{mf.movie_id}"
    core.offline.keep(scope, ann.id)
    _until(lambda: [v.copy.state for v in core.offline.mine(ann.id)] == ["ready"])
    yield scope, ann.id, bob.id
    core.sources.close()  # before the FTP server's leak check


@pytest.mark.parametrize("core", ENGINES, indirect=True)
def test_a_keep_during_the_last_release_is_not_dropped(
    core: Core, kept: tuple[str, int, int], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ann releases her claim, the copy's last; bob keeps the film while her release
    has dropped her claim and not yet removed the copy. However the two land, bob's
    keep ends with his claim on a copy that is there (made again if it went)."""
    scope, ann, bob = kept
    referee = _Referee(core)
    unclaimed = offline_claims.unclaimed

    def paused(s: Any, ids: Any) -> Any:  # ann's release, her claim dropped, the copy still there
        referee.pause()
        return unclaimed(s, ids)

    monkeypatch.setattr(offline_claims, "unclaimed", paused)
    results: dict[str, Any] = {}

    def release() -> None:
        results["released"] = core.offline.release(scope, ann)

    def keep() -> None:
        referee.paused.wait(60)
        try:
            results["kept"] = core.offline.keep(scope, bob)
        except Exception as exc:  # shown below
            results["kept"] = exc

    keeper = referee.keeper = threading.Thread(target=keep)
    releaser = referee.releaser = threading.Thread(target=release)
    keeper.start()
    releaser.start()
    try:
        releaser.join(120)
        keeper.join(120)
    finally:
        referee.close()
    assert not releaser.is_alive() and not keeper.is_alive()
    assert results["released"] == 1
    assert isinstance(results["kept"], list) and len(results["kept"]) == 1, results["kept"]
    assert core.offline.mine(ann) == []
    [bobs] = core.offline.mine(bob)  # before (PostgreSQL): [] and no copy at all
    _until(lambda: [v.copy.state for v in core.offline.mine(bob)] == ["ready"])
    [entry] = core.offline.every_copy()
    assert [c[1] for c in entry.claims] == [bob]
    copy = core.settings.store_dir / entry.copy.local_path
    assert copy.stat().st_size == 200_000
    assert core.offline.ready_copy(bobs.copy.media_file_id) is not None
