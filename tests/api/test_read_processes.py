"""Library pages computed in read processes (api/read_processes.py, ``read_processes``):
what a write did is seen by the next read, grants and their revocation hold, answers
of concurrent requests do not mix, a read process that dies is replaced and its
request answered the FastAPI way, no read process outlives its server (shut down,
SIGTERM of ``reelhouse serve``, or killed), and none runs the main script again."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from synthetic_library import fill, ftp_source

from reelhouse.api.read_processes import PROCESS_NAME, ReadProcesses, _without_main
from reelhouse.auth.users import UserChange
from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie
from reelhouse.errors import InvalidInput, NotFound
from reelhouse.server import create_app
from tests.helpers import ADMIN, ADMIN_PASSWORD, free_port, log_in


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    core = Core(load_settings(data_dir=tmp_path / "data", read_processes=1))
    try:
        fill(core, movies=12, shows=3)
        core.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
        with core.sessions() as s:
            ftp_source(s)
            s.execute(update(MediaFile).where(MediaFile.movie_id == 2).values(source_id=2))
            s.commit()
        core.users.add("kid", "kid-password", restrict_sources=True, sources=[1, 2])
        yield core
    finally:
        core.close()


def _procs(client: TestClient) -> ReadProcesses:
    procs = client.app.state.read_processes  # type: ignore[attr-defined]
    assert isinstance(procs, ReadProcesses)
    return procs


def _gone(pid: int) -> bool:
    """Whether process ``pid`` ended (a zombie waiting for its parent counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _wait_gone(pids: list[int], seconds: float = 30.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := [p for p in pids if not _gone(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def test_a_write_is_seen_by_the_next_read(core: Core) -> None:
    with TestClient(create_app(core)) as c:
        log_in(c)
        core.auth.cache_seconds = 600.0
        c.app.state.page_cache.seconds = 0.0  # type: ignore[attr-defined]
        before = c.get("/api/library/items?type=movie&per_page=500").json()
        assert _procs(c).pids(), "the read process answered"
        with core.sessions() as s:
            s.execute(update(Movie).where(Movie.id == 1).values(title="Zzz renamed"))
            s.commit()
        after = c.get("/api/library/items?type=movie&per_page=500").json()
        titles = {i["id"]: i["title"] for i in after["items"]}
        assert titles[1] == "Zzz renamed" and titles != {i["id"]: i["title"] for i in before["items"]}
        # a resume point saved through the API is in the next continue watching
        r = c.put("/api/library/media-files/5/progress", json={"position": 30.0, "duration": 600.0})
        assert r.status_code == 200
        assert 5 in [i["media_file_id"] for i in c.get("/api/library/continue").json()]


def test_grants_and_their_revocation_hold(core: Core) -> None:
    kid = core.users.by_name("kid").id
    with TestClient(create_app(core)) as c:
        log_in(c, "kid", "kid-password")
        core.auth.cache_seconds = 600.0
        c.app.state.page_cache.seconds = 0.0  # type: ignore[attr-defined]
        ids = {i["id"] for i in c.get("/api/library/items?type=movie&per_page=500").json()["items"]}
        assert 2 in ids
        assert _procs(c).pids()
        core.users.update(kid, UserChange(sources=[1]))  # source 2 taken away
        ids = {i["id"] for i in c.get("/api/library/items?type=movie&per_page=500").json()["items"]}
        assert 2 not in ids and 1 in ids
        files = c.get("/api/library/media-files?source_id=2").json()
        assert files["items"] == [] and files["total"] == 0


def test_concurrent_requests_each_get_their_own_answer(core: Core) -> None:
    with TestClient(create_app(core)) as c:
        log_in(c)
        core.auth.cache_seconds = 600.0
        c.app.state.page_cache.seconds = 0.0  # type: ignore[attr-defined]
        urls = [f"/api/library/shows/{i}" for i in (1, 2, 3)] + [f"/api/library/items?per_page={n}" for n in (1, 2, 3)]
        alone = {u: c.get(u).content for u in urls}
        procs = _procs(c)
        procs.processes = 2  # two at once (the limiter is made on first use: made again)
        procs._limiter = None
        headers = dict(c.headers)

        async def all_at_once() -> list[bytes]:
            transport = httpx.ASGITransport(app=c.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as http:
                answers = await asyncio.gather(*(http.get(u) for u in urls * 4))
            return [a.content for a in answers]

        assert c.portal is not None
        got = c.portal.call(all_at_once)
        assert got == [alone[u] for u in urls * 4]
        assert 1 <= len(procs.pids()) <= 2


def test_a_read_process_that_dies_is_replaced_and_its_request_answered(core: Core) -> None:
    with TestClient(create_app(core)) as c:
        log_in(c)
        core.auth.cache_seconds = 600.0
        c.app.state.page_cache.seconds = 0.0  # type: ignore[attr-defined]
        first = c.get("/api/library/shows/2")
        procs = _procs(c)
        [pid] = procs.pids()
        os.kill(pid, signal.SIGKILL)
        assert not _wait_gone([pid])
        again = c.get("/api/library/shows/2")  # the FastAPI way answers
        assert (again.status_code, again.content) == (200, first.content)
        deadline = time.monotonic() + 30  # a new read process, a moment later (RESTART_SECONDS)
        while not procs.pids() and time.monotonic() < deadline:
            assert c.get("/api/library/shows/2").content == first.content
            time.sleep(0.1)
        assert procs.pids() and pid not in procs.pids()
        assert c.get("/api/library/shows/2").content == first.content
        # an error of the body is the FastAPI way's error answer
        missing = c.get("/api/library/shows/999")
        assert missing.status_code == 404 and "999" in missing.json()["detail"]
    assert not _wait_gone([pid, *procs.pids()])


def test_the_read_processes_end_with_the_app(core: Core) -> None:
    with TestClient(create_app(core)) as c:
        log_in(c)
        c.get("/api/library/shows/2")
        pids = _procs(c).pids()
        assert pids
    assert not _wait_gone(pids)


def _serve(data: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "REELHOUSE_DATA_DIR": str(data), "REELHOUSE_READ_PROCESSES": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", "from reelhouse.cli import main; main()", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _descendants(pid: int) -> list[int]:
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    out = [pid]
    for p in out:
        out += [child for child, ppid in parent.items() if ppid == p and child not in out]
    return out[1:]


def test_no_read_process_outlives_reelhouse_serve(tmp_path: Path) -> None:
    """SIGTERM (what systemd and docker stop send): uvicorn shuts the app down, the app
    its read processes."""
    data = tmp_path / "data"
    _made(data)
    port = free_port()
    _read_then_terminate(_serve(data, port), port)


def _read_then_terminate(proc: subprocess.Popen[bytes], port: int) -> None:
    """Once the server of ``proc`` answers on ``port``: a page from a read process, then
    SIGTERM; the server and its read processes end (``proc`` is killed if not)."""
    try:
        base = f"http://127.0.0.1:{port}"
        token = _logged_in(proc, base)
        r = httpx.get(base + "/api/library/shows/2", headers={"authorization": f"Bearer {token}"}, timeout=60)
        assert r.status_code == 200 and json.loads(r.content)["id"] == 2
        children = _descendants(proc.pid)
        assert children, "a read process (and its forkserver) run beside the server"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert not _wait_gone(children), "read processes outlived the server"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


#: A user's script that serves reelhouse without ``if __name__ == "__main__":``. Each
#: run of it writes its process id to the file named by $RUNS.
_GUARDLESS = """
import os, sys
with open(os.environ["RUNS"], "a") as runs:
    runs.write(f"{os.getpid()}\\n")
from reelhouse.cli import main
sys.argv[1:] = ["serve", "--port", os.environ["PORT"]]
main()
"""


def test_a_script_without_a_main_guard_runs_once(tmp_path: Path) -> None:
    """A read process starts from a forkserver (or spawn), whose children run the
    main script again (as ``__mp_main__``, to find what was defined there): a script
    serving reelhouse without ``if __name__ == "__main__":`` started its server again in
    every read process. The read processes are started without the main module
    (api/read_processes.py ``_without_main``): the script runs once."""
    data, runs, script = tmp_path / "data", tmp_path / "runs", tmp_path / "serve_library.py"
    _made(data)
    script.write_text(_GUARDLESS)
    port = free_port()
    env = {**os.environ, "REELHOUSE_DATA_DIR": str(data), "REELHOUSE_READ_PROCESSES": "1",
           "RUNS": str(runs), "PORT": str(port)}
    proc = subprocess.Popen([sys.executable, str(script)], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _read_then_terminate(proc, port)
    assert runs.read_text().split() == [str(proc.pid)]


def _logged_in(proc: subprocess.Popen[bytes], base: str) -> str:
    """The admin's token once the server of ``proc`` answers (60 s at most)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(base + "/api/health", timeout=1)
            break
        except httpx.HTTPError:
            assert proc.poll() is None and time.monotonic() < deadline, "reelhouse serve did not start"
            time.sleep(0.1)
    token: str = httpx.post(base + "/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD},
                            timeout=60).json()["token"]
    return token


_KILLED_PARENT = """
import asyncio, sys, time
from reelhouse.api.read_processes import PROCESS_NAME, ReadProcesses, _without_main

async def main() -> None:
    procs = ReadProcesses(sys.argv[1], 2)
    await asyncio.gather(procs.answer("show", 1, True, (2,)), procs.answer("show", 1, True, (1,)))
    print(*procs.pids(), flush=True)
    time.sleep(600)

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_no_read_process_outlives_a_killed_server(core: Core) -> None:
    """SIGKILL of the server process (the OOM killer): its read processes see their
    socket end and stop; the forkserver sees its parent go and stops."""
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_PARENT, core.settings.db_url], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert pids
        children = _descendants(proc.pid)
        assert set(pids) <= set(children)
        proc.kill()
        proc.wait(timeout=30)
        assert not _wait_gone(children), "read processes outlived the server"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _made(data: Path) -> None:
    """A database on ``data`` with the admin and a small library."""
    core = Core(load_settings(data_dir=data))
    try:
        fill(core, movies=20, shows=2)
        core.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
    finally:
        core.close()


def test_the_bodys_error_comes_back_as_it_was_raised(core: Core) -> None:
    procs = ReadProcesses(core.settings.db_url, 1)

    async def ask(name: str, *args: Any) -> Any:
        return await procs.answer(name, 1, True, args)

    try:
        with pytest.raises(NotFound, match="no show with id 999"):
            asyncio.run(ask("show", 999))
        with pytest.raises(InvalidInput, match="too deep"):
            asyncio.run(ask("media-files", None, False, None, 500, 100))
        ok = asyncio.run(ask("show", 2))
        assert ok.status_code == 200 and json.loads(ok.body)["id"] == 2
    finally:
        procs.close()


def test_only_a_read_process_is_told_nothing_of_the_main_module() -> None:
    """What a forkserver or spawn child is told of its parent (``_without_main``): a
    read process gets neither key after which ``multiprocessing.spawn.prepare`` runs the
    main script (by path or by module name); any other process is told as before."""
    told = {"init_main_from_path": "/home/me/serve.py", "init_main_from_name": "mine.serve", "sys_path": ["/x"]}
    prepare = _without_main(lambda name: dict(told))
    assert prepare(PROCESS_NAME) == {"sys_path": ["/x"]}
    assert prepare("another") == told
