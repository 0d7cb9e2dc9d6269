"""A careless admin removes a source while it is being scanned: the scan ends
``cancelled`` saying why, not ``failed`` with "internal error: FOREIGN KEY constraint
failed" and a traceback in the log for it and each of its probe jobs (found by an
outside-in probe)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reelhouse.core import Core
from reelhouse.sources.local import LocalSource

from helpers import admin_client


class _Gate:
    """A local source whose walk stops after the first ``free`` folders until ``go`` is set."""

    def __init__(self, inner: LocalSource, free: int = 3) -> None:
        self.inner, self.free = inner, free
        self.held, self.go = threading.Event(), threading.Event()

    def walk(self, path: str = "") -> Iterator[Any]:
        for n, item in enumerate(self.inner.walk(path)):
            if n == self.free:
                self.held.set()
                assert self.go.wait(60)
            yield item

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_removing_a_source_mid_scan_cancels_the_scan(core: Core, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    media = tmp_path / "media"
    for i in range(20):
        folder = media / f"Show {i}" / "Season 1"
        folder.mkdir(parents=True)
        for e in (1, 2):
            (folder / f"Show.{i}.S01E0{e}.mkv").write_bytes(b"x" * 100)
    with admin_client(core, raise_server_exceptions=False) as api:
        sid = api.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(media)}).json()["id"]
        gate = _Gate(LocalSource(media))
        real = core.sources.source
        monkeypatch.setattr(core.sources, "source", lambda source_id: gate if source_id == sid else real(source_id))
        job = api.post(f"/api/sources/{sid}/scan").json()
        assert gate.held.wait(30)
        with caplog.at_level(logging.ERROR, logger="reelhouse"):
            assert api.delete(f"/api/sources/{sid}").status_code == 204
            gate.go.set()
            deadline = time.monotonic() + 30
            while (state := api.get(f"/api/jobs/{job['id']}").json())["state"] not in ("done", "failed", "cancelled"):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert state["state"] == "cancelled", state
            assert "removed" in state["error"], state
            time.sleep(0.5)  # the scan's probe jobs, if any, end too
        assert not [r for r in caplog.records if "crashed" in r.getMessage()], caplog.text
