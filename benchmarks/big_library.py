"""Big libraries: API latency with 100,000 files, and first-scan speed (issue 14).

    .venv/bin/python benchmarks/big_library.py [--files 100000] [--samples 15] [--clients 20]
        [--rate 1.5] [--postgres postgresql+psycopg://…] [--before DIR [--alternate N]]
        [--scan-local 2000] [--scan-ftp 1000]
        [--scan-only] [--scan-empty] [--scan-workers N]

**API.** A synthetic library goes straight into the database (films, shows with
seasons and episodes, one file each, about one file in five a film; one user with
watch progress): ``--files`` files. Then ``reelhouse serve`` runs in its own process
and is asked, in turn, for: the grid's first page, a deep grid page (keyset cursor), a
title search, a show page, continue watching, and a deep ``/api/library/media-files``
page (``per_page=50``, cursor). Three runs, on SQLite and (with ``--postgres`` or
``REELHOUSE_TEST_POSTGRES_URL``) on PostgreSQL:

- ``alone``: one client, one request at a time: the server's CPU ms per request of
  each kind and its latency without queueing;
- ``closed_loop``: ``--clients`` clients (asyncio + httpx, one connection and one login
  session each) with no pause for ``--samples`` seconds: throughput, and p50/p99 of each kind;
- ``paced_R_per_s_per_client``: the same clients each sending ``--rate`` requests a
  second (random think times), latency from the planned send time: a realistic load;
- ``limit_paced_health``: the paced run with ``GET /api/health`` only (answered on the
  event loop: no login, no database): the latency floor that this machine and its
  load give any request, measured in the same minute;
- ``limit_closed_loop_health`` (wrk only): the closed loop of ``--clients`` clients with
  ``GET /api/health`` only: the closed loop's floor in the same minutes (a closed-loop
  p99 of the pages can be no lower than this one's).

Both loaded runs give the server's CPU ms per request (``cpu_seconds`` of its process and
its children: the read processes) and the load generator's (same machine, same two cores). ``--before DIR`` (a source
tree of an earlier commit, e.g. ``git archive b810fc2 | tar -x -C DIR``) runs the same
three against that code's server on the same database (on a copy at its migration head
when this tree migrated past it: _before_db.py); with ``--alternate N`` too, first,
N rounds of the spread closed loop with both servers running side by side, alternating,
the order swapped each round (``alternating_spread``: each run's server CPU ms a
request, requests/s, p99 and load average, and their means). Goal p99 ≤ 30 ms
(``goal_met_paced``, ``goal_met_closed_loop``). The peer: ``count(*)`` of the files
table, the cheapest query that reads them all.

**First scan.** ``--scan-local`` files named like releases in a local folder and
``--scan-ftp`` on a forking pyftpdlib server (own process), hard links of one real 1 s
clip (``--scan-empty``: empty files), are scanned from scratch as ``reelhouse scan``
does (``run_scan_now``; the process also consumes jobs, as ``reelhouse serve`` does, and
``--scan-workers`` ``reelhouse worker`` processes help with phase 2): the time until
the library is browsable (phase 1 ended: every file named, placed in its film or show
and visible; the counts are read then) and until every file is probed (the scan
ended). Limits in the same run: the bare listing (``walk``), naming every path alone
in one process and, for FTP, ``rclone lsf -R`` of the same tree; then a rescan of the
unchanged FTP library. Goals: 100,000 local files browsable ≤ 120 s, 20,000 FTP
files ≤ 60 s. One JSON object on stdout.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _before_db import before_database, drop_before_schema
from _setup import Ftpd, base_args, cpu_seconds, emit, free_port, kill_groups, log, percentile, spawn

GOAL_P99_MS = 30.0
NOW = datetime(2026, 1, 1, tzinfo=UTC)
WORDS = ["night", "river", "star", "house", "green", "last", "city", "dream", "iron", "storm",
         "ghost", "blue", "secret", "king", "road", "winter", "shadow", "fire", "ocean", "glass"]


def _title(rng: random.Random) -> str:
    return " ".join(w.capitalize() for w in rng.sample(WORDS, 3)) + f" {rng.randint(1, 999)}"


def fill(url: str, data: Path, files: int) -> dict[str, Any]:
    """The synthetic library, by bulk inserts; returns ids and cursors for the clients."""
    from sqlalchemy import func, insert, select

    from reelhouse.config import load_settings
    from reelhouse.core import Core
    from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show, SourceRow, User, WatchProgress

    rng = random.Random(14)
    core = Core(load_settings(data_dir=data, database_url=url, log_level="WARNING"))
    try:
        n_movies = files // 5
        n_shows = max(1, (files - n_movies) // 80)  # 4 seasons x 20 episodes
        with core.sessions() as s:
            s.execute(insert(SourceRow), [{"id": 1, "name": "disk", "kind": "local", "path": str(data),
                                           "tls": "none", "verify_tls": True, "created_at": NOW}])
            s.execute(insert(User), [{"id": 1, "name": "bench", "password_hash": "x", "is_admin": True,
                                      "created_at": NOW}])
            genres = ["Drama", "Comedy", "Action", "Horror", "Documentary"]
            for lo in range(0, n_movies, 5000):
                s.execute(insert(Movie), [{"id": i, "title": _title(rng), "year": rng.randint(1950, 2025),
                                           "match_key": f"m{i}", "genres": [rng.choice(genres)],
                                           "needs_review": False, "locked": False, "created_at": NOW}
                                          for i in range(lo + 1, min(n_movies, lo + 5000) + 1)])
            s.execute(insert(Show), [{"id": i, "title": _title(rng), "year": rng.randint(1990, 2025),
                                      "match_key": f"s{i}", "needs_review": False, "locked": False,
                                      "created_at": NOW} for i in range(1, n_shows + 1)])
            s.execute(insert(Season), [{"id": sh * 10 + n, "show_id": sh, "number": n}
                                       for sh in range(1, n_shows + 1) for n in range(1, 5)])
            eps = [{"id": (sh * 10 + n) * 100 + e, "season_id": sh * 10 + n, "number": e}
                   for sh in range(1, n_shows + 1) for n in range(1, 5) for e in range(1, 21)]
            for lo in range(0, len(eps), 10000):
                s.execute(insert(Episode), eps[lo : lo + 10000])
            rows = [{"source_id": 1, "path": f"Films/{i:06d}.mkv", "size": 1, "kind": "movie", "movie_id": i,
                     "height": rng.choice([720, 1080, 2160]), "first_seen": NOW, "last_seen": NOW}
                    for i in range(1, n_movies + 1)]
            rows += [{"source_id": 1, "path": f"Shows/{e['id']:09d}.mkv", "size": 1, "kind": "episode",
                      "episode_id": e["id"], "show_id": e["season_id"] // 10, "height": 1080, "first_seen": NOW,
                      "last_seen": NOW} for e in eps]
            for lo in range(0, len(rows), 10000):
                s.execute(insert(MediaFile), rows[lo : lo + 10000])
            s.execute(insert(WatchProgress), [{"user_id": 1, "media_file_id": i, "position": 60.0,
                                               "watched": False, "updated_at": NOW}
                                              for i in rng.sample(range(1, len(rows) + 1), 500)])
            s.commit()
            total = s.scalar(select(func.count(MediaFile.id)))
            grid_keys = [(t.lower(), y or 0, "movie", i)
                         for i, t, y in s.execute(select(Movie.id, Movie.title, Movie.year))]
            grid_keys += [(t.lower(), y or 0, "show", i)
                          for i, t, y in s.execute(select(Show.id, Show.title, Show.year))]
        grid_keys.sort(key=lambda k: (k[0], k[1], 0 if k[2] == "movie" else 1, k[3]))
        if core.engine.dialect.name == "postgresql":
            with core.engine.begin() as conn:
                from sqlalchemy import text

                conn.execute(text("ANALYZE"))
        token, _ = core.auth_sessions.create(1, device="bench")
        # one session per client (as 20 browsers or apps would have), made in the client
        tokens = [core.auth_sessions.create(1, device=f"bench-{i}")[0] for i in range(64)]
    finally:
        core.close()

    def enc(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return {
        "files": total, "movies": n_movies, "shows": n_shows, "token": token, "tokens": tokens,
        "grid_cursors": [enc(list(k)) for k in grid_keys[60::60]],
        "file_cursors": [enc([1, r["path"]]) for r in sorted(rows, key=lambda r: r["path"])[50::50]],
        "show_ids": list(range(1, n_shows + 1)),
    }


def count_all(url: str, data: Path) -> float:
    """The peer: seconds of ``count(*)`` over the files table."""
    from sqlalchemy import text

    from reelhouse.db.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            t0 = time.perf_counter()
            for _ in range(5):
                conn.execute(text("SELECT count(*) FROM media_files")).scalar()
            return (time.perf_counter() - t0) / 5
    finally:
        engine.dispose()


def _kinds(fixture: dict[str, Any], rng: random.Random) -> dict[str, Callable[[], str]]:
    return {
        "grid_first_page": lambda: "/api/library/items?per_page=60",
        "grid_deep_page": lambda: f"/api/library/items?per_page=60&cursor={rng.choice(fixture['grid_cursors'])}",
        "title_search": lambda: f"/api/library/items?per_page=60&q={rng.choice(WORDS)}%20{rng.choice(WORDS)}",
        "show_page": lambda: f"/api/library/shows/{rng.choice(fixture['show_ids'])}",
        "continue_watching": lambda: "/api/library/continue",
        "media_files_deep_page":
            lambda: f"/api/library/media-files?per_page=50&cursor={rng.choice(fixture['file_cursors'])}",
    }


def _summary(times: dict[str, list[float]], seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, ms in times.items():
        out[kind] = {"n": len(ms), "p50_ms": round(percentile(ms, 50), 1), "p99_ms": round(percentile(ms, 99), 1)}
    all_ms = [t for ms in times.values() for t in ms]
    out["all"] = {"n": len(all_ms), "p50_ms": round(percentile(all_ms, 50), 1),
                  "p99_ms": round(percentile(all_ms, 99), 1), "requests_per_s": round(len(all_ms) / seconds, 1)}
    return out


async def load(base: str, fixture: dict[str, Any], clients: int, seconds: float,
               rate: float | None = None, health_only: bool = False) -> dict[str, Any]:
    """``clients`` clients for ``seconds``, each on one connection, asking for the six
    kinds in turn. ``rate`` None: closed loop (the next request as soon as the answer
    is in); else each client sends ``rate`` requests a second on average (think times
    drawn uniformly from 0..2/rate s) and a latency counts from the request's planned
    time (a client that falls behind pays for it: no coordinated omission).
    ``health_only``: ``GET /api/health`` instead (the limit: no database, no login)."""
    import httpx

    rng = random.Random(1)
    kinds = {"health": lambda: "/api/health"} if health_only else _kinds(fixture, rng)
    names = list(kinds)
    times: dict[str, list[float]] = {k: [] for k in names}
    errors: list[str] = []
    # clients and their connections first (an httpx client costs tens of ms to make):
    # the clock starts when every client is ready; each client has a session of its own
    tokens = fixture.get("tokens") or [fixture["token"]]
    https = [httpx.AsyncClient(base_url=base, headers={"authorization": f"Bearer {tokens[i % len(tokens)]}"},
                               timeout=30, limits=httpx.Limits(max_connections=1)) for i in range(clients)]
    await asyncio.gather(*(h.get("/api/health") for h in https))
    start = time.perf_counter()
    deadline = start + seconds

    async def client(i: int, http: httpx.AsyncClient) -> None:
        n = i
        planned = start + (rng.uniform(0, 1 / rate) if rate else 0.0)
        while True:
            if rate:
                now = time.perf_counter()
                if planned > now:
                    await asyncio.sleep(planned - now)
            else:
                planned = time.perf_counter()
            if planned >= deadline:
                return
            kind = names[n % len(names)]
            n += 1
            r = await http.get(kinds[kind]())
            took = time.perf_counter() - planned
            if r.status_code != 200:
                errors.append(f"{kind}: {r.status_code} {r.text[:100]}")
            else:
                times[kind].append(took * 1000)
            if rate:
                planned += rng.uniform(0, 2 / rate)

    try:
        await asyncio.gather(*(client(i, h) for i, h in enumerate(https)))
    finally:
        for h in https:
            await h.aclose()
    out = _summary(times, seconds)
    out["errors"] = errors[:5]
    return out


WRK_SCRIPT = Path(__file__).resolve().parent / "big_library_wrk.lua"


def load_wrk(base: str, fixture: dict[str, Any], clients: int, seconds: float, work: Path,
             spread: bool = False, health: bool = False) -> dict[str, Any]:
    """The closed loop driven by wrk (a C load generator: a few µs of CPU a request,
    where the Python client spends about as much CPU as the server): ``clients``
    connections, one wrk thread and one login session each, the six kinds in turn as
    :func:`load` asks for them (``big_library_wrk.lua``). Same shape as :func:`load`,
    plus ``client_cpu_ms_per_request`` (wrk's own user + system CPU) and wrk's own
    percentiles of all requests. The clients walk one list of URLs, each a line after
    the previous one, so most ask for a page another client has just asked for (what
    the page cache serves); ``spread``: client i starts at line i * lines / clients
    instead, so clients rarely share a URL within the page cache's 5 s (the cost of
    pages computed for each request). ``health``: every request is ``GET /api/health``
    (the floor: what the machine gives a request doing nothing under the same load)."""
    rng = random.Random(1)
    kinds = {"health": lambda: "/api/health"} if health else _kinds(fixture, rng)
    names = list(kinds)
    paths = work / "wrk-paths.tsv"
    paths.write_text("".join(f"{names[i % len(names)]}\t{kinds[names[i % len(names)]]()}\n"
                             for i in range(len(names) * 1000)))
    tokens = work / "wrk-tokens.txt"
    tokens.write_text("".join(t + "\n" for t in (fixture.get("tokens") or [fixture["token"]])))
    out = work / "wrk-out.tsv"
    out.unlink(missing_ok=True)
    env = dict(os.environ, BIG_LIBRARY_PATHS=str(paths), BIG_LIBRARY_TOKENS=str(tokens), BIG_LIBRARY_OUT=str(out),
               BIG_LIBRARY_STRIDE=str(len(names) * 1000 // clients if spread else 1))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["wrk", "-t", str(clients), "-c", str(clients), "-d", f"{seconds:g}s", "--timeout", "30s",
                    "-s", str(WRK_SCRIPT), base], env=env, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    times: dict[str, list[float]] = {k: [] for k in names}
    errors: list[str] = []
    wrk_own: list[str] = []
    for line in out.read_text().splitlines():
        fields = line.split("\t")
        if fields[0] == "#wrk":
            wrk_own = fields[1:]
        elif fields[1] != "200":
            errors.append(f"{fields[0]}: {fields[1]}")
        else:
            times[fields[0]].append(int(fields[2]) / 1000)
    result = _summary(times, seconds)
    result["errors"] = errors[:5]
    result["error_count"] = len(errors)
    n = max(1, result["all"]["n"])
    result["client_cpu_ms_per_request"] = round(
        ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000 / n, 3)
    if wrk_own:
        result["wrk_own"] = {"requests": int(wrk_own[0]), "p50_ms": round(float(wrk_own[2]) / 1000, 1),
                             "p99_ms": round(float(wrk_own[3]) / 1000, 1)}
    return result


def _measured(pids: list[int], phase: Callable[[], dict[str, Any]], database: str | None = None) -> dict[str, Any]:
    """Run ``phase`` and add the server's CPU ms per answered request (all its
    processes) and the load generator's own (same machine, same cores); ``database``
    (a PostgreSQL database's name): also the CPU of that database's backends
    (``db_cpu_ms_per_request``, every backend connected to it: run one server at a time)."""
    server0 = {p: cpu_seconds(p) for p in _with_children(pids)}  # read processes (read_processes) too
    db0 = _backends_cpu(database) if database else {}
    client0 = resource.getrusage(resource.RUSAGE_SELF)
    out = phase()
    client1 = resource.getrusage(resource.RUSAGE_SELF)
    n = max(1, out["all"]["n"])
    server1 = {p: cpu_seconds(p) for p in _with_children(pids)}
    used = sum(t - server0.get(p, 0.0) for p, t in server1.items() if t == t)  # a process gone: nan
    out["server_cpu_ms_per_request"] = round(used * 1000 / n, 2)
    out["server_processes"] = len(server1)
    out.setdefault("client_cpu_ms_per_request", round(  # wrk's is measured by load_wrk
        ((client1.ru_utime - client0.ru_utime) + (client1.ru_stime - client0.ru_stime)) * 1000 / n, 2))
    out["server_cpu_cores"] = round(out["server_cpu_ms_per_request"] * out["all"]["requests_per_s"] / 1000, 2)
    out["client_cpu_cores"] = round(out["client_cpu_ms_per_request"] * out["all"]["requests_per_s"] / 1000, 2)
    if database:
        db1 = _backends_cpu(database)
        db_used = sum(t - db0.get(p, 0.0) for p, t in db1.items() if t == t)
        out["db_cpu_ms_per_request"] = round(db_used * 1000 / n, 2)
        out["db_cpu_cores"] = round(out["db_cpu_ms_per_request"] * out["all"]["requests_per_s"] / 1000, 2)
    return out


def _database(url: str) -> str | None:
    """The database name of a PostgreSQL ``url``; None for SQLite."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.database if parsed.get_backend_name() == "postgresql" else None


def _backends_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to ``database`` (by the
    process title, "postgres: … USER DATABASE HOST(PORT) …"; readable as root, or as
    the user PostgreSQL runs as)."""
    out: dict[int, float] = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            pid = int(cmdline.parent.name)
            out[pid] = cpu_seconds(pid)
    return out


def single(base: str, fixture: dict[str, Any], pids: list[int], n: int = 60) -> dict[str, Any]:
    """One client, one request at a time: the server's CPU ms and the latency of each
    kind alone (what a request costs without queueing)."""
    import httpx

    rng = random.Random(2)
    out: dict[str, Any] = {}
    with httpx.Client(base_url=base, timeout=30,
                      headers={"authorization": f"Bearer {fixture['token']}"}) as http:
        for kind, url in _kinds(fixture, rng).items():
            cpu0 = sum(cpu_seconds(p) for p in _with_children(pids))
            ms = []
            for _ in range(n):
                t0 = time.perf_counter()
                http.get(url()).raise_for_status()
                ms.append((time.perf_counter() - t0) * 1000)
            out[kind] = {"server_cpu_ms": round((sum(cpu_seconds(p) for p in _with_children(pids)) - cpu0) * 1000 / n,
                                                2),
                         "p50_ms": round(percentile(ms, 50), 1)}
    return out


def serve(url: str, data: Path, source: Path | None = None) -> tuple[subprocess.Popen[bytes], int]:
    """``reelhouse serve`` on a free port (the code of the ``source`` tree if given); a
    port taken by another process between the pick and the bind (a shared machine) is
    retried on another."""
    for attempt in range(5):
        try:
            return _serve_on(free_port(), url, data, source)
        except PortTaken:
            log(f"  port taken, retrying ({attempt + 1})")
    raise RuntimeError("reelhouse serve: no free port after 5 tries")


class PortTaken(RuntimeError):
    """The port picked for ``reelhouse serve`` was taken before it bound."""


def _serve_on(port: int, url: str, data: Path, source: Path | None) -> tuple[subprocess.Popen[bytes], int]:
    env = dict(os.environ, REELHOUSE_DATA_DIR=str(data), REELHOUSE_DATABASE_URL=url, REELHOUSE_LOG_LEVEL="WARNING")
    if source is not None:
        env["PYTHONPATH"] = str(source)
    exe = Path(sys.executable).parent / "reelhouse"
    logfile = data / f"serve-{port}.log"
    with logfile.open("wb") as out:
        server = spawn([str(exe), "serve", "--port", str(port)], env=env, stdout=out, stderr=out)
    import httpx

    deadline = time.monotonic() + 90
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
            return server, port
        except httpx.HTTPError:
            if server.poll() is not None or time.monotonic() > deadline:
                kill_groups([server])
                text = logfile.read_text()
                if "address already in use" in text.lower():
                    raise PortTaken(port) from None
                raise RuntimeError(f"reelhouse serve did not start: {text[-2000:]}") from None
            time.sleep(0.2)


def _three_runs(base: str, pids: list[int], fixture: dict[str, Any], clients: int, seconds: float,
                rate: float, tool: str, work: Path, database: str | None = None) -> dict[str, Any]:
    """``tool``: the closed loop's load generator, ``wrk``, ``python`` or ``both``
    (``closed_loop`` by wrk, ``closed_loop_python`` by the asyncio + httpx client);
    ``database``: PostgreSQL's, whose backends' CPU is counted too (:func:`_measured`)."""
    asyncio.run(load(base, fixture, 4, 2.0))  # warm-up
    alone = single(base, fixture, pids)

    def measured(phase: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return _measured(pids, phase, database)

    out: dict[str, Any] = {"alone": alone}
    if tool in ("wrk", "both"):
        out["closed_loop"] = measured(lambda: load_wrk(base, fixture, clients, seconds, work))
        out["closed_loop"]["load_generator"] = "wrk (C), closed loop"
        out["closed_loop_spread"] = measured(lambda: load_wrk(base, fixture, clients, seconds, work, True))
        out["closed_loop_spread"]["load_generator"] = "wrk (C), closed loop, clients far apart in the URL list"
        out["limit_closed_loop_health"] = measured(lambda: load_wrk(base, fixture, clients, seconds, work,
                                                                    health=True))
        out["limit_closed_loop_health"]["load_generator"] = "wrk (C), closed loop, GET /api/health only"
    if tool in ("python", "both"):
        key = "closed_loop_python" if tool == "both" else "closed_loop"
        out[key] = measured(lambda: asyncio.run(load(base, fixture, clients, seconds)))
        out[key]["load_generator"] = "asyncio + httpx (Python), closed loop"
    paced = measured(lambda: asyncio.run(load(base, fixture, clients, seconds, rate)))
    paced["load_generator"] = "asyncio + httpx (Python), paced: latency from the planned send time"
    limit = asyncio.run(load(base, fixture, clients, seconds, rate, health_only=True))["all"]
    closed = out["closed_loop"]
    out.update({f"paced_{rate:g}_per_s_per_client": paced, "limit_paced_health": limit,
                "goal_met_paced": paced["all"]["p99_ms"] <= GOAL_P99_MS and not paced["errors"],
                "goal_met_closed_loop": closed["all"]["p99_ms"] <= GOAL_P99_MS and not closed["errors"]})
    return out


def _phases(url: str, data: Path, fixture: dict[str, Any], clients: int, seconds: float, rate: float,
            source: Path | None, tool: str) -> dict[str, Any]:
    server, port = serve(url, data, source)
    try:
        return _three_runs(f"http://127.0.0.1:{port}", [server.pid], fixture, clients, seconds, rate, tool, data,
                           _database(url))
    finally:
        kill_groups([server])


def _alternating(url: str, data: Path, fixture: dict[str, Any], clients: int, seconds: float, before: Path,
                 rounds: int, before_url: str, before_data: Path) -> dict[str, Any]:
    """The spread closed loop (wrk) against this tree's server and ``before``'s, both
    running on the same database (``before_url`` and ``before_data``: its copy at the
    earlier tree's migration head, _before_db.py), in ``rounds`` rounds, each server once a round, the
    order swapped every round (the machine's load moves within a minute: alternating
    rounds compare the two in the same minutes). Each run: server CPU ms a request,
    requests a second, p50/p99, the load average as it began; then the means."""
    servers = {"reelhouse": serve(url, data), "before": serve(before_url, before_data, before)}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
    try:
        for _, port in servers.values():
            asyncio.run(load(f"http://127.0.0.1:{port}", fixture, 4, 2.0))  # warm-up
        for i in range(rounds):
            order = list(servers.items())
            for name, (server, port) in order if i % 2 == 0 else order[::-1]:
                load_avg = os.getloadavg()[0]
                out = _measured([server.pid], lambda port=port: load_wrk(f"http://127.0.0.1:{port}", fixture, clients,
                                                                          seconds, data, True), _database(url))
                runs[name].append({"server_cpu_ms_per_request": out["server_cpu_ms_per_request"],
                                   "server_processes": out["server_processes"],
                                   **({"db_cpu_ms_per_request": out["db_cpu_ms_per_request"]}
                                      if "db_cpu_ms_per_request" in out else {}),
                                   "requests_per_s": out["all"]["requests_per_s"], "p50_ms": out["all"]["p50_ms"],
                                   "p99_ms": out["all"]["p99_ms"], "errors": out["error_count"],
                                   "loadavg_1min": round(load_avg, 1)})
    finally:
        kill_groups([server for server, _ in servers.values()])

    def mean(name: str, key: str) -> float:
        return round(sum(r[key] or 0 for r in runs[name]) / max(1, len(runs[name])), 2)

    return {"load_generator": "wrk (C), closed loop, clients far apart in the URL list; alternating rounds",
            "rounds": runs,
            "mean": {name: {key: mean(name, key) for key in ("server_cpu_ms_per_request", "db_cpu_ms_per_request",
                                                              "requests_per_s", "p99_ms", "loadavg_1min")
                            if key != "db_cpu_ms_per_request" or _database(url)}
                     for name in runs}}


def _with_children(pids: list[int]) -> list[int]:
    """``pids`` and every process below them (Linux /proc)."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    out = list(pids)
    for pid in out:
        out += [child for child, ppid in parent.items() if ppid == pid and child not in out]
    return out


def _cluster_phases(url: str, data: Path, fixture: dict[str, Any], clients: int, seconds: float, rate: float,
                    nodes: int, tool: str) -> dict[str, Any]:
    """The three runs through nginx (deploy/nginx.conf) in front of ``nodes`` nodes and
    one worker on this PostgreSQL and a redis-server of its own: the supported way to
    use more than one core (see benchmarks/README.md, "Scale"). CPU: every process of
    the cluster, nginx included."""
    from reelhouse.demo.cluster import Cluster

    port = free_port()
    redis = spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                  stdout=subprocess.DEVNULL)
    try:
        with Cluster(data / f"cluster{nodes}", url, f"redis://127.0.0.1:{port}/0", nodes=nodes,
                     workers=1) as cluster:
            pids = _with_children([p.pid for p in cluster.procs])  # nginx's workers too
            return _three_runs(cluster.proxy_url, pids, fixture, clients, seconds, rate, tool, data)
    finally:
        kill_groups([redis])


def api_run(url: str, data: Path, files: int, clients: int, seconds: float, rate: float,
            before: Path | None, nodes: int = 0, tool: str = "python", alternate: int = 0) -> dict[str, Any]:
    """Fill the library, then the three runs against this tree's server and (``before``:
    the source tree of an earlier commit) against that one's, on the same database."""
    t0 = time.monotonic()
    saved = data / f"fixture-{files}.json"
    if saved.is_file():  # --keep: a library filled by an earlier run
        fixture = json.loads(saved.read_text())
        log(f"  reusing the library of {saved}")
    else:
        if data.exists() and url.startswith("sqlite"):
            shutil.rmtree(data)  # a fill that did not finish
        fixture = fill(url, data, files)
        saved.write_text(json.dumps(fixture))
    fill_s = time.monotonic() - t0
    out: dict[str, Any] = {"files": fixture["files"], "movies": fixture["movies"], "shows": fixture["shows"],
                           "fill_s": round(fill_s, 1), "goal_p99_ms": GOAL_P99_MS}
    # the earlier tree on its own copy when this tree migrated past its head (_before_db.py)
    before_url, before_data = before_database(url, data, before) if before is not None else (url, data)
    if before is not None and alternate > 0:
        log(f"  {alternate} alternating rounds against the server of {before}")
        out["alternating_spread"] = _alternating(url, data, fixture, clients, seconds, before, alternate,
                                                 before_url, before_data)
    out["reelhouse"] = _phases(url, data, fixture, clients, seconds, rate, None, tool)
    if before is not None:
        log(f"  the same with the server of {before}")
        out["before"] = _phases(before_url, before_data, fixture, clients, seconds, rate, before, tool)
        drop_before_schema(url)
    if nodes > 0:
        log(f"  {nodes} nodes behind nginx")
        out[f"nodes_{nodes}_nginx"] = _cluster_phases(url, data, fixture, clients, seconds, rate, nodes, tool)
    out["peer_count_all_files_ms"] = round(count_all(url, data) * 1000, 1)
    return out


def _release_names(n: int) -> list[str]:
    rng = random.Random(7)
    names = []
    for i in range(n):
        if i % 5 == 0:
            t = _title(rng).replace(" ", ".")
            names.append(f"Films/{t} ({1950 + i % 70})/{t}.{1950 + i % 70}.1080p.BluRay.x264.mkv")
        else:
            show = f"Show {i // 80:04d}"
            names.append(f"Shows/{show}/Season {(i // 20) % 4 + 1:02d}/{show.replace(' ', '.')}."
                         f"S{(i // 20) % 4 + 1:02d}E{i % 20 + 1:02d}.720p.WEB.mkv")
    return names


def _tiny_clip(tmp: Path) -> Path:
    """A 1 s 64x36 H.264/AAC Matroska clip (~10 KiB), made once with ffmpeg."""
    clip = tmp / "tiny.mkv"
    if not clip.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x36:rate=10",
                        "-f", "lavfi", "-i", "sine=frequency=440", "-t", "1", "-c:v", "libx264",
                        "-preset", "ultrafast", "-c:a", "aac", "-y", str(clip)], check=True)
    return clip


