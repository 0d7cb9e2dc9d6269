"""HLS and watch parties on two nodes behind nginx (issue 14), through the shipped
``deploy/nginx.conf``: two ``reelhouse serve`` nodes and a worker on one PostgreSQL and
one Redis, each node with a data dir of its own (as on two machines).

- Two sessions (two users) playing one file and track through the proxy: every
  playlist and segment request lands on one node (nginx hashes HLS URLs by file id),
  so one node's encoder makes the segments and its cache serves them to both; the
  other node's data dir has no segment of the file.
- A watch party whose members' WebSockets land on different nodes (one on each node,
  one through nginx): the host's seek and play reach the other node's member as the
  same authoritative state, and a pause refused there is refused by that node.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urljoin

import hls_clips
import httpx
import pytest
from cluster.support import CLUSTER_MARKS, PG_URL
from party.support import Member

from reelhouse.core import Core
from reelhouse.demo.cluster import Cluster
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, postgres_schema, redis_server, stop_without_leaks

pytestmark = [
    *CLUSTER_MARKS,
    pytest.mark.requires_ffmpeg,
    pytest.mark.timeout(120),
]

websockets_sync = pytest.importorskip("websockets.sync.client")

FILM = "Films/Big Buck (2008)/Big.Buck.2008.mkv"
OTHER = "Films/Elephants Dream (2006)/Elephants.Dream.2006.mkv"  # for the Jellyfin test
USERS = {"admin": "admin-password", "bob": "bob-password"}


class World:
    def __init__(self, cluster: Cluster, file_id: int) -> None:
        self.cluster = cluster
        self.file_id = file_id
        self.other_id = 0
        self.proxy = httpx.Client(base_url=cluster.proxy_url, timeout=60)
        self.nodes = [httpx.Client(base_url=u, timeout=60) for u in cluster.node_urls]
        self.tokens: dict[str, str] = {}
        for name, password in USERS.items():
            r = httpx.post(cluster.proxy_url + "/api/auth/login", json={"username": name, "password": password},
                           timeout=60)  # no cookie jar: bearer tokens only
            assert r.status_code == 200, r.text
            self.tokens[name] = r.json()["token"]

    def auth(self, name: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[name]}"}

    def close(self) -> None:
        for c in (self.proxy, *self.nodes):
            c.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("two-nodes-hls")
    root = tmp / "ftp"
    (root / FILM).parent.mkdir(parents=True)
    hls_clips.hevc_mkv(root / FILM, seconds=24, width=320, height=180)
    (root / OTHER).parent.mkdir(parents=True)
    hls_clips.hevc_mkv(root / OTHER, seconds=24, width=320, height=180)
    ftp = EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD).start()
    with ExitStack() as stack:
        stack.callback(stop_without_leaks, ftp)
        pg_url = stack.enter_context(postgres_schema(PG_URL, "rh_cluster_hls"))
        redis_url = stack.enter_context(redis_server())
        cluster = stack.enter_context(Cluster(tmp / "cluster", pg_url, redis_url, nodes=2, workers=1,
                                              extra_env={"REELHOUSE_HLS_PRESET": "ultrafast"}))
        core = Core(cluster.settings())
        try:
            for name, password in USERS.items():
                core.users.add(name, password, is_admin=name == "admin")
            source = core.sources.create(SourceSpec(name="ftp", kind="ftp", host="127.0.0.1", port=ftp.port,
                                                    username=FTP_USER, password=FTP_PASSWORD)).id
        finally:
            core.close()
        w = World(cluster, 0)
        stack.callback(w.close)
        auth = w.auth("admin")
        job = w.proxy.post(f"/api/sources/{source}/scan", headers=auth).json()
        deadline = time.monotonic() + 60
        while job["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, f"the scan did not run: {job}"
            time.sleep(0.2)
            job = w.proxy.get(f"/api/jobs/{job['id']}", headers=auth).json()
        assert job["state"] == "done", job
        items = w.proxy.get("/api/library/media-files", headers=auth).json()["items"]
        ids = {i["path"]: i["id"] for i in items}
        assert sorted(ids) == sorted([FILM, OTHER])
        w.file_id, w.other_id = ids[FILM], ids[OTHER]
        yield w


def _segments_on(cluster: Cluster, node: str, file_id: int) -> list[Path]:
    """Segments of file ``file_id`` in ``node``'s cache (``cache/<id>-<key>/<track>/<n>.ts``)."""
    return sorted((cluster.base / node / "hls").glob(f"cache/{file_id}-*/*/*.ts"))


