"""Media that real libraries hold, on a local source, played as Chromium would: an
MPEG-TS recording (no keyframe index), a film whose .srt sidecar is latin-1, an
audio-only Matroska file. Every playlist the server hands out must play: every segment
it lists is a real, non-empty MPEG-TS, every subtitle converts, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api.odd_files import NEEDS_FFMPEG, ffmpeg, jf_item, jf_token, plan_of
from fastapi.testclient import TestClient
from hls_clips import segment_duration

from reelhouse.core import Core

from helpers import scanned_local

pytestmark = NEEDS_FFMPEG

VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25", "-t", "6"]
TONE = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "6"]
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest"]
FILES = {
    "ts": "Films/Recording (2009)/Recording.2009.ts",
    "latin1": "Films/Cafe (2005)/Cafe.2005.mp4",
    "audio": "Films/Concert (2011)/Concert.2011.mkv",
    "dubbed": "Films/Dubbed (2012)/Dubbed.2012.mp4",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Core, TestClient, dict[str, int]]]:
    root = tmp_path_factory.mktemp("odd-media")
    for rel in FILES.values():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
    ffmpeg(*VIDEO, *TONE, *H264, str(root / FILES["ts"]))
    ffmpeg(*VIDEO, *TONE, *H264, str(root / FILES["latin1"]))
    (root / FILES["latin1"]).with_suffix(".fr.srt").write_bytes(
        "1\r\n00:00:01,000 --> 00:00:03,000\r\nCafé crème à la fenêtre\r\n\r\n".encode("cp1252"))
    (root / FILES["latin1"]).with_suffix(".de.srt").write_bytes(  # Notepad's "Unicode"
        "1\r\n00:00:01,000 --> 00:00:03,000\r\nGrüße aus Köln\r\n\r\n".encode("utf-16"))
    ffmpeg(*TONE, "-c:a", "mp3", str(root / FILES["audio"]))
    ffmpeg(*VIDEO, *TONE, "-f", "lavfi", "-i", "sine=frequency=880:sample_rate=48000", "-t", "6",
           "-map", "0", "-map", "1", "-map", "2", "-metadata:s:a:0", "language=eng",
           "-metadata:s:a:1", "language=fra", *H264, str(root / FILES["dubbed"]))

    with scanned_local(tmp_path_factory.mktemp("odd-data"), root, hls_preset="ultrafast") as (core, client, by_path):
        yield core, client, {k: by_path[p] for k, p in FILES.items()}


def _rel(url: str) -> str:
    return url.split("testserver", 1)[1]


def _uris(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _play_every_segment(client: TestClient, master_url: str, tmp: Path) -> list[str]:
    """Fetch the master, every playlist it names and every segment those list; each
    segment must be a non-empty MPEG-TS with a duration. Returns the playlists' names."""
    master = client.get(_rel(master_url))
    assert master.status_code == 200, master.text
    base = _rel(master_url).split("?")[0].rsplit("/", 1)[0] + "/"
    names = [u.split("?")[0] for u in _uris(master.text)]
    names += [line.split('URI="')[1].split('"')[0].split("?")[0]
              for line in master.text.splitlines() if "TYPE=AUDIO" in line]
    token = master_url.split("token=")[1]
    for name in names:
        playlist = client.get(f"{base}{name}?token={token}")
        assert playlist.status_code == 200, (name, playlist.text)
        for seg in _uris(playlist.text):
            r = client.get(base + seg)
            assert r.status_code == 200, (name, seg, r.text)
            assert r.content and segment_duration(r.content, tmp) > 0, (name, seg, len(r.content))
    return names


def test_mpegts_recording_plays_in_every_rendition(world: tuple[Core, TestClient, dict[str, int]],
                                                   tmp_path: Path) -> None:
    _, client, ids = world
    plan = plan_of(client, ids["ts"])
    assert plan["mode"] == "remux"
    _play_every_segment(client, str(plan["master_url"]), tmp_path)


def test_latin1_and_utf16_sidecar_srt_convert(world: tuple[Core, TestClient, dict[str, int]]) -> None:
    _, client, ids = world
    plan = plan_of(client, ids["latin1"])
    subs = plan["subtitles"]
    assert isinstance(subs, list)
    keys = {s["language"]: s["key"] for s in subs}
    assert sorted(keys) == ["de", "fr"]
    for lang, text in (("fr", "Café crème à la fenêtre"), ("de", "Grüße aus Köln")):
        r = client.get(f"/api/library/media-files/{ids['latin1']}/hls/subs/{keys[lang]}.vtt?token={plan['token']}")
        assert r.status_code == 200, r.text
        assert text in r.content.decode("utf-8")


def test_audio_only_file_plays_over_hls(world: tuple[Core, TestClient, dict[str, int]],
                                        tmp_path: Path) -> None:
    _, client, ids = world
    plan = plan_of(client, ids["audio"])
    assert plan["mode"] == "remux" and "audio only" in str(plan["reason"])
    assert "/hls/master.m3u8" in str(plan["url"])
    names = _play_every_segment(client, str(plan["master_url"]), tmp_path)
    assert "audio0.m3u8" in names


def test_audio_only_file_through_jellyfin_main_playlist(world: tuple[Core, TestClient, dict[str, int]],
                                                        tmp_path: Path) -> None:
    """Jellyfin clients that ask for ``Videos/{id}/main.m3u8`` get the audio track's
    playlist of an audio-only file, and its segments play."""
    _, client, _ = world
    token = jf_token(client)
    item = jf_item(client, token, "Concert")
    main = client.get(f"/jellyfin/Videos/{item['Id']}/main.m3u8", params={"api_key": token},
                      headers={"authorization": ""})
    assert main.status_code == 200, main.text
    segments = _uris(main.text)
    assert segments and all(s.startswith("audio0/") for s in segments)
    seg = client.get(f"/jellyfin/Videos/{item['Id']}/{segments[-1]}", headers={"authorization": ""})
    assert seg.status_code == 200 and segment_duration(seg.content, tmp_path) > 0


def test_mp4_with_two_audio_tracks_goes_to_hls_for_the_choice(
        world: tuple[Core, TestClient, dict[str, int]], tmp_path: Path) -> None:
    """A browser's <video> plays only an MP4's first audio track: the plan copies the
    video into HLS, whose master offers both tracks."""
    _, client, ids = world
    plan = plan_of(client, ids["dubbed"])
    assert plan["mode"] == "remux" and "2 audio tracks" in str(plan["reason"]), plan["reason"]
    assert [a["language"] for a in plan["audio"]] == ["eng", "fra"]
    names = _play_every_segment(client, str(plan["master_url"]), tmp_path)
    assert {"audio0.m3u8", "audio1.m3u8", "copy.m3u8"} <= set(names)
