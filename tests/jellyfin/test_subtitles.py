"""Subtitles through Jellyfin's ``Videos/{id}/{mediaSourceId}/Subtitles/{index}/Stream.{format}``:
the format asked for is the format answered (``vtt`` WebVTT, ``srt`` SubRip, as
Jellyfin's SubtitleController converts), read back by FFmpeg's own demuxer of that
format; a format reelhouse does not write is a 400, not WebVTT under another name.
And the WebVTT → SubRip conversion (pure) on a table of cues."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jellyfin.support import Library

from reelhouse.jellyfin.subrip import vtt_to_srt

from helpers import wait_job

SRT = ("1\n00:00:00,500 --> 00:00:02,000\nHello.\n\n"
       "2\n00:00:02,500 --> 00:00:04,000\nHallo.\n\n")


def _subrip_track(jf: TestClient) -> str:
    """The subtitle URL base (``…/Subtitles/{index}``) of the library MKV's SubRip track."""
    mkv = jf.get("/jellyfin/Items", params={"SearchTerm": "Big Buck", "Recursive": "true",
                                            "Fields": "MediaSources"}).json()["Items"][0]
    source = mkv["MediaSources"][0]
    sub = next(s for s in source["MediaStreams"] if s["Type"] == "Subtitle")
    return f"/jellyfin/Videos/{mkv['Id']}/{source['Id']}/Subtitles/{sub['Index']}"


