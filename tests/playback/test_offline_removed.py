"""An offline copy removed while it plays (real uvicorn on loopback, a real pyftpdlib
server killed and brought back, the real ``reelhouse offline remove`` in a process of
its own).

What a user expects: the copy's removal (an admin's, or its last claim released) does
not cut what is playing; the next request (a seek) is the source's, as for a film
without a copy. The range that is reading the copy holds it open and reads on (a POSIX
unlink takes the name, the space is freed when the range ends). Before, a copy removed
by another process (the CLI, another node) was still taken as there by the server:
with the source marked down, the next request read the missing copy and was a 404 for
a film whose server was back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import select

from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie
from reelhouse.server import create_app

from helpers import ADMIN, ADMIN_PASSWORD, Restartable, scan_ftp, serving

SIZE = 24 * 1024 * 1024  # far more than the sockets' buffers: the range is still reading
FILM = "Films/Big.2001.mkv"


def _until(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)


def _bearer(base: str) -> dict[str, str]:
    r = httpx.post(base + "/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['token']}"}


def _keep(core: Core, user_id: int, file_id: int) -> tuple[int, Path]:
    """Keep the film offline for ``user_id`` until its copy is ready: (copy id, its file)."""
    with core.sessions() as s:
        movie = s.scalar(select(Movie.id).join(MediaFile).where(MediaFile.id == file_id))
    core.offline.keep(f"movie:{movie}", user_id)
    _until(lambda: [v.copy.state for v in core.offline.mine(user_id)] == ["ready"])
    [view] = core.offline.mine(user_id)
    return view.copy.id, core.settings.store_dir / view.copy.local_path


def test_a_copy_removed_while_it_plays(core: Core, tmp_path: Path) -> None:
    root = tmp_path / "ftp"
    (root / "Films").mkdir(parents=True)
    data = bytes(range(256)) * (SIZE // 256)
    (root / FILM).write_bytes(data)
    ftpd = Restartable(root)
    try:
        _, [mf] = scan_ftp(core, ftpd.port)
        ann = core.users.add("ann", "ann-password").id
        copy_id, copy = _keep(core, ann, mf.id)
        stream = f"/api/library/media-files/{mf.id}/stream"
        with serving(create_app(core), on_stop=core.sources.close) as base, httpx.Client(timeout=30) as http:
            auth = _bearer(base)
            ftpd.kill()
            core.sources.close()  # no pooled connection to the dead server
            # 1. the server is down: the film plays from its copy; an admin removes the
            # copy meanwhile: the file's name goes at once, the range reads on to the end
            got = bytearray()
            with http.stream("GET", base + stream, headers={**auth, "range": "bytes=0-"}) as r:
                assert r.status_code == 206 and r.headers["x-reelhouse-served-from"] == "offline-copy"
                chunks = r.iter_raw(64 * 1024)
                while len(got) < 1024 * 1024:
                    got += next(chunks)
                gone = http.delete(f"{base}/api/offline/copies/{copy_id}", headers=auth)
                assert gone.status_code == 204, gone.text
                assert not copy.exists()
                for chunk in chunks:
                    got += chunk
            assert len(got) == SIZE and bytes(got) == data  # not cut
            # the next request is the source's, down: as for a film without a copy
            r = http.get(base + stream, headers={**auth, "range": "bytes=5000000-5000099"})
            assert r.status_code == 502 and "x-reelhouse-served-from" not in r.headers, r.text

            # 2. removed by another process (the CLI): this server still takes the copy as
            # there, and the source as down; the server is back: the seek is the source's
            ftpd.revive()
            copy_id, copy = _keep(core, ann, mf.id)
            ftpd.kill()
            core.sources.close()
            r = http.get(base + stream, headers={**auth, "range": "bytes=100-199"})
            assert r.status_code == 206 and r.content == data[100:200]
            assert r.headers["x-reelhouse-served-from"] == "offline-copy"  # the source is taken as down now
            env = dict(os.environ, REELHOUSE_DATA_DIR=str(core.settings.data_dir), NO_COLOR="1")
            proc = subprocess.run([sys.executable, "-m", "reelhouse.cli", "offline", "remove", str(copy_id)],
                                  env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
            assert proc.returncode == 0, proc.stderr
            assert not copy.exists()
            ftpd.revive()
            r = http.get(base + stream, headers={**auth, "range": "bytes=7000000-7000099"})
            assert r.status_code == 206, r.text  # before: 404
            assert r.content == data[7_000_000:7_000_100] and "x-reelhouse-served-from" not in r.headers
            assert core.offline.ready_copy(mf.id) is None  # forgotten: later requests do not try it
    finally:
        core.sources.close()
        ftpd.kill()
