"""The whole flow with a real Jellyfin client written by others,
jellyfin-apiclient-python (what Kodi's Jellyfin add-on and jellyfin-mpv-shim use):
connect, log in, views, items, seasons/episodes, PlaybackInfo, a byte-exact Range
stream, progress reports seen by the reelhouse web API, played marks, and the socket."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient
from jellyfin.support import Library
from jellyfin_apiclient_python import JellyfinClient
from jellyfin_apiclient_python.connection_manager import CONNECTION_STATE

from reelhouse.core import Core

from helpers import ADMIN, ADMIN_PASSWORD

pytestmark = pytest.mark.requires_ffmpeg



def test_connect_log_in_browse_play_report(jelly: JellyfinClient, server: str, library: Library,
                                          client: TestClient) -> None:
    state = jelly.auth.connect_to_address(server)
    assert state["State"] == CONNECTION_STATE["ServerSignIn"], state  # found, not signed in
    assert state["Servers"][0]["address"] == server  # no redirect taken as the address
    login = jelly.auth.login(server, ADMIN, ADMIN_PASSWORD)
    assert login["AccessToken"] and login["ServerId"] == state["Servers"][0]["Id"]
    assert jelly.auth.login(server, ADMIN, "wrong password") == {}
    api = jelly.jellyfin

    me = api.get_user()
    assert me["Name"] == ADMIN and me["Id"] == login["User"]["Id"] and me["Policy"]["IsAdministrator"]
    views = api.get_views()["Items"]
    assert [(v["Name"], v["CollectionType"], v["Type"]) for v in views] == [
        ("Films", "movies", "CollectionFolder"), ("Shows", "tvshows", "CollectionFolder")]
    films_view, shows_view = views[0]["Id"], views[1]["Id"]

    films = api.user_items(params={"ParentId": films_view, "Recursive": True,
                                   "IncludeItemTypes": "Movie", "SortBy": "SortName",
                                   "Fields": "MediaSources,Overview"})
    assert films["TotalRecordCount"] == 2
    assert [(f["Name"], f["ProductionYear"], f["Type"]) for f in films["Items"]] == [
        ("Big Buck Bunny", 2008, "Movie"), ("Sintel", 2010, "Movie")]
    sintel = films["Items"][1]
    assert len(sintel["Id"]) == 32 and sintel["Id"] == sintel["Id"].lower()
    size = (library.root / "Films/Sintel (2010)/Sintel.2010.mp4").stat().st_size
    assert sintel["MediaSources"][0]["Size"] == size
    assert sintel["RunTimeTicks"] == pytest.approx(12 * 10**7, rel=0.05)

    shows = api.user_items(params={"ParentId": shows_view, "IncludeItemTypes": "Series", "Recursive": True})
    assert [s["Name"] for s in shows["Items"]] == ["Example Show"]
    show = shows["Items"][0]
    seasons = api.get_seasons(show["Id"])["Items"]
    assert [(s["IndexNumber"], s["SeriesId"], s["Type"]) for s in seasons] == [
        (1, show["Id"], "Season"), (2, show["Id"], "Season")]
    episodes = api.get_episodes(show["Id"], seasons[0]["Id"])["Items"]
    assert [(e["ParentIndexNumber"], e["IndexNumber"], e["SeasonId"], e["SeriesId"]) for e in episodes] == [
        (1, 1, seasons[0]["Id"], show["Id"]), (1, 2, seasons[0]["Id"], show["Id"])]
    assert len(api.get_episodes(show["Id"])["Items"]) == 3

    item = api.get_item(sintel["Id"])
    assert item["Name"] == "Sintel" and item["MediaSources"][0]["Container"] == "mp4"
    info = api.get_play_info(sintel["Id"], {"DirectPlayProfiles": [
        {"Container": "mp4,m4v", "Type": "Video", "VideoCodec": "h264", "AudioCodec": "aac"}]})
    source = info["MediaSources"][0]
    assert info["PlaySessionId"] and source["SupportsDirectPlay"] and source["Size"] == size
    assert {s["Type"]: s["Codec"] for s in source["MediaStreams"]} == {"Video": "h264", "Audio": "aac"}
    mkv = api.get_play_info(films["Items"][0]["Id"], {"DirectPlayProfiles": [
        {"Container": "mp4", "Type": "Video", "VideoCodec": "h264", "AudioCodec": "aac"}]})["MediaSources"][0]
    assert not mkv["SupportsDirectPlay"] and "/master.m3u8?" in mkv["TranscodingUrl"]
    subs = [s for s in mkv["MediaStreams"] if s["Type"] == "Subtitle"]
    assert subs and subs[0]["Codec"] == "subrip" and subs[0]["DeliveryUrl"].endswith(f"api_key={login['AccessToken']}")

    # the stream, byte-exact, through the URL the client builds (api_key in the query)
    url = api.video_url(sintel["Id"], source["Id"])
    data = (library.root / "Films/Sintel (2010)/Sintel.2010.mp4").read_bytes()
    r = requests.get(url, headers={"Range": "bytes=1000-20999"}, timeout=10)
    assert r.status_code == 206 and r.content == data[1000:21000]
    assert r.headers["Content-Range"] == f"bytes 1000-20999/{size}"
    assert r.headers["Accept-Ranges"] == "bytes"
    r = requests.get(url.replace("/stream?", "/stream.mkv?"), headers={"Range": f"bytes={size - 100}-"}, timeout=10)
    assert r.status_code == 206 and r.content == data[-100:]
    vtt = requests.get(server + subs[0]["DeliveryUrl"], timeout=20)
    assert vtt.status_code == 200 and vtt.text.startswith("WEBVTT"), vtt.text

    # progress reports: the same progress the web player shows
    sid = info["PlaySessionId"]
    report: dict[str, Any] = {"ItemId": sintel["Id"], "MediaSourceId": source["Id"], "PlaySessionId": sid}
    api.session_playing({**report, "PositionTicks": 0})
    api.session_progress({**report, "PositionTicks": 6 * 10**7, "IsPaused": False})
    file_id = library.files["Films/Sintel (2010)/Sintel.2010.mp4"]
    web = client.get(f"/api/library/media-files/{file_id}/progress").json()
    assert web["position"] == pytest.approx(6.0)
    api.session_stop({**report, "PositionTicks": 7 * 10**7})
    assert client.get(f"/api/library/media-files/{file_id}/progress").json()["position"] == pytest.approx(7.0)
    resume = api.get_resume_items()["Items"]
    assert [i["Id"] for i in resume] == [sintel["Id"]]
    assert resume[0]["UserData"]["PlaybackPositionTicks"] == 7 * 10**7
    # …and the reverse: the web player's position shows in the app
    client.put(f"/api/library/media-files/{file_id}/progress", json={"position": 4.0})
    assert api.get_item(sintel["Id"])["UserData"]["PlaybackPositionTicks"] == 4 * 10**7

    api.item_played(episodes[0]["Id"], True)
    assert api.get_item(episodes[0]["Id"])["UserData"]["Played"] is True
    nxt = api.get_next(series_id=show["Id"])["Items"]
    assert [e["Id"] for e in nxt] == [episodes[1]["Id"]]
    ep_file = library.files["Shows/Example Show/Season 01/Example.Show.S01E01.mp4"]
    assert client.get(f"/api/library/media-files/{ep_file}/progress").json()["watched"] is True
    api.item_played(episodes[0]["Id"], False)
    assert api.get_item(episodes[0]["Id"])["UserData"]["Played"] is False


def test_socket_keepalive(jelly: JellyfinClient, server: str) -> None:
    jelly.auth.connect_to_address(server)
    assert jelly.auth.login(server, ADMIN, ADMIN_PASSWORD)
    # reconnect with the saved credentials: the client checks its token (System/Info)
    state = jelly.authenticate(jelly.get_credentials(), discover=False)
    assert state["State"] == CONNECTION_STATE["SignedIn"], state
    seen: list[str] = []
    opened = threading.Event()

    def callback(kind: str, data: object) -> None:
        seen.append(kind)
        if kind == "WebSocketConnect":
            opened.set()

    jelly.callback = callback
    jelly.start(websocket=True, keep_alive=False)
    assert opened.wait(10), seen
    deadline = time.monotonic() + 30  # generous: a loaded 2-core machine
    # ForceKeepAlive arrived; the client sets its KeepAlive thread before it starts it,
    # and stopping it in between fails ("cannot join thread before it is started")
    while not (jelly.wsc.keepalive is not None and jelly.wsc.keepalive.is_alive()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert jelly.wsc.keepalive is not None and jelly.wsc.keepalive.is_alive()
    jelly.stop()
    jelly.wsc.join(10)
    assert "WebSocketError" not in seen


def test_episodes_from_one_on_and_adjacent(jelly_admin: JellyfinClient, library: Library) -> None:
    """The client's ``get_episodes(start_item_id=…)`` (what Kodi's add-on plays on from)
    and ``get_adjacent_episodes`` (previous / next): both answered the whole show."""
    api = jelly_admin.jellyfin
    show = api.get_items_by_letter(media="Series")["Items"][0]
    every = [e["Id"] for e in api.get_episodes(show["Id"])["Items"]]
    assert len(every) == 3
    assert [e["Id"] for e in api.get_episodes(show["Id"], start_item_id=every[1])["Items"]] == every[1:]
    assert [e["Id"] for e in api.get_adjacent_episodes(show["Id"], every[0])["Items"]] == every[:2]


def test_image_sizes_from_heights(jelly_admin: JellyfinClient, core: Core, library: Library) -> None:
    """A card asks for a poster by height (Android TV: ``maxHeight``; jellyfin-web and
    this client: ``fillWidth`` with ``fillHeight``): the smallest cached width that
    gives that height is served, not the original (600x900 here)."""
    import io

    from PIL import Image
    from sqlalchemy import update

    from reelhouse.db.models import Movie

    buf = io.BytesIO()
    Image.new("RGB", (600, 900), (20, 90, 200)).save(buf, "JPEG")
    image_id = core.metadata.images.put("source", "test:tall.jpg", buf.getvalue())
    with core.sessions() as s:
        s.execute(update(Movie).where(Movie.title == "Sintel").values(poster_image_id=image_id))
        s.commit()
    api = jelly_admin.jellyfin
    sintel = api.user_items(params={"SearchTerm": "Sintel", "Recursive": True})["Items"][0]
    tag = sintel["ImageTags"]["Primary"]

    def width(url: str) -> int:
        r = requests.get(url, timeout=30)
        assert r.status_code == 200, r.text
        return int(Image.open(io.BytesIO(r.content)).size[0])

    assert width(api.image_url(sintel["Id"], tag=tag, fill_width=133, fill_height=200)) == 200
    assert width(api.image_url(sintel["Id"], tag=tag, fill_width=100, fill_height=450)) == 400
    assert width(api.image_url(sintel["Id"], tag=tag) + "&maxHeight=300") == 200
    assert width(api.image_url(sintel["Id"], tag=tag) + "&maxHeight=2000") == 600  # never upscaled
    assert width(api.image_url(sintel["Id"], tag=tag, max_width=300)) == 400
