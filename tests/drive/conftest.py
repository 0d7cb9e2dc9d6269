"""Real FUSE mounts for the drive tests: every mount is unmounted and its process ended
in teardown, and the leak guard checks that no mount is left."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from drive.support import CLI, Mount, Mounter, mounted, needs_fuse, wait_no_connections


@pytest.fixture
def drive_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(REELHOUSE_DATA_DIR=str(tmp_path / "data"), REELHOUSE_DRIVE_RUN_DIR=str(tmp_path / "run"),
               COLUMNS="200")
    return env


@pytest.fixture
def mount(tmp_path: Path, drive_env: dict[str, str]) -> Iterator[Mounter]:
    needs_fuse()
    started: list[Mount] = []

    def start(*args: str, mp: Path | None = None, wait: bool = True) -> Mount:
        if mp is None:
            mp = tmp_path / f"mnt{len(started)}"
            mp.mkdir()
        log = tmp_path / f"mount{len(started)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([*CLI, "drive", "mount", str(mp), *args], env=drive_env,
                                    stdout=out, stderr=subprocess.STDOUT)
        m = Mount(proc, mp, log, drive_env)
        started.append(m)
        if wait:
            deadline = time.monotonic() + 20
            while not mounted(mp):
                if proc.poll() is not None:
                    raise AssertionError(f"mount exited {proc.returncode}: {m.output()}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"not mounted after 20 s: {m.output()}")
                time.sleep(0.02)
        return m

    yield start
    for m in started:
        m.stop()
        assert m.proc.poll() is not None, "the mount process still runs"
        assert not mounted(m.path), f"{m.path} still mounted"
        args = list(m.proc.args)  # type: ignore[arg-type]
        if "--port" in args:  # the leak guard: nothing left connected to the server
            wait_no_connections(int(args[args.index("--port") + 1]))