def test_hls_of_one_file_from_two_sessions_lands_on_one_node(world: World) -> None:
    base = f"/api/library/media-files/{world.file_id}/hls"
    got: dict[str, dict[int, bytes]] = {}
    for name in USERS:  # two sessions of two users, each with its own playback token
        master = world.proxy.get(f"{base}/master.m3u8", headers=world.auth(name))
        assert master.status_code == 200, master.text
        uri = next(line for line in master.text.splitlines() if re.match(r"[0-9]+p\.m3u8", line))
        media = world.proxy.get(urljoin(f"{base}/", uri))
        assert media.status_code == 200, media.text
        segments = [line for line in media.text.splitlines() if line and not line.startswith("#")]
        assert len(segments) >= 4
        got[name] = {}
        for n in (0, 1, 3):
            r = world.proxy.get(urljoin(f"{base}/", segments[n]))
            assert r.status_code == 200 and r.headers["content-type"] == "video/mp2t", r.text[:300]
            got[name][n] = r.content
    # the same bytes to both sessions: the second one's came from the first one's cache
    assert got["admin"] == got["bob"]
    made = {node: _segments_on(world.cluster, node, world.file_id) for node in ("node1", "node2")}
    assert sorted(bool(m) for m in made.values()) == [False, True], made
    # one node served every request: its cache holds each segment once (one track)
    segs = next(m for m in made.values() if m)
    assert len({p.parent for p in segs}) == 1 and len(segs) == len({p.name for p in segs})



def test_party_with_members_on_different_nodes(world: World) -> None:
    node_a, node_b = world.cluster.node_urls
    party = httpx.post(node_a + "/api/parties", json={"media_file_id": world.file_id},
                       headers=world.auth("admin"), timeout=30).json()
    code = party["code"]
    with ExitStack() as stack:
        host = stack.enter_context(Member(node_a, code, world.tokens["admin"]))
        guest = stack.enter_context(Member(node_b, code, world.tokens["bob"]))  # the other node
        host.recv("state", lambda m: m["event"] and m["event"]["kind"] == "join")  # via Redis
        tab = stack.enter_context(Member(world.cluster.proxy_url, code, world.tokens["bob"]))  # through nginx
        assert tab.name == "bob"

        host.send(type="seek", position=7.5)
        host.send(type="play")
        states = [m.recv("state", lambda x: x["party"]["state"] == "playing")["party"]
                  for m in (host, guest, tab)]
        assert states[0] == states[1] == states[2]  # one authoritative message everywhere
        assert states[0]["position"] == 7.5

        guest.send(type="pause")  # host mode: refused by node 2
        assert guest.recv("error")["status"] == 403
        host.send(type="seek", position=12.0)
        seeked = [m.recv("state", lambda x: x["event"] and x["event"]["kind"] == "seek")["party"]
                  for m in (guest, tab)]
        assert seeked[0] == seeked[1] and seeked[0]["position"] == 12.0
        host.send(type="pause")
        paused = [m.recv("state", lambda x: x["party"]["state"] == "paused")["party"] for m in (guest, tab)]
        assert paused[0] == paused[1] and paused[0]["position"] >= 12.0
    # the REST view on either node agrees
    views = [httpx.get(u + f"/api/parties/{code}", headers=world.auth("bob"), timeout=30).json()
             for u in world.cluster.node_urls]
    assert views[0]["state"] == views[1]["state"] == "paused"


def test_jellyfin_hls_and_socket_through_nginx(world: World) -> None:
    """Jellyfin clients' HLS (``/jellyfin/Videos/{id}/…``, any letter case) is hashed to
    one node too, and their WebSocket (``/jellyfin/socket``) passes nginx."""
    key = {"api_key": world.tokens["bob"]}
    movie = world.proxy.get("/jellyfin/Items", params={"SearchTerm": "Elephants Dream", "Recursive": "1", **key}
                            ).json()["Items"][0]
    info = world.proxy.post(f"/jellyfin/Items/{movie['Id']}/PlaybackInfo", params=key, json={"DeviceProfile": {
        "DirectPlayProfiles": [{"Container": "mp4", "Type": "Video", "VideoCodec": "h264"}]}})
    url = info.json()["MediaSources"][0]["TranscodingUrl"]  # /videos/{file item}/master.m3u8?…
    got = []
    for spelling in (url, url.replace("/videos/", "/Videos/", 1)):  # two clients, two spellings: one node
        base = urljoin("/jellyfin" + spelling, ".")
        master = world.proxy.get("/jellyfin" + spelling)
        assert master.status_code == 200, master.text
        variant = next(line for line in master.text.splitlines() if line and not line.startswith("#"))
        playlist = world.proxy.get(urljoin(base, variant))
        assert playlist.status_code == 200, playlist.text
        segments = [line for line in playlist.text.splitlines() if line and not line.startswith("#")]
        for uri in (segments[4], segments[5]):
            r = world.proxy.get(urljoin(base, uri))
            assert r.status_code == 200 and r.content[:1] == b"\x47", r.text[:300]
            got.append(r.content)
    assert got[:2] == got[2:]
    made = {node: _segments_on(world.cluster, node, world.other_id) for node in ("node1", "node2")}
    assert sorted(bool(m) for m in made.values()) == [False, True], made
    url = world.cluster.proxy_url.replace("http://", "ws://") + f"/jellyfin/socket?api_key={key['api_key']}"
    with websockets_sync.connect(url) as ws:
        assert json.loads(ws.recv(timeout=20))["MessageType"] == "ForceKeepAlive"
