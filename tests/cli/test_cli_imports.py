"""The command line starts without importing the Core (all of reelhouse: the API, the
jobs, the players' code): ``drive`` commands, ``--help`` and the spool commands never
build one, and a CLI test starts dozens of such processes (importing the Core cost ~1.3 s
of CPU a process on the CI machine). A command that makes a Core imports it then
(cli/common.py ``make_core``)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("reelhouse.core", "reelhouse.party.live", "reelhouse.api", "reelhouse.jobs.runner")


def test_the_cli_imports_no_core_until_a_command_makes_one() -> None:
    code = ("import sys; from reelhouse.cli import main; import reelhouse.drive.mount; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"imported at start: {done.stdout.strip()}"
