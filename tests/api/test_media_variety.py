"""Media of the kinds users have, found by an outside-in hunt (HEVC 8/10-bit, VP9/Opus,
AV1, MPEG-2 in .ts/.m2ts, Xvid in AVI, several languages, sidecars in latin-1 and
UTF-16, no audio, audio only, rotated, odd sizes, empty, cut short, lying extensions)
played through the JSON API and the Jellyfin API:

- A file whose extension lies (an MP4 named ``.mkv``, as a careless rename or a
  downloader makes): the probe reads an MP4, but its stream was served as
  ``video/x-matroska`` and Jellyfin called it ``mkv`` (so Chromium's profile, which
  plays MP4, got HLS).
- The audio track a Jellyfin user picks (``AudioStreamIndex``, which jellyfin-web sends
  to PlaybackInfo when the user switches language during HLS playback, then loads the
  TranscodingUrl it gets) was dropped: the TranscodingUrl did not carry it and the
  master playlist marked the file's first audio track DEFAULT, so hls.js played English
  after the user chose French.
- A file whose default audio track (the container's flag, as a release marks its
  original language) is not its first: the master playlist marked the first DEFAULT,
  so the web player (hls.js) and Jellyfin apps started in the other language, though
  PlaybackInfo's DefaultAudioStreamIndex named the flagged one.
- Jellyfin's ``Videos/{id}/main.m3u8`` of a film with sound listed the video
  rendition's segments, which hold no audio (reelhouse's renditions carry audio as
  separate tracks): a client that plays main.m3u8 played the film silent.
- A DVD rip's picture subtitles (VobSub) chosen in a Jellyfin app that cannot draw
  them (jellyfin-web: its SubtitleProfiles have no ``dvdsub``): PlaybackInfo offered
  direct play and a TranscodingUrl without the subtitle, so nothing was shown;
  Jellyfin burns them in (``SubtitleMethod=Encode``), as reelhouse's own ``?burn=``.
- Tags that are not UTF-8 (an old AVI's latin-1 title, an MKV track named by a
  Windows tool): PyAV refused the whole file (UnicodeDecodeError), so a film that
  plays was "cannot be played" and left out of the lists.
- An embedded SubRip track whose text is latin-1 (muxed by ffmpeg from a latin-1
  .srt, ``-c:s copy``): its WebVTT was a 502 "subtitle conversion failed: … Invalid
  UTF-8 in decoded subtitles text"; the track's bytes are now decoded as a sidecar's.
- A WebM recorded live (a browser's MediaRecorder, OBS): no duration in its header.
  Chromium plays it as it is; the plan was a 422 "the file's duration is unknown; it
  cannot be segmented" for every client, so the web player refused a film the browser
  plays. Its duration is now read from its last cluster (library/mkv_tail.py), so a
  client that cannot play WebM gets HLS too.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from api.odd_files import (
    CHROMIUM_CAPS,
    NEEDS_FFMPEG,
    chrome_profile,
    ffmpeg,
    films_world,
    jf_item,
    jf_token,
    lavfi,
    plan_of,
)
from fastapi.testclient import TestClient
from hls_clips import vobsub_mkv

from reelhouse.sources.registry import SourceSpec

from helpers import admin_client, admin_core

pytestmark = NEEDS_FFMPEG

VIDEO, TONE = lavfi(4)
FILES = {
    "liar": "Films/Liar (2015)/Liar.2015.mkv",
    "langs": "Films/Babel (2006)/Babel.2006.mkv",
    "flagged": "Films/Amelie (2001)/Amelie.2001.mkv",
    "dvd": "Films/Metropolis (1927)/Metropolis.1927.mkv",
    "latin_srt": "Films/Jour de fete (1949)/Jour.de.fete.1949.mkv",
    "recorded": "Films/Live (2024)/Live.2024.webm",
}
#: what jellyfin-web in Chromium sends (abridged): H.264 in MP4 plays, the rest via HLS
CHROME_PROFILE = chrome_profile("h264", "aac,mp3")


def _make(root: Path, path: dict[str, str]) -> None:
    """Make the films of FILES at ``path`` (absolute, by key) with ffmpeg."""
    ffmpeg(*VIDEO, *TONE, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
           "-f", "mp4", path["liar"])
    ffmpeg(*VIDEO, *TONE, "-f", "lavfi", "-i", "sine=frequency=660:sample_rate=48000:duration=4",
           "-map", "0:v", "-map", "1:a", "-map", "2:a", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-metadata:s:a:0", "language=eng",
           "-metadata:s:a:1", "language=fre", path["langs"])
    ffmpeg("-i", path["langs"], "-map", "0", "-c", "copy", "-disposition:a:0", "0",
           "-disposition:a:1", "default", path["flagged"])
    vobsub_mkv(Path(path["dvd"]), seconds=4)
    srt = root / "latin1.srt"
    srt.write_bytes("1\n00:00:00,500 --> 00:00:02,000\nH\u00e9llo w\u00f6rld, \u00e7a va?\n".encode("latin-1"))
    ffmpeg(*VIDEO, *TONE, "-i", str(srt), "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-c:s", "copy",
           "-metadata:s:s:0", "language=fre", path["latin_srt"])
    srt.unlink()
    ffmpeg(*VIDEO, *TONE, "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k",
           "-c:a", "libopus", "-live", "1", "-f", "webm", path["recorded"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, int]]]:
    with films_world(tmp_path_factory, "variety", FILES, _make) as made:
        yield made


def test_an_mp4_named_mkv_is_served_as_mp4(world: tuple[TestClient, dict[str, int]]) -> None:
    client, ids = world
    plan = plan_of(client, ids["liar"])
    assert plan["mode"] == "direct" and plan["content_type"] == "video/mp4", plan
    r = client.get(str(plan["stream_url"]), headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and r.headers["content-type"] == "video/mp4", r.headers
    token = jf_token(client)
    item = jf_item(client, token, "Liar")
    info = client.post(f"/jellyfin/Items/{item['Id']}/PlaybackInfo", params={"api_key": token},
                       json=CHROME_PROFILE, headers={"authorization": ""})
    assert info.status_code == 200, info.text
    source = info.json()["MediaSources"][0]
    assert source["Container"] == "mp4" and source["SupportsDirectPlay"], source
    r = client.get(f"/jellyfin/Videos/{item['Id']}/stream", params={"static": "true", "api_key": token},
                   headers={"authorization": "", "Range": "bytes=0-99"})
    assert r.status_code == 206 and r.headers["content-type"] == "video/mp4", r.headers


def _default_audio(master: str) -> list[str]:
    return [line.split('LANGUAGE="')[1].split('"')[0] for line in master.splitlines()
            if "TYPE=AUDIO" in line and "DEFAULT=YES" in line]


def test_jellyfin_audio_stream_index_is_the_default_audio(world: tuple[TestClient, dict[str, int]]) -> None:
    client, _ = world
    token = jf_token(client)
    item = jf_item(client, token, "Babel")
    info = client.post(f"/jellyfin/Items/{item['Id']}/PlaybackInfo", params={"api_key": token},
                       json=CHROME_PROFILE, headers={"authorization": ""}).json()
    streams = info["MediaSources"][0]["MediaStreams"]
    french = next(s["Index"] for s in streams if s["Type"] == "Audio" and s["Language"] == "fre")
    url = info["MediaSources"][0]["TranscodingUrl"]
    assert _default_audio(client.get("/jellyfin" + url, headers={"authorization": ""}).text) == ["eng"]
    # the user picks French: jellyfin-web asks PlaybackInfo again with AudioStreamIndex
    for how in ({"params": {"api_key": token, "AudioStreamIndex": str(french)}, "json": CHROME_PROFILE},
                {"params": {"api_key": token}, "json": {**CHROME_PROFILE, "AudioStreamIndex": french}}):
        info = client.post(f"/jellyfin/Items/{item['Id']}/PlaybackInfo", headers={"authorization": ""},
                           **how).json()  # type: ignore[arg-type]
        url = info["MediaSources"][0]["TranscodingUrl"]
        assert f"AudioStreamIndex={french}" in url, url
        master = client.get("/jellyfin" + url, headers={"authorization": ""})
        assert master.status_code == 200 and _default_audio(master.text) == ["fre"], master.text
    # an index that is no audio stream of the file: the first audio track, as before
    video = next(s["Index"] for s in streams if s["Type"] == "Video")
    master = client.get(f"/jellyfin/Videos/{item['Id']}/master.m3u8",
                        params={"api_key": token, "AudioStreamIndex": str(video)}, headers={"authorization": ""})
    assert master.status_code == 200 and _default_audio(master.text) == ["eng"], master.text
    bad = client.get(f"/jellyfin/Videos/{item['Id']}/master.m3u8",
                     params={"api_key": token, "AudioStreamIndex": "french"}, headers={"authorization": ""})
    assert bad.status_code == 400, bad.text


def test_the_flagged_default_audio_track_is_the_default(world: tuple[TestClient, dict[str, int]]) -> None:
    client, ids = world
    plan = plan_of(client, ids["flagged"])
    master = client.get(str(plan["master_url"]))
    assert master.status_code == 200 and _default_audio(master.text) == ["fre"], master.text
    token = jf_token(client)
    item = jf_item(client, token, "Amelie")
    info = client.post(f"/jellyfin/Items/{item['Id']}/PlaybackInfo", params={"api_key": token},
                       json=CHROME_PROFILE, headers={"authorization": ""}).json()
    source = info["MediaSources"][0]
    french = next(s["Index"] for s in source["MediaStreams"] if s["Type"] == "Audio" and s["Language"] == "fre")
    assert source["DefaultAudioStreamIndex"] == french, source
    master = client.get("/jellyfin" + source["TranscodingUrl"], headers={"authorization": ""})
    assert _default_audio(master.text) == ["fre"], master.text


def _codec_types(data: bytes, tmp: Path) -> set[str]:
    path = tmp / "seg.ts"
    path.write_bytes(data)
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
                          str(path)], capture_output=True, text=True, timeout=30).stdout
    return {line.strip() for line in out.splitlines() if line.strip()}


def test_jellyfin_main_playlist_plays_with_sound(world: tuple[TestClient, dict[str, int]], tmp_path: Path) -> None:
    """What a player fetches from main.m3u8 (a media playlist's segments, or a master
    playlist's variant and its default audio track) holds both pictures and sound."""
    client, _ = world
    token = jf_token(client)
    item = jf_item(client, token, "Babel")
    base = f"/jellyfin/Videos/{item['Id']}/"
    main = client.get(base + "main.m3u8", params={"api_key": token, "AudioStreamIndex": "2"},
                      headers={"authorization": ""})
    assert main.status_code == 200, main.text
    lines = main.text.splitlines()
    playlists = [ln for ln in lines if ln and not ln.startswith("#")]
    if "#EXT-X-STREAM-INF" in main.text:  # a master playlist: a variant and its audio track
        playlists = playlists[:1] + [ln.split('URI="')[1].split('"')[0] for ln in lines
                                     if "TYPE=AUDIO" in ln and "DEFAULT=YES" in ln]
        assert 'LANGUAGE="fre",DEFAULT=YES' in main.text, main.text
    else:
        playlists = ["main.m3u8?api_key=" + token]
    kinds: set[str] = set()
    for uri in playlists:
        text = client.get(base + uri, headers={"authorization": ""}).text
        first = next(ln for ln in text.splitlines() if ln and not ln.startswith("#"))
        seg = client.get(base + first, headers={"authorization": ""})
        assert seg.status_code == 200, (uri, first, seg.text[:200])
        kinds |= _codec_types(seg.content, tmp_path)
    assert kinds == {"video", "audio"}, kinds


#: jellyfin-web in Chromium plays H.264/AAC/AC3 in MKV (abridged) and draws text subtitles only
WEB_MKV = {"DeviceProfile": {
    "DirectPlayProfiles": [{"Container": "mkv,mp4", "Type": "Video", "VideoCodec": "h264", "AudioCodec": "aac,ac3"}],
    "TranscodingProfiles": CHROME_PROFILE["DeviceProfile"]["TranscodingProfiles"],
    "SubtitleProfiles": [{"Format": "vtt", "Method": "External"}, {"Format": "ass", "Method": "External"}]}}
#: jellyfin-mpv-shim (abridged): plays anything and draws picture subtitles itself
MPV = {"DeviceProfile": {
    "DirectPlayProfiles": [{"Type": "Video"}],
    "TranscodingProfiles": CHROME_PROFILE["DeviceProfile"]["TranscodingProfiles"],
    "SubtitleProfiles": [{"Format": "srt", "Method": "External"}, {"Format": "dvdsub", "Method": "Embed"},
                         {"Format": "pgssub", "Method": "Embed"}]}}


def test_jellyfin_burns_in_picture_subtitles_a_client_cannot_draw(world: tuple[TestClient, dict[str, int]]) -> None:
    client, _ = world
    token = jf_token(client)
    item = jf_item(client, token, "Metropolis")
    url = f"/jellyfin/Items/{item['Id']}/PlaybackInfo"
    plain = client.post(url, params={"api_key": token}, json=WEB_MKV, headers={"authorization": ""}).json()
    source = plain["MediaSources"][0]
    assert source["SupportsDirectPlay"], source  # no subtitle chosen: plays as it is
    sub = next(s for s in source["MediaStreams"] if s["Type"] == "Subtitle")
    assert sub["Codec"] == "dvdsub" and not sub["IsTextSubtitleStream"], sub  # as Jellyfin names it
    for how in ({"params": {"api_key": token, "SubtitleStreamIndex": str(sub["Index"])}, "json": WEB_MKV},
                {"params": {"api_key": token}, "json": {**WEB_MKV, "SubtitleStreamIndex": sub["Index"]}}):
        chosen = client.post(url, headers={"authorization": ""}, **how).json()  # type: ignore[arg-type]
        source = chosen["MediaSources"][0]
        assert not source["SupportsDirectPlay"], source
        assert f"SubtitleStreamIndex={sub['Index']}" in source["TranscodingUrl"], source
        assert "SubtitleMethod=Encode" in source["TranscodingUrl"], source
        master = client.get("/jellyfin" + source["TranscodingUrl"], headers={"authorization": ""})
        assert master.status_code == 200 and "-e0.m3u8" in master.text and "copy" not in master.text, master.text
        rendition = next(ln for ln in master.text.splitlines() if ln and not ln.startswith("#"))
        media = client.get(f"/jellyfin/Videos/{item['Id']}/{rendition}", headers={"authorization": ""})
        first = next(ln for ln in media.text.splitlines() if ln and not ln.startswith("#"))
        seg = client.get(f"/jellyfin/Videos/{item['Id']}/{first}", headers={"authorization": ""})
        assert seg.status_code == 200 and seg.content[:1] == b"\x47", (first, seg.text[:200])
    # a player that draws them itself plays the file as it is
    mpv = client.post(url, params={"api_key": token, "SubtitleStreamIndex": str(sub["Index"])}, json=MPV,
                      headers={"authorization": ""}).json()["MediaSources"][0]
    assert mpv["SupportsDirectPlay"], mpv


def test_tags_that_are_not_utf8_do_not_make_a_film_unplayable(tmp_path: Path) -> None:
    root = tmp_path / "films"
    root.mkdir()
    title = "Caf\xe9 \xe9t\xe9".encode("latin-1")  # as an old Windows tool wrote it
    base = ["ffmpeg", "-y", "-v", "error", *VIDEO, *TONE]
    subprocess.run([*base, "-c:v", "mpeg4", "-c:a", "libmp3lame", b"-metadata", b"title=" + title,
                    str(root / "Old Tags (1999).avi")], check=True, timeout=120)
    subprocess.run([*base, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    b"-metadata:s:a:0", b"title=" + title, str(root / "Track Name (1998).mkv")],
                   check=True, timeout=120)
    with admin_core(tmp_path / "data", hls_preset="ultrafast", hls_segment_seconds=2) as core, \
            admin_client(core) as client:
        report = core.jobs.run_scan_now(core.sources.create(SourceSpec(name="D", kind="local", path=str(root))).id)
        assert not report.errors, report.errors
        for f in client.get("/api/library/media-files").json()["items"]:
            assert f["probe_error"] is None and f["duration"], f
            plan = plan_of(client, f["id"])
            master = client.get(str(plan["master_url"]))
            assert master.status_code == 200, master.text
            audio = next(ln.split('URI="')[1].split('"')[0] for ln in master.text.splitlines() if "TYPE=AUDIO" in ln)
            base_url = str(plan["master_url"]).split("master.m3u8")[0]
            playlist = client.get(base_url + audio).text
            first = next(ln for ln in playlist.splitlines() if ln and not ln.startswith("#"))
            assert client.get(base_url + first).status_code == 200


def test_an_embedded_latin1_subrip_track_converts(world: tuple[TestClient, dict[str, int]]) -> None:
    client, ids = world
    plan = plan_of(client, ids["latin_srt"])
    assert [t["key"] for t in plan["subtitles"]] == ["e0"], plan
    base = str(plan["master_url"]).split("master.m3u8")[0]
    r = client.get(base + f"subs/e0.vtt?token={plan['token']}")
    assert r.status_code == 200, r.text
    assert "Héllo wörld, ça va?" in r.text, r.text


def test_a_live_recorded_webm_is_transcoded_for_a_seek_bar(world: tuple[TestClient, dict[str, int]]) -> None:
    """A live VP9 WebM played directly where the browser plays WebM, with no seek bar
    (no duration in its header); it is transcoded into HLS now, with the duration read
    from its end. A client without HLS still gets the file as it is."""
    client, ids = world
    assert client.get(f"/api/library/media-files/{ids['recorded']}").json()["duration"] == pytest.approx(4, abs=0.2)
    plan = plan_of(client, ids["recorded"])
    assert plan["mode"] == "transcode" and "no duration" in plan["reason"], plan
    assert plan["duration"] == pytest.approx(4, abs=0.2), plan
    r = client.post(f"/api/library/media-files/{ids['recorded']}/playback/plan",
                    json={**CHROMIUM_CAPS, "hls": False})
    assert r.status_code == 200, r.text
    direct = r.json()
    assert direct["mode"] == "direct" and direct["content_type"] == "video/webm", direct
    r = client.get(str(direct["stream_url"]), headers={"Range": "bytes=0-99"})
    assert r.status_code == 206, r.text
    # a client that cannot play WebM gets HLS too
    r = client.post(f"/api/library/media-files/{ids['recorded']}/playback/plan",
                    json={"containers": ["mp4"], "video": ["h264"], "audio": ["aac"]})
    assert r.status_code == 200 and r.json()["mode"] == "transcode", r.text