def _tree(root: Path, n: int, clip: Path | None) -> list[str]:
    """``n`` files named like releases under ``root``: hard links of ``clip`` (real media:
    phase 2 probes them) or empty files (nothing to probe)."""
    names = list(dict.fromkeys(_release_names(n)))  # a few random film titles repeat
    made: set[Path] = set()
    for i, name in enumerate(names):
        if clip is not None and i and i % 50_000 == 0:  # a file has at most 65,000 links (ext4)
            clip = Path(shutil.copy(clip, clip.with_name(f"tiny-{i}.mkv")))
        p = root / name
        if p.parent not in made:
            p.parent.mkdir(parents=True, exist_ok=True)
            made.add(p.parent)
        if clip is not None:
            os.link(clip, p)
        else:
            p.write_bytes(b"")
    return names


def _library_counts(core: Any, source_id: int) -> dict[str, int]:
    """What the library shows of the source: files, files placed in a film or episode,
    films and shows with a present file, files not probed yet."""
    from sqlalchemy import func, or_, select

    from reelhouse.db.models import Episode, MediaFile, Season

    present = (MediaFile.source_id == source_id) & MediaFile.missing_since.is_(None)
    with core.sessions() as s:
        return {
            "files": s.scalar(select(func.count()).where(present)) or 0,
            "files_placed": s.scalar(select(func.count()).where(
                present, or_(MediaFile.movie_id.is_not(None), MediaFile.episode_id.is_not(None)))) or 0,
            "films": s.scalar(select(func.count(func.distinct(MediaFile.movie_id))).where(present)) or 0,
            "shows": s.scalar(select(func.count(func.distinct(Season.show_id)))
                              .select_from(MediaFile).join(Episode, Episode.id == MediaFile.episode_id)
                              .join(Season, Season.id == Episode.season_id).where(present)) or 0,
            "not_probed": s.scalar(select(func.count()).where(
                present, or_(MediaFile.container.is_(None),
                             MediaFile.probe_bytes.is_(None) & MediaFile.probe_error.is_(None)))) or 0,
        }


