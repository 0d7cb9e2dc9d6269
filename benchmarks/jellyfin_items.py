"""Jellyfin ``Items`` queries on a 100,000-item library (films and episodes).

Builds (once, cached) a reelhouse database of ``--films`` films and ``--shows`` ×
``--seasons`` × ``--episodes`` episodes, each with a present media file and its video
and audio streams, then serves it with uvicorn in a child process and times, over HTTP,
what Jellyfin clients ask for: a page of 100 films as jellyfin-web's library grid asks
(``SortBy=SortName``, ``Fields=PrimaryImageAspectRatio,MediaSourceCount``) at random
``StartIndex``; the same with ``Fields=MediaSources,MediaStreams,Overview`` (what
Findroid and Swiftfin ask for); a page of episodes across the whole library; films and
series mixed by ``DateCreated``; ``Items/Latest`` of the films and of the series (new
episodes grouped per series); and one unpaged query of 10,000+
items (time to first byte, total, and the server's peak RSS before and after).

Goal (issue 16): p99 ≤ 100 ms for a page of 100. On a shared, loaded machine the
latencies carry the other processes' queueing; ``server_cpu_ms_per_request`` (the
server process's CPU time per request, /proc) is the load-independent cost. Limit: the bare SQL page query on the
same database (``SELECT id … ORDER BY lower(title) LIMIT 100 OFFSET n``), which no
server answer can beat. Peer: a Jellyfin server is not run here (none is available to
install on this machine); jellyfin/jellyfin#15063 reports 20-50 s for such queries on
20k items. Prints one JSON object::

    python benchmarks/jellyfin_items.py [--samples 200] [--films 40000] [--shows 300]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from _setup import cache_root, cpu_seconds, emit, free_port, kill_groups, log, percentile, read_ready, spawn

HERE = Path(__file__).resolve().parent


def build(data: Path, films: int, shows: int, seasons: int, episodes: int) -> None:
    """The library, written with bulk inserts (the scanner would take an hour)."""
    from sqlalchemy import insert

    from reelhouse.config import load_settings
    from reelhouse.core import Core
    from reelhouse.db.models import Episode, MediaFile, MediaStream, Movie, Season, Show, SourceRow

    core = Core(load_settings(data_dir=data, log_level="WARNING"), consume_jobs=False)
    rnd = random.Random(1)
    words = ["the", "last", "night", "river", "city", "ghost", "winter", "blue", "iron", "secret",
             "garden", "star", "empire", "shadow", "summer", "king", "road", "silent", "red", "ocean"]

    def title() -> str:
        return " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 4))).title()

    try:
        core.users.add("admin", "admin-password", is_admin=True)
        with core.sessions() as s:
            s.execute(insert(SourceRow), [{"id": 1, "name": "disk", "kind": "local", "path": str(data)}])
            s.execute(insert(Movie), [{"id": i, "title": f"{title()} {i}", "year": 1950 + i % 75,
                                       "match_key": f"m{i}", "overview": "A film."} for i in range(1, films + 1)])
            s.execute(insert(Show), [{"id": i, "title": f"{title()} {i}", "year": 1990 + i % 35,
                                      "match_key": f"s{i}"} for i in range(1, shows + 1)])
            s.execute(insert(Season), [{"id": (sh - 1) * seasons + n, "show_id": sh, "number": n}
                                       for sh in range(1, shows + 1) for n in range(1, seasons + 1)])
            s.execute(insert(Episode), [{"id": (se - 1) * episodes + n, "season_id": se, "number": n,
                                         "title": f"Episode {n}"}
                                        for se in range(1, shows * seasons + 1) for n in range(1, episodes + 1)])
            n_eps = shows * seasons * episodes
            files = [{"id": i, "source_id": 1, "path": f"/Films/{i}.mkv", "size": 4_000_000_000 + i,
                      "kind": "movie", "movie_id": i, "duration": 6000.0, "container": "matroska,webm",
                      "video_codec": "h264", "audio_codec": "aac", "width": 1920, "height": 1080}
                     for i in range(1, films + 1)]
            files += [{"id": films + e, "source_id": 1, "path": f"/Shows/{e}.mkv", "size": 1_000_000_000 + e,
                       "kind": "episode", "episode_id": e, "show_id": (e - 1) // episodes // seasons + 1,
                       "duration": 2700.0, "container": "matroska,webm",
                       "video_codec": "h264", "audio_codec": "aac", "width": 1920, "height": 1080}
                      for e in range(1, n_eps + 1)]
            s.execute(insert(MediaFile), files)
            s.execute(insert(MediaStream), [row for f in files for row in (
                {"media_file_id": f["id"], "index": 0, "type": "video", "codec": "h264", "width": 1920,
                 "height": 1080},
                {"media_file_id": f["id"], "index": 1, "type": "audio", "codec": "aac", "channels": 6,
                 "language": "eng", "is_default": True})])
            s.commit()
    finally:
        core.close()


def serve(data: str, port: str) -> None:
    """Child: uvicorn around the library; prints a ready line."""
    import json

    import uvicorn

    from reelhouse.config import load_settings
    from reelhouse.core import Core
    from reelhouse.server import create_app

    core = Core(load_settings(data_dir=Path(data), log_level="WARNING"), consume_jobs=False)
    config = uvicorn.Config(create_app(core, close_core=True), host="127.0.0.1", port=int(port),
                            log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)

    async def announce() -> None:
        import asyncio
        while not server.started:
            await asyncio.sleep(0.05)
        print(json.dumps({"port": int(port), "pid": os.getpid()}), flush=True)

    import asyncio

    async def main() -> None:
        await asyncio.gather(server.serve(), announce())

    asyncio.run(main())


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--films", type=int, default=40_000)
    p.add_argument("--shows", type=int, default=300)
    p.add_argument("--seasons", type=int, default=10)
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()

    import httpx

    n_eps = args.shows * args.seasons * args.episodes
    data = cache_root() / f"jellyfin-items-{args.films}-{n_eps}"
    db = data / "reelhouse.db"
    if not db.exists():
        log(f"building {args.films} films + {n_eps} episodes in {data} …")
        started = time.perf_counter()
        build(data, args.films, args.shows, args.seasons, args.episodes)
        log(f"built in {time.perf_counter() - started:.0f} s")
    port = free_port()
    proc = spawn([sys.executable, str(Path(__file__).resolve()), "--serve", str(data), str(port)])
    rnd = random.Random(args.seed)
    try:
        ready = read_ready(proc, "reelhouse", 60)
        base = f"http://127.0.0.1:{ready['port']}/jellyfin"
        with httpx.Client(base_url=base, timeout=60) as http:
            login = http.post("/Users/AuthenticateByName", json={"Username": "admin", "Pw": "admin-password"},
                              headers={"Authorization": 'MediaBrowser Client="bench", Device="b", DeviceId="b", '
                                                        'Version="1", Token=""'}).json()
            http.headers["X-Emby-Token"] = login["AccessToken"]
            uid = login["User"]["Id"]
            views = http.get("/UserViews").json()["Items"]
            films_view, shows_view = views[0]["Id"], views[1]["Id"]

            def timed(path: str, params: dict[str, Any]) -> float:
                t = time.perf_counter()
                r = http.get(path, params=params)
                elapsed = (time.perf_counter() - t) * 1000
                if r.status_code != 200:
                    raise RuntimeError(f"{path} {params}: {r.status_code} {r.text[:200]}")
                return elapsed

            def grid() -> dict[str, Any]:
                return {"ParentId": films_view, "IncludeItemTypes": "Movie", "Recursive": "true",
                        "SortBy": "SortName,ProductionYear", "SortOrder": "Ascending", "Limit": 100,
                        "StartIndex": rnd.randrange(0, args.films - 100), "userId": uid,
                        "Fields": "PrimaryImageAspectRatio,MediaSourceCount", "ImageTypeLimit": 1,
                        "EnableImageTypes": "Primary,Backdrop,Banner,Thumb"}

            scenarios = {
                "films_grid": lambda: ("/Items", grid()),
                "films_with_media_sources": lambda: ("/Items", {**grid(),
                                                                "Fields": "MediaSources,MediaStreams,Overview"}),
                # a new filter each time: the count is never cached
                "films_grid_uncached_count": lambda: ("/Items", {**grid(), "Years": str(rnd.randrange(1950, 2025)),
                                                                 "StartIndex": 0}),
                "episodes_page": lambda: ("/Items", {"ParentId": shows_view, "IncludeItemTypes": "Episode",
                                                      "Recursive": "true", "Limit": 100,
                                                      "StartIndex": rnd.randrange(0, n_eps - 100)}),
                "films_and_series_by_date": lambda: ("/Items", {"IncludeItemTypes": "Movie,Series",
                                                                "Recursive": "true", "SortBy": "DateCreated",
                                                                "SortOrder": "Descending", "Limit": 100,
                                                                "StartIndex": rnd.randrange(0, 5000)}),
                "latest": lambda: ("/Items/Latest", {"Limit": 16, "ParentId": films_view}),
                # new episodes grouped per series (jellyfin/latest.py)
                "latest_series": lambda: ("/Items/Latest", {"Limit": 16, "ParentId": shows_view}),
            }
            results: dict[str, Any] = {}
            for name, make in scenarios.items():
                for _ in range(3):
                    timed(*make())  # warm-up
                cpu = cpu_seconds(ready["pid"])
                times = [timed(*make()) for _ in range(args.samples)]
                cpu = cpu_seconds(ready["pid"]) - cpu
                results[name] = {"p50_ms": round(percentile(times, 50), 2),
                                 "p99_ms": round(percentile(times, 99), 2),
                                 "max_ms": round(max(times), 2),
                                 "server_cpu_ms_per_request": round(cpu / args.samples * 1000, 2)}
                log(name, results[name])

            rss_before = peak_rss_kib(ready["pid"])
            t = time.perf_counter()
            first = None
            size = 0
            with http.stream("GET", "/Items", params={"ParentId": films_view, "Recursive": "true",
                                                       "IncludeItemTypes": "Movie"}) as r:
                for chunk in r.iter_bytes():
                    if first is None:
                        first = time.perf_counter() - t
                    size += len(chunk)
            total = time.perf_counter() - t
            unpaged = {"items": args.films, "first_byte_ms": round((first or 0) * 1000, 1),
                       "total_ms": round(total * 1000, 1), "bytes": size,
                       "chunked": "content-length" not in r.headers,
                       "server_peak_rss_mib_before": round(rss_before / 1024, 1),
                       "server_peak_rss_mib_after": round(peak_rss_kib(ready["pid"]) / 1024, 1)}

        conn = sqlite3.connect(db)
        sql = ("SELECT id FROM movies WHERE EXISTS (SELECT 1 FROM media_files WHERE movie_id = movies.id "
               "AND missing_since IS NULL) ORDER BY lower(title), id LIMIT 100 OFFSET ?")
        bare = []
        for _ in range(args.samples):
            t = time.perf_counter()
            conn.execute(sql, (rnd.randrange(0, args.films - 100),)).fetchall()
            bare.append((time.perf_counter() - t) * 1000)
        conn.close()
    finally:
        kill_groups([proc])

    emit({
        "benchmark": "jellyfin_items",
        "library": {"films": args.films, "episodes": n_eps, "items": args.films + n_eps},
        "samples": args.samples,
        "goal_p99_ms": 100,
        "count_cache_ttl_s": 10,
        "scenarios": results,
        "unpaged": unpaged,
        "limit_bare_sql_page": {"p50_ms": round(percentile(bare, 50), 2), "p99_ms": round(percentile(bare, 99), 2)},
        "peer": "Jellyfin not run here; jellyfin/jellyfin#15063 reports 20-50 s on 20k items",
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    })


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        sys.path.insert(0, str(HERE.parent))
        serve(sys.argv[2], sys.argv[3])
    else:
        main()
