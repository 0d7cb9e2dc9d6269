"""Exit codes come from the error tree (``cli/errors.py``), by class, never from the
message; every way of starting the CLI runs the same entry point."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from reelhouse import errors as e
from reelhouse.cli import EXIT_CODES
from reelhouse.cli.errors import exit_code


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (e.InvalidInput("storage is full"), 2),  # the message says nothing: the class does
        (e.RangeNotSatisfiable("x", 10), 2),
        (e.NotFound("login refused"), 3),
        (e.AuthenticationFailed("not found"), 4),
        (e.PermissionDenied("x"), 4),
        (e.Conflict("x"), 5),
        (e.SourceBusy("x"), 6),
        (e.SourceUnavailable("x"), 6),
        (e.ConfigError("x"), 7),
        (e.StorageFull("x"), 8),
        (e.Cancelled("x"), 9),
        (e.ProbeFailed("no such file"), 1),
        (e.ReelhouseError("x"), 1),
    ],
)
def test_exit_code_by_class(error: e.ReelhouseError, code: int) -> None:
    assert exit_code(error) == code


def test_subclasses_are_listed_before_their_parents() -> None:
    classes = [cls for cls, _ in EXIT_CODES]
    for i, cls in enumerate(classes):
        assert not any(issubclass(later, cls) and later is not cls for later in classes[i + 1:])


@pytest.mark.parametrize("module", ["reelhouse", "reelhouse.cli"])
def test_python_dash_m_runs_the_cli(module: str) -> None:
    proc = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    for group in ("serve", "source", "scan", "sync", "transfer", "worker", "user"):
        assert group in proc.stdout


def test_drive_mount_help_names_the_config_sections() -> None:
    """rich read "[ftp] [mount] …" as markup and printed "INI or TOML file: ." (qadrive)."""
    proc = subprocess.run([sys.executable, "-m", "reelhouse", "drive", "mount", "--help"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          env={**os.environ, "COLUMNS": "250"})
    assert proc.returncode == 0, proc.stderr
    assert "[ftp] [mount] [cache] [connection] [logging]" in proc.stdout
