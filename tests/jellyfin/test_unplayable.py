"""PlaybackInfo for files whose media cannot be read (the scan's probe failed, or the
file is empty) offers no ``TranscodingUrl``: reelhouse's HLS cuts segments from a known
duration and would answer that URL 422. Nor direct play: what FFmpeg cannot read, a
player cannot either (a download cut off before an MP4's ``moov`` has no index at all),
so the answer carries Jellyfin's ``ErrorCode: NoCompatibleStream``
(PlaybackInfoResponse, PlaybackErrorCode) and the app says so rather than failing in
its player. Nor are such titles listed (Items, Latest, Resume, NextUp): an app offered
them like any film and failed; the web grid and the JSON API flag them instead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelhouse.demo.probe_clips import make_probe_clip
from reelhouse.jellyfin import ids

from helpers import garbled, place, wait_job

pytestmark = pytest.mark.requires_ffmpeg

MP4_ONLY = {"DeviceProfile": {"DirectPlayProfiles": [
    {"Container": "mp4", "Type": "Video", "VideoCodec": "h264", "AudioCodec": "aac"}]}}


def _library(client: TestClient, root: Path, moov_at_end: Path) -> int:
    whole = moov_at_end.read_bytes()
    files = {"Films/Garbled (2001)/Garbled.2001.mp4": garbled(200_000),
             "Films/Cut Short (2004)/Cut.Short.2004.mp4": whole[:len(whole) // 2],
             "Films/Noise (2003)/Noise.2003.mkv": garbled(200_000),
             "Films/Hollow (2002)/Hollow.2002.mkv": b""}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    r = client.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(root)})
    assert r.status_code == 201, r.text
    assert wait_job(client, client.post(f"/api/sources/{r.json()['id']}/scan").json()["id"])["state"] == "done"
    return int(r.json()["id"])


def _item_id(client: TestClient, name: str) -> str:
    """The Jellyfin id of the film called ``name`` (by the JSON API's grid: the Jellyfin
    lists leave out a film that cannot be played)."""
    items = client.get("/api/library/items", params={"q": name}).json()["items"]
    assert items, name
    return ids.encode("movie", items[0]["id"])


def _info(jf: TestClient, client: TestClient, name: str, body: dict[str, Any] | None) -> dict[str, Any]:
    item_id = _item_id(client, name)
    r = (jf.post(f"/jellyfin/Items/{item_id}/PlaybackInfo", json=body) if body is not None
         else jf.get(f"/jellyfin/Items/{item_id}/PlaybackInfo"))
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.fixture
def moov_at_end(clip_cache: Path) -> Path:
    return make_probe_clip("moov_at_end.mp4", clip_cache / "probe")


def test_unreadable_media_gets_no_transcoding_url(client: TestClient, jf: TestClient, tmp_path: Path,
                                                   moov_at_end: Path) -> None:
    source_id = _library(client, tmp_path / "media", moov_at_end)
    # an unreadable MP4, and an MP4 download cut off before its index: the client plays
    # MP4, but not these (nor does FFmpeg): neither direct play nor HLS
    for name in ("Garbled", "Cut Short"):
        for body in (MP4_ONLY, None):
            info = _info(jf, client, name, body)
            src = info["MediaSources"][0]
            assert src["SupportsDirectPlay"] is False and src["SupportsDirectStream"] is False, name
            assert src["SupportsTranscoding"] is False and "TranscodingUrl" not in src
            assert info["ErrorCode"] == "NoCompatibleStream"
        # the item's own MediaSources (Items/{id}) say the same
        src = jf.get(f"/jellyfin/Items/{_item_id(client, name)}").json()["MediaSources"][0]
        assert src["SupportsDirectPlay"] is False and src["SupportsTranscoding"] is False, name
    # an unreadable MKV the client cannot play as it is: nothing works, and it says so
    info = _info(jf, client, "Noise", MP4_ONLY)
    src = info["MediaSources"][0]
    assert "TranscodingUrl" not in src, src["TranscodingUrl"]
    assert src["SupportsDirectPlay"] is False and src["SupportsTranscoding"] is False
    assert info["ErrorCode"] == "NoCompatibleStream"
    # the URL it used to offer indeed cannot work
    file_id = src["Id"]
    assert jf.get(f"/jellyfin/Videos/{file_id}/master.m3u8", params={"MediaSourceId": file_id}).status_code == 422
    # an empty file plays in no way, with or without a DeviceProfile
    for body in (MP4_ONLY, None):
        info = _info(jf, client, "Hollow", body)
        src = info["MediaSources"][0]
        assert "TranscodingUrl" not in src and src["SupportsDirectPlay"] is False
        assert info["ErrorCode"] == "NoCompatibleStream"
    # a playable film is untouched
    whole = moov_at_end.read_bytes()
    (tmp_path / "media/Films/Cut Short (2004)/Cut.Short.2004.mp4").write_bytes(whole)
    r = client.post(f"/api/sources/{source_id}/scan")
    assert wait_job(client, r.json()["id"])["state"] == "done"
    info = _info(jf, client, "Cut Short", MP4_ONLY)
    assert info["MediaSources"][0]["SupportsDirectPlay"] is True and "ErrorCode" not in info


def test_titles_that_cannot_be_played_are_not_listed(client: TestClient, jf: TestClient, tmp_path: Path,
                                                     sample_mp4: Path) -> None:
    root = tmp_path / "media"
    for rel in ("Films/Heat (1995)/Heat.1995.mp4", "Films/Two (2005)/Two.2005.mp4",
                "Shows/Good Show/Season 01/Good.Show.S01E01.mp4", "Shows/Good Show/Season 01/Good.Show.S01E03.mp4"):
        place(sample_mp4, root, rel)
    for rel in ("Films/Garbled (2001)/Garbled.2001.mp4", "Films/Two (2005)/Two.2005.1080p.mp4",
                "Shows/Broken Show/Season 01/Broken.Show.S01E01.mp4",
                "Shows/Good Show/Season 01/Good.Show.S01E02.mp4"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(garbled(200_000))
    r = client.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(root)})
    assert wait_job(client, client.post(f"/api/sources/{r.json()['id']}/scan").json()["id"])["state"] == "done"
    files = {f["path"]: f for f in client.get("/api/library/media-files").json()["items"]}
    assert files["Films/Garbled (2001)/Garbled.2001.mp4"]["probe_error"]  # the probe did fail

    def names(path: str, **params: str) -> list[str]:
        r = jf.get(f"/jellyfin/{path}", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert isinstance(body, list) or body["TotalRecordCount"] == len(body["Items"]), body
        return sorted(i["Name"] for i in (body if isinstance(body, list) else body["Items"]))

    assert names("Items", Recursive="true", IncludeItemTypes="Movie,Series") == ["Good Show", "Heat", "Two"]
    assert names("Items", Recursive="true", IncludeItemTypes="Movie", SearchTerm="Garbled") == []
    assert len(names("Items", Recursive="true", IncludeItemTypes="Episode")) == 2
    assert names("Items/Latest") == ["Good Show", "Heat", "Two"]
    assert len(names("Items/Latest", GroupItems="false", IncludeItemTypes="Episode")) == 2

    # Resume: a film stopped in the middle of (its file's probe failed after, say)
    broken = files["Films/Garbled (2001)/Garbled.2001.mp4"]["id"]
    good = files["Films/Heat (1995)/Heat.1995.mp4"]["id"]
    for fid in (broken, good):
        assert client.put(f"/api/library/media-files/{fid}/progress", json={"position": 3, "duration": 12}
                          ).status_code == 200
    assert names("UserItems/Resume") == ["Heat"]
    # NextUp after E01: E03 (E02 cannot be played), not E02
    first = files["Shows/Good Show/Season 01/Good.Show.S01E01.mp4"]["id"]
    assert client.put(f"/api/library/media-files/{first}/watched", json={"watched": True}).status_code == 200
    up = jf.get("/jellyfin/Shows/NextUp").json()["Items"]
    assert [(i["SeriesName"], i["IndexNumber"]) for i in up] == [("Good Show", 3)], up


def test_a_version_that_cannot_be_played_is_not_offered(client: TestClient, jf: TestClient, tmp_path: Path,
                                                        sample_mp4: Path) -> None:
    """A film with two versions, one of them unreadable (its probe failed): apps offered
    both in their version picker (MediaSources) and failed on the broken one. Jellyfin
    lists in MediaSources what it can play; the broken version is left out everywhere
    (Items, Items/{id}, PlaybackInfo; MediaSourceCount) and ``Videos/{id}/stream``
    without a MediaSourceId plays the good one. Asked for by its id, it still answers
    NoCompatibleStream."""
    root = tmp_path / "media"
    place(sample_mp4, root, "Films/Two (2005)/Two.2005.mp4")
    broken_rel = "Films/Two (2005)/Two.2005.1080p.mp4"
    (root / broken_rel).write_bytes(garbled(200_000))
    r = client.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(root)})
    assert wait_job(client, client.post(f"/api/sources/{r.json()['id']}/scan").json()["id"])["state"] == "done"
    files = {f["path"]: f for f in client.get("/api/library/media-files").json()["items"]}
    good, broken = files["Films/Two (2005)/Two.2005.mp4"], files[broken_rel]
    assert broken["probe_error"] and not good["probe_error"]
    good_id, broken_id = ids.encode("file", good["id"]), ids.encode("file", broken["id"])
    item_id = _item_id(client, "Two")

    item = jf.get(f"/jellyfin/Items/{item_id}").json()
    assert [s["Id"] for s in item["MediaSources"]] == [good_id]
    assert item["MediaSourceCount"] == 1
    listed = jf.get("/jellyfin/Items", params={"Recursive": "true", "IncludeItemTypes": "Movie",
                                               "Fields": "MediaSources"}).json()["Items"]
    assert [s["Id"] for s in listed[0]["MediaSources"]] == [good_id]
    for body in (MP4_ONLY, None):
        info = _info(jf, client, "Two", body)
        assert [s["Id"] for s in info["MediaSources"]] == [good_id] and "ErrorCode" not in info
    r = jf.get(f"/jellyfin/Videos/{item_id}/stream", params={"static": "true"})
    assert r.status_code == 200 and r.content == sample_mp4.read_bytes()
    chosen = jf.post(f"/jellyfin/Items/{item_id}/PlaybackInfo", params={"MediaSourceId": broken_id},
                     json=MP4_ONLY).json()
    assert [s["Id"] for s in chosen["MediaSources"]] == [broken_id]
    assert chosen["ErrorCode"] == "NoCompatibleStream"
