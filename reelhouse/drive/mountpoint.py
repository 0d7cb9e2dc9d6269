"""The mount point checks, before anything is mounted: FUSE usable here (``/dev/fuse``,
``fusermount3``, libfuse), and a mount point that exists, is an empty folder and is not
a mount already (also a dead FUSE mount). Each failure is one line naming its fix."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from reelhouse.errors import ConfigError, InvalidInput

__all__ = ["check_mount_point", "check_platform", "is_mount"]


def check_platform() -> None:
    """Raise ConfigError (one line, naming the package) when FUSE cannot work here."""
    if sys.platform.startswith("linux"):
        if not os.path.exists("/dev/fuse"):
            raise ConfigError("/dev/fuse does not exist: load the fuse module (modprobe fuse) "
                              "or, in a container, pass --device /dev/fuse")
        if shutil.which("fusermount3") is None and shutil.which("fusermount") is None:
            raise ConfigError("fusermount3 not found: install the fuse3 package (apt-get install fuse3)")
    try:
        import mfusepy  # noqa: F401  (loads libfuse)
    except (ImportError, OSError) as exc:
        raise ConfigError(f"libfuse could not be loaded ({exc}): install fuse3 (Linux), macFUSE "
                          "(macOS) or WinFsp (Windows)") from exc


def check_mount_point(path: str) -> Path:
    """The mount point, checked: an existing, empty folder that is not a mount already
    (a drive letter such as ``Z:`` on Windows). Raises InvalidInput.

    Symlinks are resolved: the folder returned is the one the kernel mounts, what
    ``/proc/mounts``, ``df`` and ``drive unmount`` see."""
    if sys.platform == "win32" and len(path) == 2 and path[1] == ":":
        return Path(path)
    mp = Path(os.path.realpath(Path(path).expanduser()))
    if is_mount(mp):
        raise InvalidInput(f"mount point {str(mp)!r} is already a mount (unmount it first: "
                           f"reelhouse drive unmount {mp})")
    if not mp.exists():
        raise InvalidInput(f"mount point {str(mp)!r} does not exist")
    if not mp.is_dir():
        raise InvalidInput(f"mount point {str(mp)!r} is not a folder")
    if any(mp.iterdir()):
        raise InvalidInput(f"mount point {str(mp)!r} is not empty")
    return mp


def is_mount(mp: Path) -> bool:
    """Something is mounted at ``mp``, also a FUSE mount whose process died (its folder
    then answers every ``stat`` with ENOTCONN, so ``os.path.ismount`` says no): from
    ``/proc/self/mounts`` where there is one (its octal escapes, ``\\040`` for a space,
    undone)."""
    try:
        if os.path.ismount(mp):
            return True
    except OSError:
        pass
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return False
    target = str(mp)
    unescape = re.compile(r"\\([0-7]{3})")
    return any(len(p := line.split()) > 1 and unescape.sub(lambda m: chr(int(m[1], 8)), p[1]) == target
               for line in lines)
