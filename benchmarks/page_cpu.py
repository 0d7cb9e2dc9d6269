"""CPU of a computed library page in-process: the route bodies (``items_answer``,
``show_answer``, ``media_files_answer`` of reelhouse/api/routes/library.py) called
directly on a library filled by ``big_library.py --keep DIR``, no HTTP, no page cache.

Prints one JSON object: per page kind, the best of ``--rounds`` rounds of the calling
thread's CPU ms a call (``time.thread_time``; on PostgreSQL the client's share only),
each round ``--n`` calls over the same arguments (a seeded choice of cursors, search
words and shows, as big_library.py's spread closed loop asks). The peer/limit of this
figure is the same script run with ``PYTHONPATH`` set to the source tree of an earlier
commit (``git archive main reelhouse | tar -x -C DIR``) on a copy of the library at that
tree's migration head: the comparison is the ratio of the two, measured side by side.

    PYTHONPATH=DIR .venv/bin/python benchmarks/page_cpu.py --data KEEP/sqlite \\
        --url sqlite:///KEEP/sqlite/reelhouse.db
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="the data dir of a kept library (holds fixture-N.json)")
    p.add_argument("--url", required=True, help="its database URL")
    p.add_argument("--files", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--kinds", default="grid_deep_page,title_search,show_page,media_files_deep_page,grid_first_page")
    args = p.parse_args()

    # reelhouse first: the tree on PYTHONPATH (big_library puts this repo's first on sys.path)
    import reelhouse
    from reelhouse.api.routes import library
    from reelhouse.config import load_settings
    from reelhouse.core import Core
    from reelhouse.db.models import User
    words_of = importlib.import_module("big_library").WORDS  # after: it puts this repo first on sys.path

    fixture = json.loads((args.data / f"fixture-{args.files}.json").read_text())
    core = Core(load_settings(data_dir=args.data, database_url=args.url, log_level="WARNING"))
    try:
        with core.sessions() as s:
            user = s.get(User, 1)
            assert user is not None
            s.expunge(user)
        rng = random.Random(20)
        n = args.n
        grid = [rng.choice(fixture["grid_cursors"]) for _ in range(n)]
        words = [f"{rng.choice(words_of)} {rng.choice(words_of)}" for _ in range(n)]
        shows = [rng.choice(fixture["show_ids"]) for _ in range(n)]
        files = [rng.choice(fixture["file_cursors"]) for _ in range(n)]

        def items(q: str | None, cursor: str | None) -> Any:
            return library.items_answer(core, user, q, None, None, None, None, None, None, False, None, cursor, 1, 60)

        calls: dict[str, Callable[[int], Any]] = {
            "grid_first_page": lambda i: items(None, None),
            "grid_deep_page": lambda i: items(None, grid[i]),
            "title_search": lambda i: items(words[i], None),
            "show_page": lambda i: library.show_answer(shows[i], core, user),
            "media_files_deep_page": lambda i: library.media_files_answer(core, user, None, False, files[i], 1, 50),
        }
        out: dict[str, Any] = {"benchmark": "page_cpu", "tree": str(Path(reelhouse.__file__).parent.parent),
                               "url": args.url.split("?")[0].rsplit("@", 1)[-1], "n": n, "rounds": args.rounds,
                               "loadavg_start": os.getloadavg()}
        for kind in args.kinds.split(","):
            call = calls[kind]
            for i in range(min(n, 20)):  # warm: statement caches, SQLite's page cache
                call(i)
            best = float("inf")
            for _ in range(args.rounds):
                t0 = time.thread_time()
                for i in range(n):
                    call(i)
                best = min(best, (time.thread_time() - t0) / n * 1000)
            out[f"{kind}_ms"] = round(best, 3)
        out["loadavg"] = os.getloadavg()
        print(json.dumps(out))
    finally:
        core.close()


if __name__ == "__main__":
    main()