def _timed_scan(core: Any, source_id: int) -> dict[str, Any]:
    """Scan from scratch: seconds until phase 1 ended (browsable; the library counts then)
    and until the scan ended (every file probed)."""
    try:
        from reelhouse.library.scanner import PHASE1_DONE
    except ImportError:  # a scanner of one phase (before issue 14): browsable when it ends
        PHASE1_DONE = "\0"

    marks: dict[str, Any] = {}
    t0 = time.monotonic()

    def observe(counts: dict[str, int], message: str) -> None:
        if message.startswith(PHASE1_DONE) and "browsable_s" not in marks:
            marks["browsable_s"] = round(time.monotonic() - t0, 2)
            marks["at_browsable"] = _library_counts(core, source_id)
            log(f"browsable after {marks['browsable_s']} s: {marks['at_browsable']}")

    report = core.jobs.run_scan_now(source_id, observe)
    took = time.monotonic() - t0
    marks.update(fully_probed_s=round(took, 2), files=report.files_seen, probed=report.probed,
                 errors=len(report.errors), outcome=report.outcome, at_end=_library_counts(core, source_id))
    marks.setdefault("browsable_s", marks["fully_probed_s"])
    marks.setdefault("at_browsable", marks["at_end"])
    marks["browsable_files_per_s"] = round(report.files_seen / marks["browsable_s"], 1)
    return marks


