"""Two nodes: throughput of the API and of streams through nginx with 2 nodes vs 1.

    .venv/bin/python benchmarks/two_nodes.py [--seconds 10] [--clients 16] [--postgres URL]

Each run starts :class:`reelhouse.demo.cluster.Cluster` (``reelhouse serve`` nodes and a
worker on one PostgreSQL schema and one redis-server, behind nginx running
``deploy/nginx.conf``), a pyftpdlib server (own process) with a 256 MiB film, and scans
it. Then ``--clients`` concurrent clients (asyncio + httpx) for ``--seconds``: half ask
for grid pages, half read 1 MiB ranges of the film at random offsets. Reported:
requests/s and MiB/s through nginx for 1 node and for 2 nodes, and 1 node without
nginx (the proxy's cost).

HLS: ``--hls-files`` H.264 clips (640x360, 60 s, made with ffmpeg) beside the film, one
viewer per clip reading its lowest transcoded rendition's segments one after the other
as fast as they come (each a cache miss: an encoder makes it), for ``--seconds``; then
the same segments again (cache hits). nginx hashes HLS URLs by file id, so the clips
spread over the nodes (reported: clips per node) and each node runs its own encoders
(``hls_max_encoders``, 2 per node: with more viewers than that on one node, the rest
get 503, counted as ``busy``). Reported: segments/s and MiB/s for 1 node and 2 nodes.

Needs PostgreSQL (``--postgres`` or ``REELHOUSE_TEST_POSTGRES_URL``), redis-server,
nginx and ffmpeg. One JSON object on stdout.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _setup import FTP_PASSWORD, FTP_USER, Ftpd, base_args, emit, free_port, kill_groups, log, spawn

MiB = 1024 * 1024
FILM = "Films/Big.Buck.Bunny.2008.1080p.mkv"


async def load(url: str, token: str, stream_path: str, size: int, clients: int, seconds: float) -> dict[str, Any]:
    import httpx

    rng = random.Random(3)
    counts = {"api": 0, "stream": 0, "bytes": 0, "errors": 0}
    headers = {"authorization": f"Bearer {token}"}
    deadline = time.monotonic() + seconds

    async def client(i: int) -> None:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30,
                                     limits=httpx.Limits(max_connections=1)) as http:
            while time.monotonic() < deadline:
                if i % 2:
                    r = await http.get("/api/library/items?per_page=60")
                    counts["api" if r.status_code == 200 else "errors"] += 1
                else:
                    off = rng.randrange(0, size - MiB)
                    r = await http.get(stream_path, headers={"range": f"bytes={off}-{off + MiB - 1}"})
                    if r.status_code == 206 and len(r.content) == MiB:
                        counts["stream"] += 1
                        counts["bytes"] += MiB
                    else:
                        counts["errors"] += 1

    await asyncio.gather(*(client(i) for i in range(clients)))
    return {"api_requests_per_s": round(counts["api"] / seconds, 1),
            "streams_per_s": round(counts["stream"] / seconds, 1),
            "stream_mib_per_s": round(counts["bytes"] / MiB / seconds, 1), "errors": counts["errors"]}


async def hls_load(url: str, playlists: list[str], seconds: float) -> dict[str, Any]:
    """One viewer per playlist URL (a rendition's, with its token): its segments in order
    for ``seconds``, then the same ones again (from the node's cache)."""
    from urllib.parse import urljoin

    import httpx

    counts = {"made": 0, "made_bytes": 0, "cached": 0, "cached_bytes": 0, "busy": 0, "errors": 0}
    took = {"made": seconds, "cached": 0.0}

    async def viewer(playlist: str, http: httpx.AsyncClient) -> list[str]:
        text = (await http.get(playlist)).text
        segments = [urljoin(playlist, line) for line in text.splitlines() if line and not line.startswith("#")]
        done: list[str] = []
        deadline = time.monotonic() + seconds
        for seg in segments:
            if time.monotonic() > deadline:
                break
            r = await http.get(seg)
            if r.status_code == 200:
                counts["made"] += 1
                counts["made_bytes"] += len(r.content)
                done.append(seg)
            else:
                counts["busy" if r.status_code == 503 else "errors"] += 1
                await asyncio.sleep(0.5)
        return done

    async def again(done: list[str], http: httpx.AsyncClient) -> None:
        for seg in done:
            r = await http.get(seg)
            if r.status_code == 200:
                counts["cached"] += 1
                counts["cached_bytes"] += len(r.content)
            else:
                counts["errors"] += 1

    async with httpx.AsyncClient(base_url=url, timeout=120, limits=httpx.Limits(max_connections=64)) as http:
        made = await asyncio.gather(*(viewer(url + p, http) for p in playlists))
        t0 = time.monotonic()
        await asyncio.gather(*(again(d, http) for d in made))
        took["cached"] = time.monotonic() - t0
    return {"viewers": len(playlists),
            "segments_made_per_s": round(counts["made"] / took["made"], 2),
            "made_mib_per_s": round(counts["made_bytes"] / MiB / took["made"], 2),
            "segments_cached_per_s": round(counts["cached"] / max(took["cached"], 1e-3), 1),
            "cached_mib_per_s": round(counts["cached_bytes"] / MiB / max(took["cached"], 1e-3), 1),
            "busy_503": counts["busy"], "errors": counts["errors"]}


def _hls_playlists(url: str, token: str, clips: list[int]) -> list[str]:
    """The lowest transcoded rendition's playlist path (with a playback token) of each clip."""
    import re

    import httpx

    out = []
    for fid in clips:
        master = httpx.get(f"{url}/api/library/media-files/{fid}/hls/master.m3u8",
                           headers={"authorization": f"Bearer {token}"}, timeout=60).text
        track = next(line for line in master.splitlines() if re.match(r"[0-9]+p\.m3u8", line))
        out.append(f"/api/library/media-files/{fid}/hls/{track}")
    return out


def run(nodes: int, pg: str, redis_url: str, ftp_port: int, tmp: Path, clients: int, seconds: float) -> dict[str, Any]:
    import httpx
    from sqlalchemy import create_engine, text

    from reelhouse.core import Core
    from reelhouse.demo.cluster import Cluster
    from reelhouse.sources.registry import SourceSpec

    schema = f"rh_nodes_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in pg else "?"
    url = f"{pg}{sep}options={quote(f'-csearch_path={schema}')}"
    try:
        with Cluster(tmp / f"cluster{nodes}", url, redis_url, nodes=nodes, workers=1) as cluster:
            core = Core(cluster.settings())
            try:
                user = core.users.add("bench", "bench-password", is_admin=True)
                sid = core.sources.create(SourceSpec(name="ftp", kind="ftp", host="127.0.0.1", port=ftp_port,
                                                     username=FTP_USER, password=FTP_PASSWORD)).id
                core.jobs.run_scan_now(sid)
                token, info = core.auth_sessions.create(user.id, device="bench")
                files = httpx.get(cluster.proxy_url + "/api/library/media-files?per_page=100",
                                  headers={"authorization": f"Bearer {token}"}).json()["items"]
                film = next(f for f in files if f["path"] == FILM)
                fid = film["id"]
                size = film["size"]
                clips = [f["id"] for f in files if f["path"].startswith("Clips/")]
                play = core.signer.playback(user.id, fid, f"s:{info.id}")
                stream = f"/api/library/media-files/{fid}/stream?token={play}"
            finally:
                core.close()
            asyncio.run(load(cluster.proxy_url, token, stream, size, 4, 1.0))  # warm-up
            out = {"through_nginx": asyncio.run(load(cluster.proxy_url, token, stream, size, clients, seconds))}
            if nodes == 1:
                out["direct_to_the_node"] = asyncio.run(load(cluster.node_urls[0], token, stream, size, clients,
                                                             seconds))
            if clips:
                log(f"{nodes} node(s): HLS of {len(clips)} clips")
                out["hls"] = asyncio.run(hls_load(cluster.proxy_url, _hls_playlists(cluster.proxy_url, token, clips),
                                                  seconds))
                out["hls"]["clips_per_node"] = [
                    len(list((cluster.base / f"node{i + 1}" / "hls" / "cache").glob("*"))) for i in range(nodes)]
            return out
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    p = base_args("two nodes vs one through nginx", 10, "seconds of load per run (default 10)")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--postgres", default=os.environ.get("REELHOUSE_TEST_POSTGRES_URL", ""))
    p.add_argument("--hls-files", type=int, default=4, help="clips for the HLS figures (0: none)")
    args = p.parse_args()
    if not args.postgres:
        sys.exit("needs --postgres or REELHOUSE_TEST_POSTGRES_URL")
    with tempfile.TemporaryDirectory(prefix="reelhouse-nodes-") as tmp_s:
        tmp = Path(tmp_s)
        root = tmp / "ftp"
        (root / FILM).parent.mkdir(parents=True)
        (root / FILM).write_bytes(os.urandom(256 * MiB))
        from reelhouse.demo.media import make_clip

        for i in range(args.hls_files):
            make_clip(root / "Clips" / f"Clip.{i + 1}.{2001 + i}.mp4", seconds=60, width=640, height=360,
                      tone_hz=300 + 100 * i)
        port = free_port()
        redis = spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                       "--appendonly", "no"], stdout=subprocess.DEVNULL)
        try:
            with Ftpd(root) as ftpd:
                result: dict[str, Any] = {"benchmark": "two_nodes", "clients": args.clients,
                                          "seconds": args.samples}
                for nodes in (1, 2):
                    log(f"{nodes} node(s)")
                    result[f"nodes_{nodes}"] = run(nodes, args.postgres, f"redis://127.0.0.1:{port}/0",
                                                   ftpd.port, tmp, args.clients, args.samples)
        finally:
            kill_groups([redis])
    one, two = result["nodes_1"]["through_nginx"], result["nodes_2"]["through_nginx"]
    result["api_speedup_2_vs_1"] = round(two["api_requests_per_s"] / max(one["api_requests_per_s"], 0.1), 2)
    result["stream_speedup_2_vs_1"] = round(two["stream_mib_per_s"] / max(one["stream_mib_per_s"], 0.1), 2)
    if args.hls_files:
        h1, h2 = result["nodes_1"]["hls"], result["nodes_2"]["hls"]
        result["hls_made_speedup_2_vs_1"] = round(h2["segments_made_per_s"] / max(h1["segments_made_per_s"], 0.01), 2)
        result["hls_cached_speedup_2_vs_1"] = round(h2["segments_cached_per_s"] /
                                                    max(h1["segments_cached_per_s"], 0.01), 2)
    result["loadavg"] = os.getloadavg()
    result["cpus"] = os.cpu_count()
    emit(result)


if __name__ == "__main__":
    main()