def _demux(text: str, fmt: str, tmp: Path) -> str:
    """The cues as FFmpeg's ``fmt`` demuxer reads them, written back as SubRip."""
    path = tmp / f"sub.{fmt}"
    path.write_text(text, encoding="utf-8")
    out = subprocess.run(["ffmpeg", "-v", "error", "-f", fmt, "-i", str(path), "-f", "srt", "-"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.replace("\r\n", "\n")


@pytest.mark.requires_ffmpeg
def test_stream_srt_is_subrip_and_vtt_is_webvtt(jf: TestClient, library: Library, tmp_path: Path) -> None:
    base = _subrip_track(jf)
    # what FFmpeg itself makes of the film's track as SubRip (its cues sit at 0.523 s:
    # the muxer shifted them with the video's first timestamp)
    film = library.root / "Films/Big Buck Bunny (2008)/Big.Buck.Bunny.2008.mkv"
    expected = subprocess.run(["ffmpeg", "-v", "error", "-i", str(film), "-map", "0:s:0", "-f", "srt", "-"],
                              capture_output=True, text=True, timeout=30, check=True).stdout.replace("\r\n", "\n")
    assert expected.count("-->") == 2 and "Hello." in expected and "Hallo." in expected
    srt = jf.get(f"{base}/Stream.srt")
    assert srt.status_code == 200, srt.text
    assert srt.headers["content-type"].startswith("application/x-subrip")
    assert srt.text == expected
    assert _demux(srt.text, "srt", tmp_path) == expected
    # with a start position in the path (as DeliveryUrls have), and Codec as the extension
    assert jf.get(f"{base}/0/Stream.srt").text == expected
    assert jf.get(f"{base}/Stream.subrip").text == expected
    vtt = jf.get(f"{base}/0/Stream.vtt")
    assert vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT") and _demux(vtt.text, "webvtt", tmp_path) == expected
    odd = jf.get(f"{base}/Stream.ttml")
    assert odd.status_code == 400 and "srt" in odd.json()["detail"], odd.text


@pytest.mark.parametrize(("vtt", "srt"), [
    # ffmpeg's WebVTT (reelhouse's cached form: with the HLS timestamp map)
    ("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n00:00.500 --> 00:02.000\nHello.\n\n"
     "00:02.500 --> 00:04.000\nHallo.\n", SRT),
    # hours, cue identifiers, settings, two lines, tags, entities, CRLF, NOTE and STYLE blocks
    ("WEBVTT\r\n\r\nSTYLE\r\n::cue { color: red }\r\n\r\nNOTE made by hand\r\n\r\nintro\r\n"
     "01:02:03.004 --> 01:02:05.000 align:start position:10%\r\n<i>Two</i>\r\nlines &amp; more\r\n",
     "1\n01:02:03,004 --> 01:02:05,000\n<i>Two</i>\nlines & more\n\n"),
    # a cue without text is dropped (SubRip readers stop at it); nothing at all stays empty
    ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n\n00:00:03.000 --> 00:00:04.000\nok\n",
     "1\n00:00:03,000 --> 00:00:04,000\nok\n\n"),
    ("WEBVTT\n", ""),
])
def test_vtt_to_srt(vtt: str, srt: str) -> None:
    assert vtt_to_srt(vtt) == srt


@pytest.mark.requires_ffmpeg
def test_sidecar_subtitles_are_offered(jf: TestClient, library: Library, tmp_path: Path) -> None:
    """A film's ``.srt`` beside it (``Sintel.2010.en.srt``: the commonest subtitles there
    are) is in PlaybackInfo's MediaStreams, after the file's own streams, as an external
    text track whose DeliveryUrl serves it."""
    (library.root / "Films/Sintel (2010)/Sintel.2010.en.srt").write_text(SRT.replace("\n\n", "\r\n\r\n"),
                                                                         encoding="utf-8")
    sintel = jf.get("/jellyfin/Items", params={"SearchTerm": "Sintel", "Recursive": "true"}).json()["Items"][0]
    info = jf.post(f"/jellyfin/Items/{sintel['Id']}/PlaybackInfo", json={}).json()
    streams = info["MediaSources"][0]["MediaStreams"]
    subs = [s for s in streams if s["Type"] == "Subtitle"]
    assert len(subs) == 1, streams
    sub = subs[0]
    assert sub["Index"] == max(s["Index"] for s in streams if s["Type"] != "Subtitle") + 1
    assert (sub["IsExternal"], sub["IsTextSubtitleStream"], sub["SupportsExternalStream"]) == (True, True, True)
    assert sub["Language"] == "en" and sub["Codec"] == "srt" and sub["DeliveryMethod"] == "External"
    vtt = jf.get("/jellyfin" + sub["DeliveryUrl"])
    assert vtt.status_code == 200 and vtt.text.startswith("WEBVTT"), vtt.text
    assert _demux(vtt.text, "webvtt", tmp_path) == SRT
    srt = jf.get("/jellyfin" + sub["DeliveryUrl"].replace("Stream.vtt", "Stream.srt"))
    assert srt.text == SRT
    # the item itself lists it the same way (the apps' subtitle menu is built from Items/{id})
    for path in (f"/jellyfin/Items/{sintel['Id']}", f"/jellyfin/Users/{_me(jf)}/Items/{sintel['Id']}"):
        item = jf.get(path).json()
        assert item["MediaSources"][0]["MediaStreams"] == streams
        assert item["MediaStreams"] == streams and item["HasSubtitles"] is True
    listed = jf.get("/jellyfin/Items", params={"SearchTerm": "Sintel", "Recursive": "true",
                                               "Fields": "MediaSources"}).json()["Items"][0]
    assert not any(s["Type"] == "Subtitle" for s in listed["MediaStreams"])  # pages: no folder listings


def _me(jf: TestClient) -> str:
    return str(jf.get("/jellyfin/Users/Me").json()["Id"])


_ASS = """[Script Info]
ScriptType: v4.00+
PlayResX: 640
PlayResY: 360

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, \
Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, \
MarginV, Encoding
Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,0,2,10,10,10,1
Style: Sign,Georgia,28,&H0000FFFF,&H000000FF,&H00000000,&H00000000,-1,0,0,0,100,100,0,0,1,2,0,8,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.50,0:00:02.00,Default,,0,0,0,,Hello.
Dialogue: 0,0:00:01.00,0:00:03.00,Sign,,0,0,0,,{\\pos(320,40)}SHOP
"""


@pytest.mark.requires_ffmpeg
def test_stream_ass_is_ass(jf: TestClient, client: TestClient, library: Library, sample_mp4: Path,
                           tmp_path: Path) -> None:
    """``Stream.ass`` (Jellyfin apps ask it for ASS tracks, libass renders it): an ASS
    track comes as it is, its styles and override tags kept; a SubRip track converted
    to ASS, its cues the same (read back by FFmpeg's ASS demuxer). It was a 400."""
    # the SubRip track of the library's MKV, converted
    base = _subrip_track(jf)
    film = library.root / "Films/Big Buck Bunny (2008)/Big.Buck.Bunny.2008.mkv"
    expected = subprocess.run(["ffmpeg", "-v", "error", "-i", str(film), "-map", "0:s:0", "-f", "srt", "-"],
                              capture_output=True, text=True, timeout=30, check=True).stdout.replace("\r\n", "\n")
    r = jf.get(f"{base}/0/Stream.ass")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/x-ssa")
    assert r.text.startswith("[Script Info]") and "Dialogue:" in r.text
    # ASS times are centiseconds: what FFmpeg's own SubRip → ASS makes of the track
    own = subprocess.run(["ffmpeg", "-v", "error", "-i", str(film), "-map", "0:s:0", "-f", "ass", "-"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    assert _demux(r.text, "ass", tmp_path) == _demux(own, "ass", tmp_path)
    assert "Hello." in r.text and "Hallo." in r.text and expected.count("-->") == 2
    assert jf.get(f"{base}/Stream.ssa").text == r.text

    # a film with an ASS track of its own (styles, a sign with \pos): as it is
    root = tmp_path / "anime"
    ass = tmp_path / "signs.ass"
    ass.write_text(_ASS, encoding="utf-8")
    out = root / "Paprika (2006)" / "Paprika.2006.mkv"
    out.parent.mkdir(parents=True)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(sample_mp4), "-i", str(ass), "-map", "0", "-map", "1",
                    "-c", "copy", "-c:s", "ass", str(out)], check=True, timeout=60)
    sid = client.post("/api/sources", json={"name": "anime", "kind": "local", "path": str(root)}).json()["id"]
    assert wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])["state"] == "done"
    item = jf.get("/jellyfin/Items", params={"SearchTerm": "Paprika", "Recursive": "true",
                                             "Fields": "MediaSources"}).json()["Items"][0]
    source = item["MediaSources"][0]
    sub = next(s for s in source["MediaStreams"] if s["Type"] == "Subtitle")
    assert sub["Codec"] == "ass"
    r = jf.get(f"/jellyfin/Videos/{item['Id']}/{source['Id']}/Subtitles/{sub['Index']}/0/Stream.ass")
    assert r.status_code == 200, r.text
    text = r.text.replace("\r\n", "\n")
    assert "Style: Sign,Georgia,28,&H0000FFFF" in text and "{\\pos(320,40)}SHOP" in text, text
    assert "PlayResX: 640" in text