def _naming_s(names: list[str], tmp: Path) -> float:
    """The naming limit: seconds to name every path, nothing else, in a fresh process
    (no cache of this one's warms it, none of its caches is warmed for the scan)."""
    listing = tmp / "names.json"
    listing.write_text(json.dumps(names))
    code = ("import json, sys, time\n"
            "from reelhouse.library.naming import parse_media_path\n"
            "names = json.load(open(sys.argv[1]))\n"
            "t0 = time.monotonic()\n"
            "for n in names: parse_media_path(n)\n"
            "print(time.monotonic() - t0)\n")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    out = subprocess.run([sys.executable, "-c", code, str(listing)], env=env, check=True, capture_output=True,
                         text=True).stdout
    return float(out.strip().splitlines()[-1])


def _workers(n: int, data: Path) -> list[subprocess.Popen[bytes]]:
    env = dict(os.environ, REELHOUSE_DATA_DIR=str(data), REELHOUSE_LOG_LEVEL="WARNING")
    exe = Path(sys.executable).parent / "reelhouse"
    return [spawn([str(exe), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(n)]


def scan_run(local_n: int, ftp_n: int, tmp: Path, clip: bool = True, workers: int = 0) -> dict[str, Any]:
    """First scans of ``local_n`` local and ``ftp_n`` FTP files (see the module doc)."""
    from reelhouse.config import load_settings
    from reelhouse.core import Core
    from reelhouse.sources.local import LocalSource
    from reelhouse.sources.registry import SourceSpec
    from reelhouse.sources.walk import walk_parallel

    media = _tiny_clip(tmp) if clip else None
    out: dict[str, Any] = {"content": "1 s H.264/AAC clip (hard links)" if clip else "empty files",
                           "worker_processes": workers}
    for kind, n in (("local", local_n), ("ftp", ftp_n)):
        if n <= 0:
            continue
        root = tmp / f"tree-{kind}"
        names = _tree(root, n, media)
        data = tmp / f"scan-{kind}"
        core = Core(load_settings(data_dir=data, log_level="WARNING"))
        procs = _workers(workers, data)
        try:
            res: dict[str, Any] = {"naming_alone_s": round(_naming_s(names, tmp), 2)}
            if kind == "local":
                row = core.sources.create(SourceSpec(name="disk", kind="local", path=str(root)))
                t0 = time.monotonic()
                listed = sum(len(r) for _, r in LocalSource(root).walk("") if isinstance(r, list))
                res.update(bare_listing_s=round(time.monotonic() - t0, 2), entries_listed=listed)
                res.update(_timed_scan(core, row.id))
                res["goal_browsable_100k_s"] = 120
                res["browsable_100k_s_extrapolated"] = round(100_000 / res["browsable_files_per_s"])
            else:
                with Ftpd(root, forking=True) as ftpd:
                    row = core.sources.create(SourceSpec(name="ftp", kind="ftp", host="127.0.0.1", port=ftpd.port,
                                                         username="reel", password="house"))
                    src = core.sources.source(row.id)
                    t0 = time.monotonic()
                    listed = sum(len(r) for _, r in walk_parallel(src, "", workers=4) if isinstance(r, list))
                    res.update(bare_listing_s=round(time.monotonic() - t0, 2), entries_listed=listed)
                    if shutil.which("rclone"):
                        env = ftpd.rclone_env(tmp)
                        t0 = time.monotonic()
                        subprocess.run(["rclone", "lsf", "-R", "benchftp:"], env=env, check=True,
                                       capture_output=True)
                        res["rclone_lsf_R_s"] = round(time.monotonic() - t0, 2)
                    res.update(_timed_scan(core, row.id))
                    t0 = time.monotonic()
                    core.jobs.run_scan_now(row.id)
                    res["rescan_unchanged_s"] = round(time.monotonic() - t0, 2)
                    res["rescan_over_listing"] = round(res["rescan_unchanged_s"] / res["bare_listing_s"], 2)
                res["goal_browsable_20k_s"] = 60
                res["browsable_20k_s_extrapolated"] = round(20_000 / res["browsable_files_per_s"])
            res["browsable_over_naming"] = round(res["browsable_s"] / max(res["naming_alone_s"], 0.01), 2)
            out[kind] = res
        finally:
            kill_groups(procs)
            core.close()
        shutil.rmtree(root, ignore_errors=True)
    return out


def main() -> None:
    p = base_args("big library API latency and first-scan speed", 15, "seconds of load per database")
    p.add_argument("--files", type=int, default=100_000)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--before", type=Path, default=None,
                   help="source tree of an earlier commit (git archive) to measure beside this one")
    p.add_argument("--alternate", type=int, default=0,
                   help="with --before: N rounds of the spread closed loop (wrk), the two servers side by side, "
                        "alternating, order swapped each round (default: not)")
    p.add_argument("--nodes", type=int, default=0,
                   help="PostgreSQL: also N nodes + 1 worker behind nginx, with a redis-server (default: not)")
    p.add_argument("--rate", type=float, default=1.5,
                   help="requests a second of each client in the paced run (default 1.5)")
    p.add_argument("--postgres", default=os.environ.get("REELHOUSE_TEST_POSTGRES_URL", ""))
    p.add_argument("--scan-local", type=int, default=2000)
    p.add_argument("--scan-ftp", type=int, default=1000)
    p.add_argument("--scan-only", action="store_true", help="skip the API part")
    p.add_argument("--no-sqlite", action="store_true", help="API part: PostgreSQL only")
    p.add_argument("--scan-empty", action="store_true", help="empty files instead of a real 1 s clip")
    p.add_argument("--scan-workers", type=int, default=0, help="`reelhouse worker` processes beside the scan")
    p.add_argument("--keep", type=Path, default=None,
                   help="keep the filled libraries in this folder (PostgreSQL: a schema named after it) "
                        "and reuse them in the next run with the same --files")
    p.add_argument("--load-tool", choices=["auto", "wrk", "python", "both"], default="auto",
                   help="closed loop's load generator: wrk when on PATH (auto), the Python client, or both")
    args = p.parse_args()
    tool = args.load_tool
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    result: dict[str, Any] = {"benchmark": "big_library", "clients": args.clients, "seconds": args.samples,
                              "closed_loop_load_generator": tool, "loadavg_start": os.getloadavg()}
    with contextlib.ExitStack() as stack:
        if args.keep is not None:
            tmp = args.keep.resolve()
            tmp.mkdir(parents=True, exist_ok=True)
        else:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="reelhouse-big-")))
        if not args.scan_only and not args.no_sqlite:
            log(f"SQLite: {args.files} files")
            result["sqlite"] = api_run(f"sqlite:///{tmp / 'sqlite' / 'reelhouse.db'}", tmp / "sqlite", args.files,
                                       args.clients, args.samples, args.rate, args.before, tool=tool,
                                       alternate=args.alternate)
        if args.postgres and not args.scan_only:
            from sqlalchemy import create_engine, text

            # --keep: one schema per kept folder and size, kept for the next run
            schema = (f"rh_big_keep_{uuid.uuid5(uuid.NAMESPACE_URL, f'{tmp}:{args.files}').hex[:10]}"
                      if args.keep is not None else f"rh_big_{uuid.uuid4().hex[:10]}")
            admin = create_engine(args.postgres)
            with admin.begin() as conn:
                if args.keep is None or not (tmp / "pg" / f"fixture-{args.files}.json").is_file():
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                    conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                log(f"PostgreSQL: {args.files} files")
                sep = "&" if "?" in args.postgres else "?"
                url = f"{args.postgres}{sep}options={quote(f'-csearch_path={schema}')}"
                result["postgresql"] = api_run(url, tmp / "pg", args.files, args.clients, args.samples, args.rate,
                                               args.before, args.nodes, tool=tool, alternate=args.alternate)
            finally:
                if args.keep is None:
                    with admin.begin() as conn:
                        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
        if args.scan_local > 0 or args.scan_ftp > 0:
            log("first scans")
            result["first_scan"] = scan_run(args.scan_local, args.scan_ftp, tmp, not args.scan_empty,
                                            args.scan_workers)
    result["loadavg"] = os.getloadavg()
    result["cpus"] = os.cpu_count()
    emit(result)


if __name__ == "__main__":
    main()
