"""A mount's live numbers and the registry of live mounts (``reelhouse drive status``).

Each mount process writes ``<run dir>/<pid>.json`` about once a second and removes it
at exit; :func:`live_mounts` reads them and drops the files of processes that are gone.
The run dir is ``$REELHOUSE_DRIVE_RUN_DIR``, else ``$XDG_RUNTIME_DIR/reelhouse-drive``,
else ``<tmp>/reelhouse-drive-<uid>``.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Literal

__all__ = ["Counters", "Health", "live_mounts", "process_running", "remove_status", "run_dir", "write_status"]

State = Literal["up", "reconnecting", "down"]


class Counters:
    """Bytes read and written through the mount, and open files. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.bytes_read = 0
        self.bytes_written = 0
        self.open_files = 0

    def add_read(self, n: int) -> None:
        with self._lock:
            self.bytes_read += n

    def add_written(self, n: int) -> None:
        with self._lock:
            self.bytes_written += n

    def opened(self, delta: int) -> None:
        with self._lock:
            self.open_files += delta


class Health:
    """The server's state as the mount sees it: ``up`` after a success, ``reconnecting``
    after a connection failure, ``down`` when failures have lasted ``down_after``
    seconds (or the server was unreachable at mount). Thread-safe; ``clock`` is
    monotonic seconds."""

    def __init__(self, down_after: float = 10.0, clock: Any = time.monotonic) -> None:
        self.down_after = down_after
        self._clock = clock
        self._lock = threading.Lock()
        self._failing_since: float | None = None
        self.last_error: str | None = None
        self.forced_down = False

    def ok(self) -> None:
        with self._lock:
            self._failing_since = None
            self.forced_down = False
            self.last_error = None

    def failed(self, message: str) -> None:
        with self._lock:
            if self._failing_since is None:
                self._failing_since = self._clock()
            self.last_error = message

    def down(self, message: str) -> None:
        with self._lock:
            self.forced_down = True
            self._failing_since = self._failing_since or self._clock()
            self.last_error = message

    @property
    def state(self) -> State:
        with self._lock:
            if self._failing_since is None:
                return "up"
            if self.forced_down or self._clock() - self._failing_since >= self.down_after:
                return "down"
            return "reconnecting"


def run_dir() -> Path:
    """The folder of status files (created)."""
    env = os.environ.get("REELHOUSE_DRIVE_RUN_DIR")
    if env:
        path = Path(env)
    elif os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(os.environ["XDG_RUNTIME_DIR"]) / "reelhouse-drive"
    else:
        path = Path(tempfile.gettempdir()) / f"reelhouse-drive-{os.getuid() if hasattr(os, 'getuid') else 0}"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def write_status(info: dict[str, Any]) -> None:
    """Publish this process's mount status (atomically: write, then rename)."""
    folder = run_dir()
    final = folder / f"{os.getpid()}.json"
    tmp = folder / f".{os.getpid()}.json.tmp"
    tmp.write_text(json.dumps(info, sort_keys=True))
    os.replace(tmp, final)


def remove_status() -> None:
    (run_dir() / f"{os.getpid()}.json").unlink(missing_ok=True)


def process_running(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie waiting for its parent does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


def live_mounts() -> list[dict[str, Any]]:
    """Status of every live mount (stale files of dead processes are removed)."""
    out = []
    for path in sorted(run_dir().glob("*.json")):
        try:
            info = json.loads(path.read_text())
            pid = int(info["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not process_running(pid):
            path.unlink(missing_ok=True)
            continue
        out.append(info)
    return out