@pytest.mark.requires_ffmpeg
@pytest.mark.requires_node
@pytest.mark.usefixtures("jellyfin_sdk")
def test_subtitles_m3u8_is_a_playlist_of_the_webvtt(server: str, library: Library) -> None:
    """``…/Subtitles/{index}/subtitles.m3u8`` (the SDK's getSubtitlePlaylist) is an HLS
    VOD playlist of the track's WebVTT, as Jellyfin's GetSubtitlePlaylist answers it:
    FFmpeg's HLS demuxer plays it to the film's cues; a stream that is no subtitle is a
    404."""
    from jellyfin.test_sdk_calls import sdk

    item = {"itemId": "$0.Items.0.Id", "mediaSourceId": "$0.Items.0.MediaSources.0.Id", "segmentLength": 30}
    got = sdk(server, ("items", "getItems", {"userId": "$userId", "recursive": True, "searchTerm": "big buck",
                                             "fields": ["MediaSources"]}),
              ("subtitle", "getSubtitlePlaylist", {**item, "index": 3}),
              ("subtitle", "getSubtitlePlaylist", {**item, "index": 1}))
    assert got[1][0] == 200, got[1]
    lines = got[1][1].splitlines()
    assert lines[0] == "#EXTM3U" and "#EXT-X-PLAYLIST-TYPE:VOD" in lines and lines[-1] == "#EXT-X-ENDLIST"
    segment = next(line for line in lines if not line.startswith("#"))
    assert segment.startswith("stream.vtt?api_key=")
    assert got[2][0] == 404
    film = got[0][1]["Items"][0]
    url = (f"{server}/Videos/{film['Id']}/{film['MediaSources'][0]['Id']}/Subtitles/3/subtitles.m3u8?"
           + segment.partition("?")[2])
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", url, "-map", "0:s:0", "-f", "srt", "-"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert [line for line in out.stdout.splitlines() if line.endswith(".")] == ["Hello.", "Hallo."]
