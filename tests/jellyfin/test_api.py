"""The Jellyfin API's own rules, through the app: case-insensitive paths and query
names, the ``/emby`` prefix, every token form, CORS, bad input (401/400/404, unknown
arguments ignored), queries (sorting, paging, filters, search), marks, images, HLS,
streaming of big unpaged answers, and the socket."""

from __future__ import annotations

import contextlib
import json
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from jellyfin.support import AUTH, Library
from starlette.websockets import WebSocketDisconnect

from reelhouse.core import Core
from reelhouse.server import create_app

from helpers import cut_request

pytestmark = pytest.mark.requires_ffmpeg


def token_of(jf: TestClient) -> str:
    header = jf.headers["authorization"]
    return header.rsplit('Token="', 1)[1].rstrip('"')


def test_paths_and_names_in_any_case_and_the_emby_prefix(jf: TestClient, library: Library) -> None:
    for path in ("/jellyfin/System/Info/Public", "/jellyfin/system/info/public", "/JELLYFIN/SYSTEM/INFO/PUBLIC",
                 "/jellyfin/emby/System/Info/Public", "/jellyfin/System/Info/Public/"):
        r = jf.get(path, follow_redirects=False)
        assert r.status_code == 200 and r.json()["ProductName"] == "Jellyfin Server", path
    a = jf.get("/jellyfin/Items", params={"Recursive": "True", "IncludeItemTypes": "Movie"}).json()
    b = jf.get("/jellyfin/items", params={"recursive": "true", "includeitemtypes": "movie"}).json()
    c = jf.get("/jellyfin/Emby/Items", params={"RECURSIVE": "1", "includeItemTypes": "MOVIE"}).json()
    assert a == b == c and a["TotalRecordCount"] == 2


def test_every_token_form(core: Core, jf: TestClient, library: Library) -> None:
    token = token_of(jf)
    with TestClient(create_app(core)) as anon:
        assert anon.get("/jellyfin/Users/Me").status_code == 401
        forms = [
            {"authorization": f'MediaBrowser Client="x", Token="{token}"'},
            {"authorization": f'Emby UserId="1", Client="x", Token="{quote(token)}"'},  # URL-encoded
            {"authorization": f'MediaBrowser Token="", Client="x", Token="{token}"'},  # repeated
            {"x-emby-authorization": f'MediaBrowser Client="x", DeviceId="i", Version="1", Token="{token}"'},
            {"x-emby-token": token},
            {"x-mediabrowser-token": token},
        ]
        for headers in forms:
            assert anon.get("/jellyfin/Users/Me", headers=headers).status_code == 200, headers
        for name in ("api_key", "ApiKey", "API_KEY"):
            assert anon.get(f"/jellyfin/Users/Me?{name}={token}").status_code == 200, name
        for bad in ({"x-emby-token": token[:-2] + "xx"}, {"authorization": f"Bearer {token}"},
                    {"authorization": 'MediaBrowser Token=""'}):
            r = anon.get("/jellyfin/Users/Me", headers=bad)
            assert r.status_code == 401 and r.json()["status"] == 401, bad
        # web API tokens and Jellyfin tokens are the same reelhouse sessions
        assert anon.get("/api/auth/me", headers={"authorization": f"Bearer {token}"}).status_code == 200


def test_login_forms_and_failures(jf: TestClient) -> None:
    for body in ({"username": "admin", "Pw": "admin-password"}, {"Username": "admin", "Password": "admin-password"},
                 {"USERNAME": "admin", "pw": "admin-password"}):
        r = jf.post("/jellyfin/Users/AuthenticateByName", json=body)
        assert r.status_code == 200 and r.json()["AccessToken"], body
        assert r.json()["ServerId"] == jf.get("/jellyfin/System/Info/Public").json()["Id"]
    assert jf.post("/jellyfin/Users/AuthenticateByName", json={"Username": "admin", "Pw": "nope"}).status_code == 401
    assert jf.post("/jellyfin/Users/AuthenticateByName", json={"Username": "ghost", "Pw": "x"}).status_code == 401
    assert jf.post("/jellyfin/Users/AuthenticateByName", json={"Pw": "x"}).status_code == 400
    assert jf.post("/jellyfin/Users/AuthenticateByName", content=b"{not json").status_code == 400
    assert jf.post("/jellyfin/Users/AuthenticateByName", json=["admin"]).status_code == 400
    assert jf.get("/jellyfin/Users/Public").json() == []
    assert jf.get("/jellyfin/QuickConnect/Enabled").json() is False
    assert jf.get("/jellyfin/System/Ping").status_code == 200


