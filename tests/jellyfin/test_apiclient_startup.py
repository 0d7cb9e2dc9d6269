"""What jellyfin-apiclient-python (Kodi's add-on, jellyfin-mpv-shim) calls at start-up
and around playing, beyond browsing (test_apiclient.py): public info and users, Quick
Connect, capabilities, display preferences, latest, resume, next up, search, filters,
an item's user data read and written, its ancestors (how Kodi's add-on finds the
library), subtitles through the client's own URL builder, and the calls reelhouse has
nothing for (theme media, media segments, additional parts) answered empty, not 404."""

from __future__ import annotations

import pytest
import requests
from fastapi.testclient import TestClient
from jellyfin.support import Library
from jellyfin_apiclient_python import JellyfinClient

from reelhouse.core import Core

from helpers import ADMIN, ADMIN_PASSWORD

pytestmark = pytest.mark.requires_ffmpeg


@pytest.fixture
def api(jelly_admin: JellyfinClient, server: str, library: Library) -> tuple[JellyfinClient, str]:
    return jelly_admin, server


def test_start_up_and_side_calls(api: tuple[JellyfinClient, str], library: Library, client: TestClient) -> None:
    jelly, server = api
    j = jelly.jellyfin
    assert j.get_public_info(server)["ProductName"] == "Jellyfin Server"
    assert j.get_public_users() == []
    assert j.quick_connect_enabled(server) is False
    j.post_capabilities({"PlayableMediaTypes": ["Video"], "SupportsMediaControl": False,
                         "SupportedCommands": []})
    assert j.get_user_settings()["CustomPrefs"] == {}
    assert j.get_endpoint_info() == {"IsLocal": True, "IsInNetwork": True}  # 127.0.0.1
    # get_system_info reads System/Configuration (apps check their connection with it;
    # it was a 404): the server's name and resume rule, no paths
    # suggestions and recommendations: empty, in Jellyfin's shapes (were 404)
    assert j.get_suggestion()["Items"] == [] and j.get_recommendation() == []
    assert j.items("/Suggestions")["TotalRecordCount"] == 0
    config = j.get_system_info()
    assert config["ServerName"] == j.get_public_info(server)["ServerName"]
    assert (config["MinResumePct"], config["MaxResumePct"]) == (5, 90)
    assert not [k for k in config if "path" in k.lower() or "password" in k.lower()]
    views = j.get_views()["Items"]
    films, shows = views[0]["Id"], views[1]["Id"]
    assert {i["Name"] for i in j.get_recently_added(parent_id=films)} == {"Sintel", "Big Buck Bunny"}
    # the types asked for: films only; episodes one by one (GroupItems=false), or by series
    assert {i["Type"] for i in j.get_recently_added(media="Movie")} == {"Movie"}
    latest = j.user_items("/Latest", {"IncludeItemTypes": "Episode", "GroupItems": False, "Limit": 10})
    assert [i["Type"] for i in latest] == ["Episode"] * 3
    assert [i["Type"] for i in j.get_recently_added(media="Episode", parent_id=shows)] == ["Series"]
    assert j.get_filters(parent_id=films)["Years"] == [2008, 2010]

    movie = j.search_media_items(term="Sintel", media="Movie")["Items"][0]
    show = j.user_items(params={"ParentId": shows, "IncludeItemTypes": "Series", "Recursive": True})["Items"][0]
    season = j.get_seasons(show["Id"])["Items"][0]
    episode = j.get_episodes(show["Id"], season["Id"])["Items"][0]

    # user data: read, resume position and played written through it, favourite
    data = j.get_userdata_for_item(movie["Id"])
    assert (data["Played"], data["PlaybackPositionTicks"], data["ItemId"]) == (False, 0, movie["Id"])
    data = j.update_userdata_for_item(movie["Id"], {"PlaybackPositionTicks": 5 * 10**7, "IsFavorite": True})
    assert data["PlaybackPositionTicks"] == 5 * 10**7 and data["IsFavorite"] is True
    file_id = library.files["Films/Sintel (2010)/Sintel.2010.mp4"]
    assert client.get(f"/api/library/media-files/{file_id}/progress").json()["position"] == pytest.approx(5.0)
    assert [i["Id"] for i in j.get_resume_items()["Items"]] == [movie["Id"]]
    assert j.update_userdata_for_item(episode["Id"], {"Played": True})["Played"] is True
    assert [e["Id"] for e in j.get_next(series_id=show["Id"])["Items"]] != [episode["Id"]]
    assert j.get_userdata_for_item(show["Id"])["UnplayedItemCount"] == 2

    # ancestors: nearest first, up to the library
    assert [a["Id"] for a in j.get_ancestors(episode["Id"])] == [season["Id"], show["Id"], shows]
    assert [a["Id"] for a in j.get_ancestors(movie["Id"])] == [films]

    # nothing of these here, in Jellyfin's shapes
    themes = j.get_themes(movie["Id"])
    assert themes["ThemeSongsResult"]["Items"] == [] and themes["ThemeVideosResult"]["OwnerId"] == movie["Id"]
    assert j.get_media_segments(movie["Id"])["Items"] == []
    assert j.get_additional_parts(movie["Id"])["Items"] == []
    assert j.get_intros(movie["Id"])["Items"] == [] and j.get_local_trailers(movie["Id"]) == []

    # subtitles by the client's URL builder, in the format asked for
    mkv = j.search_media_items(term="Big Buck", media="Movie")["Items"][0]
    info = j.get_play_info(mkv["Id"], {"DirectPlayProfiles": [{"Type": "Video"}]})
    source = info["MediaSources"][0]
    assert source["SupportsDirectPlay"] is True  # Kodi's profile: any container
    sub = next(s for s in source["MediaStreams"] if s["Type"] == "Subtitle")
    srt = requests.get(j.subtitle_url(mkv["Id"], source["Id"], sub["Index"], "srt"), timeout=20)
    assert srt.status_code == 200 and srt.text.startswith("1\n00:00:00,") and "Hello." in srt.text


def test_login_ignores_the_case_of_the_name(jelly: JellyfinClient, server: str, core: Core) -> None:
    """A TV or phone keyboard capitalises the first letter: "Admin" logs in as
    ``admin``, as on a Jellyfin server (names match ignoring case at login); it was a
    401 "wrong user name or password"."""
    assert jelly.auth.login(server, "Admin", ADMIN_PASSWORD).get("User", {}).get("Name") == ADMIN
    core.users.add("Émile", "emile-password")
    assert jelly.auth.login(server, "éMILE", "emile-password")["User"]["Name"] == "Émile"
    assert jelly.auth.login(server, "ADMIN", "wrong password") == {}
