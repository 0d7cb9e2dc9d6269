"""A user's transcode cap across two nodes (issue 14): ``hls_max_encoders_per_user``
counts the user's encoders on every node (leased slots in Redis), so asking the
second node directly for another file (nginx would hash it to either) gets a 503
instead of a second transcode; another user still gets one there."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urljoin

import hls_clips
import httpx
import pytest
from cluster.support import CLUSTER_MARKS, PG_URL, scan, seed

from reelhouse.demo.cluster import Cluster
from reelhouse.sources.registry import SourceSpec

from helpers import postgres_schema

pytestmark = [
    *CLUSTER_MARKS,
    pytest.mark.requires_ffmpeg,
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is missing"),
    pytest.mark.timeout(150),
]

USERS = {"admin": "admin-password", "bob": "bob-password"}
FILMS = ["Films/One (2001)/One.2001.mkv", "Films/Two (2002)/Two.2002.mkv"]


@pytest.fixture
def world(redis_url: str, tmp_path: Path) -> Iterator[tuple[Cluster, dict[str, int], dict[str, str]]]:
    root = tmp_path / "films"
    clip = hls_clips.hevc_mkv(tmp_path / "clip.mkv", seconds=10, width=320, height=180)
    for film, times in zip(FILMS, (90, 91), strict=True):
        # 15 min: its transcode runs for seconds at full speed, so it is paused (2 segments
        # ahead) long before it could end and give its slot back (a 90 s clip's encoder
        # could end within one 0.5 s tick of the pausing monitor: a 200 instead of a 503)
        (root / film).parent.mkdir(parents=True)
        hls_clips.looped(clip, root / film, times)
    with ExitStack() as stack:
        pg_url = stack.enter_context(postgres_schema(PG_URL, "rh_cluster_hlscap"))
        c = stack.enter_context(Cluster(tmp_path / "cluster", pg_url, redis_url, nodes=2, workers=1, extra_env={
            "REELHOUSE_HLS_PRESET": "ultrafast", "REELHOUSE_HLS_MAX_ENCODERS_PER_USER": "1",
            "REELHOUSE_HLS_MAX_ENCODERS": "2", "REELHOUSE_HLS_AHEAD_SEGMENTS": "2"}))
        source = seed(c, SourceSpec(name="disk", kind="local", path=str(root)), USERS)
        tokens = {name: httpx.post(c.proxy_url + "/api/auth/login", json={"username": name, "password": pw},
                                   timeout=30).json()["token"] for name, pw in USERS.items()}
        auth = {"authorization": f"Bearer {tokens['admin']}"}
        with httpx.Client(base_url=c.proxy_url, timeout=30) as proxy:
            scan(proxy, source, auth)
        items = httpx.get(c.proxy_url + "/api/library/media-files", headers=auth, timeout=30).json()["items"]
        yield c, {i["path"]: i["id"] for i in items}, tokens


def _first_segment(base_url: str, file_id: int, token: str) -> httpx.Response:
    """Segment 0 of the file's lowest rendition, asked of ``base_url`` (a node)."""
    base = f"{base_url}/api/library/media-files/{file_id}/hls"
    master = httpx.get(f"{base}/master.m3u8", headers={"authorization": f"Bearer {token}"}, timeout=60)
    assert master.status_code == 200, master.text
    uri = next(line for line in master.text.splitlines() if re.match(r"[0-9]+p\.m3u8", line))
    media = httpx.get(urljoin(f"{base}/", uri), timeout=60)
    assert media.status_code == 200, media.text
    segment = next(line for line in media.text.splitlines() if line and not line.startswith("#"))
    return httpx.get(urljoin(f"{base}/", segment), timeout=90)


def test_transcode_cap_per_user_holds_across_nodes(
        world: tuple[Cluster, dict[str, int], dict[str, str]]) -> None:
    c, ids, tokens = world
    node_a, node_b = c.node_urls
    first = _first_segment(node_a, ids[FILMS[0]], tokens["bob"])
    assert first.status_code == 200 and first.content[:1] == b"\x47", first.text[:300]
    # bob's one transcode runs on node 1 (its viewer is recent): none more on node 2
    busy = _first_segment(node_b, ids[FILMS[1]], tokens["bob"])
    assert busy.status_code == 503, (busy.status_code, busy.headers)
    assert "hls_max_encoders_per_user" in busy.json()["detail"]
    # another user is not starved by it
    other = _first_segment(node_b, ids[FILMS[1]], tokens["admin"])
    assert other.status_code == 200 and other.content[:1] == b"\x47", other.text[:300]