def test_cors_preflight(jf: TestClient) -> None:
    r = jf.options("/jellyfin/Users/AuthenticateByName", headers={
        "origin": "https://app.example", "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,x-emby-authorization"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert "x-emby-authorization" in r.headers["access-control-allow-headers"].lower()
    got = jf.get("/jellyfin/System/Info/Public", headers={"origin": "https://app.example"})
    assert got.headers["access-control-allow-origin"] == "*"


def test_bad_input(jf: TestClient, library: Library) -> None:
    uid = jf.get("/jellyfin/Users/Me").json()["Id"]
    for path in ("/jellyfin/Items/xyz", "/jellyfin/Items/0123", f"/jellyfin/Users/{uid}/Items/{'g' * 32}",
                 "/jellyfin/Shows/nope/Seasons", "/jellyfin/Videos/zz/stream", "/jellyfin/Users/abc/Items",
                 "/jellyfin/Items/Nope/Images/Primary"):
        r = jf.get(path)
        assert r.status_code == 400 and r.json()["title"] == "Bad Request", path
    unknown = "000000017265656c00000000000f4240"
    foreign = "4f0d5b2e9c1a4e7f8b3c2d1e0f9a8b7c"  # a GUID from a real Jellyfin server
    for path in (f"/jellyfin/Items/{unknown}", f"/jellyfin/Items/{foreign}", f"/jellyfin/Videos/{unknown}/stream",
                 f"/jellyfin/Items/{unknown}/PlaybackInfo", f"/jellyfin/Shows/{foreign}/Episodes",
                 f"/jellyfin/Items/{unknown}/Images/Primary", "/jellyfin/No/Such/Route"):
        r = jf.get(path)
        assert r.status_code == 404 and r.json()["status"] == 404, path
    for params in ({"Limit": "abc"}, {"StartIndex": "-1"}, {"Recursive": "maybe"}, {"ParentId": "12"}):
        assert jf.get("/jellyfin/Items", params=params).status_code == 400, params
    # unknown names and unknown values of known lists are ignored, as Jellyfin does
    r = jf.get("/jellyfin/Items", params={"Recursive": "true", "IncludeItemTypes": "Movie", "Frobnicate": "1",
                                         "EnableImageTypes": "Primary,Weird", "SortBy": "Nonsense,SortName",
                                         "Fields": "NoSuchField"})
    assert r.status_code == 200 and r.json()["TotalRecordCount"] == 2
    assert jf.get("/jellyfin/Items", params={"IncludeItemTypes": "MusicAlbum", "Recursive": "true"}).json()[
        "TotalRecordCount"] == 0
    assert jf.post(f"/jellyfin/Items/{unknown}/PlaybackInfo", content=b"[1").status_code == 400
    assert jf.post("/jellyfin/Sessions/Playing/Progress", json={"PositionTicks": 5}).status_code == 400
    assert jf.post("/jellyfin/Sessions/Playing/Progress", content=b'"x"').status_code == 400


def test_queries_sort_page_filter_search(jf: TestClient, library: Library) -> None:
    def names(**params: str) -> list[str]:
        r = jf.get("/jellyfin/Items", params={"Recursive": "true", **params})
        assert r.status_code == 200, r.text
        return [i["Name"] for i in r.json()["Items"]]

    assert names(IncludeItemTypes="Movie,Series") == ["Big Buck Bunny", "Example Show", "Sintel"]
    assert names(IncludeItemTypes="Movie,Series", SortOrder="Descending") == ["Sintel", "Example Show",
                                                                             "Big Buck Bunny"]
    assert names(IncludeItemTypes="Movie,Series", StartIndex="1", Limit="1") == ["Example Show"]
    assert names(IncludeItemTypes="Movie", SortBy="ProductionYear", SortOrder="Descending") == ["Sintel",
                                                                                              "Big Buck Bunny"]
    assert names(IncludeItemTypes="Movie", Years="2008") == ["Big Buck Bunny"]
    # digits str.isdigit takes but int() or the database does not (was a 500)
    for years in ("\u00b9,2008", "9" * 5000, "\u0662\u0660\u0660\u0668", "20 08"):
        r = jf.get("/jellyfin/Items", params={"Recursive": "true", "Years": years})
        assert r.status_code == 400 and "Years" in r.json()["detail"], (years, r.text)
    assert names(SearchTerm="sint") == ["Sintel"]
    # IsFolder / Filters=IsFolder,IsNotFolder: series and seasons are the folders (the
    # filter was ignored: films came back as folders)
    assert names(IsFolder="true") == names(Filters="IsFolder") == ["Example Show"]
    assert names(IsFolder="false") == names(Filters="IsNotFolder") == ["Big Buck Bunny", "Sintel"]
    assert names(IncludeItemTypes="Season,Episode", Filters="IsFolder") == ["Season 1", "Season 2"]
    assert names(IncludeItemTypes="Episode", IsFolder="true") == []
    assert names(IncludeItemTypes="Episode") == ["Episode 1", "Episode 2", "Episode 1"]
    r = jf.get("/jellyfin/Items", params={"Recursive": "true", "IncludeItemTypes": "Movie", "Limit": "1",
                                          "EnableTotalRecordCount": "false"})
    assert len(r.json()["Items"]) == 1
    ids = [i["Id"] for i in jf.get("/jellyfin/Items", params={"Recursive": "true"}).json()["Items"]]
    assert names(Ids=",".join(ids[:2])) == names()[:2]
    sintel = jf.get("/jellyfin/Items", params={"SearchTerm": "Sintel", "Recursive": "1"}).json()["Items"][0]
    jf.post(f"/jellyfin/UserFavoriteItems/{sintel['Id']}")
    assert names(Filters="IsFavorite") == ["Sintel"]
    assert names(IsFavorite="true") == ["Sintel"]
    jf.delete(f"/jellyfin/UserFavoriteItems/{sintel['Id']}")
    assert names(Filters="IsFavorite") == []
    jf.post(f"/jellyfin/UserPlayedItems/{sintel['Id']}")
    assert names(Filters="IsPlayed") == ["Sintel"]
    assert "Sintel" not in names(Filters="IsUnplayed")
    assert names(IsPlayed="true") == ["Sintel"]


def test_episodes_by_season_number_and_from_an_episode(jf: TestClient, library: Library) -> None:
    """``Shows/{id}/Episodes?Season=n`` (Jellyfin's season number filter; Kodi's and
    older apps' season pages send it) lists that season only: it was ignored, every
    season's episodes came back. No such season: an empty list; a SeasonId wins."""
    show = jf.get("/jellyfin/Items", params={"Recursive": "1", "IncludeItemTypes": "Series"}).json()["Items"][0]

    def episodes(**params: str) -> list[tuple[int, int]]:
        r = jf.get(f"/jellyfin/Shows/{show['Id']}/Episodes", params=params)
        assert r.status_code == 200, r.text
        return [(e["ParentIndexNumber"], e["IndexNumber"]) for e in r.json()["Items"]]

    assert episodes() == [(1, 1), (1, 2), (2, 1)]
    assert episodes(Season="2") == [(2, 1)]
    assert episodes(season="1") == [(1, 1), (1, 2)]
    assert episodes(Season="0") == [] and episodes(Season="7") == []
    seasons = jf.get(f"/jellyfin/Shows/{show['Id']}/Seasons").json()["Items"]
    assert episodes(Season="1", SeasonId=seasons[1]["Id"]) == [(2, 1)]
    for bad in ("x", "-1", "99999999999"):
        r = jf.get(f"/jellyfin/Shows/{show['Id']}/Episodes", params={"Season": bad})
        assert r.status_code == 400 and "season" in r.json()["detail"], (bad, r.text)
    # StartItemId: from that episode on (the apps' "play from here"), then paged
    all_ids = [e["Id"] for e in jf.get(f"/jellyfin/Shows/{show['Id']}/Episodes").json()["Items"]]
    r = jf.get(f"/jellyfin/Shows/{show['Id']}/Episodes", params={"StartItemId": all_ids[1]}).json()
    assert [e["Id"] for e in r["Items"]] == all_ids[1:] and r["TotalRecordCount"] == 2
    r = jf.get(f"/jellyfin/Shows/{show['Id']}/Episodes", params={"StartItemId": all_ids[0], "StartIndex": "1",
                                                                  "Limit": "1"}).json()
    assert [e["Id"] for e in r["Items"]] == all_ids[1:2] and r["TotalRecordCount"] == 3
    r = jf.get(f"/jellyfin/Shows/{show['Id']}/Episodes", params={"StartItemId": all_ids[0], "Season": "2"}).json()
    assert r["Items"] == [] and r["TotalRecordCount"] == 0  # not in the list
    r = jf.get(f"/jellyfin/Shows/{show['Id']}/Episodes", params={"StartItemId": show["Id"]}).json()
    assert r["Items"] == [] and r["TotalRecordCount"] == 0  # not an episode: not in it either
    assert jf.get(f"/jellyfin/Shows/{show['Id']}/Episodes", params={"StartItemId": "zz"}).status_code == 400
    # AdjacentTo: the episode and its neighbours (jellyfin-apiclient-python's
    # get_adjacent_episodes); one not in the list leaves the list whole
    def adjacent(item_id: str) -> list[str]:
        r = jf.get(f"/jellyfin/Shows/{show['Id']}/Episodes", params={"AdjacentTo": item_id})
        assert r.status_code == 200, r.text
        assert r.json()["TotalRecordCount"] == len(r.json()["Items"])
        return [e["Id"] for e in r.json()["Items"]]

    assert adjacent(all_ids[1]) == all_ids and adjacent(all_ids[0]) == all_ids[:2]
    assert adjacent(all_ids[2]) == all_ids[1:] and adjacent(show["Id"]) == all_ids
    assert jf.get(f"/jellyfin/Shows/{show['Id']}/Episodes", params={"AdjacentTo": "zz"}).status_code == 400


def test_series_user_data_and_latest(jf: TestClient, library: Library) -> None:
    show = jf.get("/jellyfin/Items", params={"Recursive": "1", "IncludeItemTypes": "Series"}).json()["Items"][0]
    assert show["UserData"]["UnplayedItemCount"] == 3 and show["ChildCount"] == 2
    jf.post(f"/jellyfin/UserPlayedItems/{show['Id']}")
    show = jf.get(f"/jellyfin/Items/{show['Id']}").json()
    assert show["UserData"]["Played"] is True and show["UserData"]["UnplayedItemCount"] == 0
    latest = jf.get("/jellyfin/Items/Latest").json()  # unplayed titles only (HidePlayedInLatest)
    assert isinstance(latest, list) and {i["Name"] for i in latest} == {"Sintel", "Big Buck Bunny"}
    latest = jf.get("/jellyfin/Items/Latest", params={"IsPlayed": "true"}).json()
    assert [i["Name"] for i in latest] == ["Example Show"]


def test_images(jf: TestClient, core: Core, library: Library, sample_mp4: object) -> None:
    import io

    from PIL import Image

    from reelhouse.db.models import Movie
    buf = io.BytesIO()
    Image.new("RGB", (600, 900), (200, 30, 30)).save(buf, "JPEG")
    image_id = core.metadata.images.put("source", "test:poster.jpg", buf.getvalue())
    with core.sessions() as s:
        movie = s.query(Movie).filter(Movie.title == "Sintel").one()
        movie.poster_image_id = image_id
        s.commit()
    sintel = jf.get("/jellyfin/Items", params={"SearchTerm": "Sintel", "Recursive": "1"}).json()["Items"][0]
    assert sintel["ImageTags"]["Primary"]
    tag = sintel["ImageTags"]["Primary"]
    r = jf.get(f"/jellyfin/Items/{sintel['Id']}/Images/Primary", params={"maxWidth": 300, "tag": tag},
               headers={"authorization": ""})  # an <img>: no token, the tag from ImageTags
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    # ids are guessable: without a token, a wrong or missing tag gives nothing, and an
    # unknown item looks the same as a known one
    for params in ({"tag": "x"}, {}, {"tag": tag.replace(tag[0], "0" if tag[0] != "0" else "1")}):
        assert jf.get(f"/jellyfin/Items/{sintel['Id']}/Images/Primary", params=params,
                      headers={"authorization": ""}).status_code == 401, params
    unknown = "000000017265656c00000000000f4240"
    assert jf.get(f"/jellyfin/Items/{unknown}/Images/Primary", params={"tag": tag},
                  headers={"authorization": ""}).status_code == 401
    assert jf.get(f"/jellyfin/Items/{sintel['Id']}/Images/Primary").status_code == 200  # token, no tag
    assert Image.open(io.BytesIO(r.content)).size[0] == 400
    assert jf.get(f"/jellyfin/Items/{sintel['Id']}/Images/Backdrop/0").status_code == 404
    assert jf.get(f"/jellyfin/Items/{sintel['Id']}/Images/Logo").status_code == 404
    # the list of an item's images (was a 404): what ImageTags names, with its tags
    listed = jf.get(f"/jellyfin/Items/{sintel['Id']}/Images")
    assert listed.status_code == 200 and listed.json() == [{"ImageType": "Primary", "ImageTag": tag}]
    big_buck = jf.get("/jellyfin/Items", params={"SearchTerm": "Big Buck", "Recursive": "1"}).json()["Items"][0]
    assert jf.get(f"/jellyfin/Items/{big_buck['Id']}/Images").json() == []
    assert jf.get(f"/jellyfin/Items/{unknown}/Images").status_code == 404
    assert jf.get(f"/jellyfin/Items/{sintel['Id']}/Images", headers={"authorization": ""}).status_code == 401


def test_hls_through_the_jellyfin_paths(jf: TestClient, library: Library) -> None:
    movie = jf.get("/jellyfin/Items", params={"SearchTerm": "Big Buck", "Recursive": "1"}).json()["Items"][0]
    info = jf.post(f"/jellyfin/Items/{movie['Id']}/PlaybackInfo", json={"DeviceProfile": {
        "DirectPlayProfiles": [{"Container": "mp4", "Type": "Video", "VideoCodec": "h264", "AudioCodec": "aac"}]}})
    source = info.json()["MediaSources"][0]
    assert source["SupportsDirectPlay"] is False and source["TranscodingSubProtocol"] == "hls"
    master = jf.get("/jellyfin" + source["TranscodingUrl"], headers={"authorization": ""})
    assert master.status_code == 200 and master.text.startswith("#EXTM3U"), master.text
    variant = next(line for line in master.text.splitlines() if line and not line.startswith("#"))
    base = "/jellyfin" + source["TranscodingUrl"].split("master.m3u8")[0]
    playlist = jf.get(base + variant, headers={"authorization": ""})
    assert playlist.status_code == 200 and "#EXTINF" in playlist.text
    first = next(line for line in playlist.text.splitlines() if line and not line.startswith("#"))
    seg = jf.get(base + first, headers={"authorization": ""})
    assert seg.status_code == 200 and seg.content[:1] == b"\x47"  # MPEG-TS sync byte
    main = jf.get(f"/jellyfin/Videos/{movie['Id']}/main.m3u8", params={"api_key": token_of(jf)})
    # a film with sound: the master playlist (a rendition's segments hold no audio)
    assert main.status_code == 200 and "#EXT-X-STREAM-INF" in main.text and "TYPE=AUDIO" in main.text
    # its URIs sit under the movie's id and carry only the playback token
    rendition = next(line for line in main.text.splitlines() if line and not line.startswith("#"))
    media = jf.get(f"/jellyfin/Videos/{movie['Id']}/{rendition}", headers={"authorization": ""})
    assert media.status_code == 200 and "#EXTINF" in media.text, media.text
    first = next(line for line in media.text.splitlines() if line and not line.startswith("#"))
    seg = jf.get(f"/jellyfin/Videos/{movie['Id']}/{first}", headers={"authorization": ""})
    assert seg.status_code == 200 and seg.content[:1] == b"\x47", (first, seg.text[:200])
    bad = first.split("token=")[0] + "token=not-a-token"
    assert jf.get(f"/jellyfin/Videos/{movie['Id']}/{bad}", headers={"authorization": ""}).status_code == 401
    assert jf.get(f"/jellyfin/Videos/{'0' * 32}/{first}", headers={"authorization": ""}).status_code == 401
    assert jf.get(base + variant.split("?")[0], headers={"authorization": ""}).status_code == 401


def test_range_head_and_416(jf: TestClient, library: Library) -> None:
    movie = jf.get("/jellyfin/Items", params={"SearchTerm": "Sintel", "Recursive": "1"}).json()["Items"][0]
    data = (library.root / "Films/Sintel (2010)/Sintel.2010.mp4").read_bytes()
    url = f"/jellyfin/Videos/{movie['Id']}/stream.mp4?static=true"
    head = jf.head(url)
    assert head.status_code == 200 and head.headers["content-length"] == str(len(data))
    assert jf.get(url, headers={"range": "bytes=-10"}).content == data[-10:]
    r = jf.get(url, headers={"range": f"bytes={len(data)}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{len(data)}"
    assert jf.get(url, headers={"authorization": ""}).status_code == 401


def test_unpaged_answers_stream(jf: TestClient, library: Library, core: Core) -> None:
    r = jf.get("/jellyfin/Items", params={"Recursive": "true", "IncludeItemTypes": "Movie,Series,Season,Episode"})
    assert "content-length" not in r.headers  # written as it is read
    body = json.loads(r.content)
    assert body["TotalRecordCount"] == len(body["Items"]) == 8


def test_socket(core: Core, jf: TestClient) -> None:
    token = token_of(jf)
    with jf.websocket_connect(f"/jellyfin/socket?api_key={token}&deviceId=dev-1") as ws:
        hello = ws.receive_json()
        assert hello["MessageType"] == "ForceKeepAlive" and hello["Data"] == 60
        ws.send_json({"MessageType": "KeepAlive"})
        assert ws.receive_json()["MessageType"] == "KeepAlive"
        ws.send_text("not json")
        ws.send_text("[" * 60000)  # nested past json's recursion limit: ignored like any bad message
        ws.send_json({"MessageType": "SessionsStart", "Data": "0,1500"})
        ws.send_json({"MessageType": "KeepAlive"})
        assert ws.receive_json()["MessageType"] == "KeepAlive"
    with jf.websocket_connect("/jellyfin/socket", headers={"authorization": AUTH + f', Token="{token}"'}) as ws:
        assert ws.receive_json()["MessageType"] == "ForceKeepAlive"
    with pytest.raises(WebSocketDisconnect) as info, \
            jf.websocket_connect("/jellyfin/socket?api_key=bad", headers={"authorization": ""}) as ws:
        ws.receive_json()
    assert info.value.code == 1008


def test_socket_refuses_binary_frames_and_floods(core: Core, jf: TestClient) -> None:
    """A binary frame raised KeyError('text') in the handler (a traceback, the socket
    cut with 1006); a flood of KeepAlives was answered one for one without limit. Now
    1003 and 1008, as on the party socket."""
    token = token_of(jf)
    url = f"/jellyfin/socket?api_key={token}&deviceId=dev-1"
    with pytest.raises(WebSocketDisconnect) as info, jf.websocket_connect(url) as ws:
        ws.receive_json()
        ws.send_bytes(b"\x00\x01binary")
        ws.receive_json()
    assert info.value.code == 1003
    with pytest.raises(WebSocketDisconnect) as info, jf.websocket_connect(url) as ws:
        ws.receive_json()
        # the burst and 200 more: past it even if a loaded machine spreads them over 10 s
        # of refill (with 5 more, they had to come within 0.25 s)
        for _ in range(int(core.settings.ws_messages_per_second * 2) + 200):
            ws.send_json({"MessageType": "KeepAlive"})
        while True:
            ws.receive_json()
    assert info.value.code == 1008


def test_socket_limits_are_per_user(core: Core, jf: TestClient) -> None:
    """One user opened as many ``/socket``s as they liked (2,000 took 147 MB and 2,000
    file descriptors of the server: under the usual limit of 1,024 open files the
    server then accepts nobody), each with its own message budget. Now, as on the party
    socket: at most ``ws_connections_per_user`` of them per process (the next closes
    with 1008) and one message budget for them together."""
    token = token_of(jf)
    url = f"/jellyfin/socket?api_key={token}&deviceId=dev-1"
    cap = core.settings.ws_connections_per_user
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(jf.websocket_connect(url)) for _ in range(cap)]
        for ws in sockets:
            assert ws.receive_json()["MessageType"] == "ForceKeepAlive"
        with pytest.raises(WebSocketDisconnect) as info, jf.websocket_connect(url) as extra:
            extra.receive_json()
            extra.receive_json()
        assert info.value.code == 1008 and "too many connections" in info.value.reason
        sockets[0].close()
        with jf.websocket_connect(url) as again:  # one closed: room for one more
            assert again.receive_json()["MessageType"] == "ForceKeepAlive"
            again.send_json({"MessageType": "KeepAlive"})
            assert again.receive_json()["MessageType"] == "KeepAlive"
    # the budget is the user's: each of two sockets stays within a burst, together they
    # go over it (unless the sends took ~2 s: the budget refills at the rate)
    burst = int(core.settings.ws_messages_per_second * 2)
    with pytest.raises(WebSocketDisconnect) as info, jf.websocket_connect(url) as a, \
            jf.websocket_connect(url) as b:
        a.receive_json()
        b.receive_json()
        for _ in range(burst - 2):
            a.send_json({"MessageType": "KeepAlive"})
        for _ in range(burst - 2):
            assert a.receive_json()["MessageType"] == "KeepAlive"  # a took them all
        for _ in range(burst):
            b.send_json({"MessageType": "KeepAlive"})
        for _ in range(burst):
            b.receive_json()
        pytest.fail("the second socket had a budget of its own")
    assert info.value.code == 1008


def test_bodies_are_limited(jf: TestClient, core: Core) -> None:
    big = b"{" + b" " * (core.settings.json_body_limit + 10) + b"}"
    for path in ("/jellyfin/Users/AuthenticateByName", "/jellyfin/Sessions/Playing/Progress"):
        r = jf.post(path, content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["status"] == 413, path


def test_bodies_nested_too_deep_are_400(jf: TestClient) -> None:
    """``[[[[…`` past json's recursion limit raised RecursionError (not a ValueError):
    a 500 on every POST that reads a JSON body. Found by a hand probe."""
    for path in ("/jellyfin/Users/AuthenticateByName", "/jellyfin/Sessions/Playing",
                 "/jellyfin/Sessions/Playing/Progress", "/jellyfin/Sessions/Playing/Stopped",
                 "/jellyfin/Items/000000017265656c0000000000000001/PlaybackInfo"):
        for body in (b"[" * 100_000, b'{"a":' * 50_000):
            r = jf.post(path, content=body, headers={"content-type": "application/json"})
            assert r.status_code == 400 and "JSON" in r.json()["detail"], (path, r.status_code, r.text)


def test_resume_by_parent(jf: TestClient, library: Library) -> None:
    """``UserItems/Resume?ParentId=``: the apps' "Continue watching" row of one library
    (or of a show, or a season) holds only its titles; the ParentId was ignored."""
    items = jf.get("/jellyfin/Items", params={"Recursive": "true", "IncludeItemTypes": "Movie,Episode,Series,Season",
                                             "Fields": "ParentId"}).json()["Items"]
    by_name = {(i["Type"], i["Name"]): i for i in items}
    sintel = by_name[("Movie", "Sintel")]
    episode = next(i for i in items if i["Type"] == "Episode" and i.get("ParentIndexNumber") == 1)
    for item in (sintel, episode):
        r = jf.post("/jellyfin/Sessions/Playing/Progress", json={"ItemId": item["Id"], "PositionTicks": 10_000_000})
        assert r.status_code == 204, r.text
    views = {v["CollectionType"]: v["Id"] for v in jf.get("/jellyfin/UserViews").json()["Items"]}
    show = by_name[("Series", "Example Show")]["Id"]
    seasons = {s["IndexNumber"]: s["Id"] for s in jf.get(f"/jellyfin/Shows/{show}/Seasons").json()["Items"]}

    def resumed(**params: str) -> set[str]:
        r = jf.get("/jellyfin/UserItems/Resume", params=params)
        assert r.status_code == 200, r.text
        return {i["Id"] for i in r.json()["Items"]}

    assert resumed() == {sintel["Id"], episode["Id"]}
    assert resumed(ParentId=views["movies"]) == {sintel["Id"]}
    assert resumed(ParentId=views["tvshows"]) == {episode["Id"]}
    assert resumed(ParentId=show) == {episode["Id"]}
    assert resumed(ParentId=seasons[1]) == {episode["Id"]}
    assert resumed(ParentId=seasons[2]) == set()
    assert jf.get("/jellyfin/UserItems/Resume", params={"ParentId": "nope"}).status_code == 400


def test_totals_follow_the_alphabet_bar(jf: TestClient, library: Library) -> None:
    """TotalRecordCount is cached per filter for 10 s: NameStartsWith and NameLessThan
    are part of the filter (they were not: "S" answered "B"'s total)."""
    def total(**params: str) -> int:
        return int(jf.get("/jellyfin/Items", params={"Recursive": "true", "IncludeItemTypes": "Movie",
                                                     "Limit": "1", **params}).json()["TotalRecordCount"])
    assert (total(NameStartsWith="B"), total(NameStartsWith="S"), total(NameStartsWith="Q")) == (1, 1, 0)
    assert (total(NameLessThan="C"), total(NameLessThan="A"), total()) == (1, 0, 2)


def test_a_client_gone_mid_body_is_400_not_500(jf: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    """A client whose connection dropped in the middle of its login or progress body
    made ``read_body`` raise ClientDisconnect: a 500 and two tracebacks in the log.
    Found by a hand probe (a slow connection cut mid-request)."""
    for path in ("/jellyfin/Users/AuthenticateByName", "/jellyfin/Sessions/Playing/Progress"):
        caplog.clear()
        status = cut_request(jf, "POST", path, b"", [
            (b"content-type", b"application/json"),
            (b"authorization", jf.headers["authorization"].encode())])
        assert status == 400, path
        assert "unhandled error" not in caplog.text, path


def test_media_source_id_may_be_the_item_id(jf: TestClient, library: Library) -> None:
    """A Jellyfin server gives an item's first media source the item's own id, and apps
    send it as ``MediaSourceId``: it picks the item's file (was a 404: a progress report
    so sent was lost, PlaybackInfo and the stream failed). Another item's id is 404."""
    films = jf.get("/jellyfin/Items", params={"Recursive": "1", "IncludeItemTypes": "Movie"}).json()["Items"]
    sintel, other = (next(f for f in films if f["Name"] == name) for name in ("Sintel", "Big Buck Bunny"))
    info = jf.post(f"/jellyfin/Items/{sintel['Id']}/PlaybackInfo", json={"MediaSourceId": sintel["Id"]})
    assert info.status_code == 200, info.text
    assert [s["Path"] for s in info.json()["MediaSources"]] == ["Sintel.2010.mp4"]
    r = jf.get(f"/jellyfin/Videos/{sintel['Id']}/stream", params={"static": "true", "MediaSourceId": sintel["Id"]},
               headers={"range": "bytes=0-9"})
    film = library.root / "Films/Sintel (2010)/Sintel.2010.mp4"
    assert r.status_code == 206 and r.content == film.read_bytes()[:10]
    report = {"ItemId": sintel["Id"], "MediaSourceId": sintel["Id"], "PositionTicks": 2 * 10**7}
    assert jf.post("/jellyfin/Sessions/Playing/Progress", json=report).status_code == 204
    assert jf.get(f"/jellyfin/Items/{sintel['Id']}").json()["UserData"]["PlaybackPositionTicks"] == 2 * 10**7
    for bad in (other["Id"], "not-an-id"):
        r = jf.post("/jellyfin/Sessions/Playing/Progress", json={**report, "MediaSourceId": bad})
        assert r.status_code == (400 if bad == "not-an-id" else 404), (bad, r.text)
        r = jf.post(f"/jellyfin/Items/{sintel['Id']}/PlaybackInfo", json={"MediaSourceId": bad})
        assert r.status_code == (400 if bad == "not-an-id" else 404), (bad, r.text)
