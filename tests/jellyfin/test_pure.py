"""The pure parts of the Jellyfin translation: ids, authorization values, arguments,
the mount's path rule, DeviceProfile → ClientCaps (property tests + real values)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelhouse.db.limits import INT_MAX
from reelhouse.errors import InvalidInput, NotFound
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.asgi import normal_path
from reelhouse.jellyfin.auth import parse_authorization, token_of
from reelhouse.jellyfin.media import anamorphic, aspect_ratio, ticks
from reelhouse.jellyfin.params import Args, body_args
from reelhouse.jellyfin.playback import ANY_CONTAINER, caps_from_profile, max_bitrate_of

KINDS = ["movie", "show", "season", "episode", "file", "view", "user", "image"]


@given(st.sampled_from(KINDS), st.integers(0, INT_MAX))
def test_ids_round_trip(kind: ids.Kind, row: int) -> None:
    text = ids.encode(kind, row)
    assert len(text) == 32 and text == text.lower() and int(text, 16) >= 0
    assert ids.decode(text) == ids.Ref(kind, row)
    dashed = f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}".upper()  # as a UUID
    assert ids.decode(dashed) == ids.Ref(kind, row)


@given(st.text(max_size=40))
def test_ids_never_crash(text: str) -> None:
    try:
        ids.decode(text)
    except (InvalidInput, NotFound):
        pass


def test_ids_kinds_and_foreign_ids() -> None:
    movie = ids.encode("movie", 7)
    with pytest.raises(NotFound):
        ids.decode(movie, "show")
    with pytest.raises(NotFound):
        ids.decode("4f0d5b2e9c1a4e7f8b3c2d1e0f9a8b7c")  # a real Jellyfin GUID: not ours
    with pytest.raises(InvalidInput):
        ids.decode("xyz")
    for row in (INT_MAX + 1, 2**63 - 1, 2**64 - 1):  # well formed, but past any row id: 404, not a DB overflow
        with pytest.raises(NotFound):
            ids.decode(f"{1:08x}7265656c{row:016x}")
    assert ids.try_decode(None) is None and ids.try_decode("nope") is None
    assert ids.server_id(b"a") == ids.server_id(b"a") != ids.server_id(b"b")


@pytest.mark.parametrize(("value", "client", "device_id", "token"), [
    # jellyfin-web 10.10
    ('MediaBrowser Client="Jellyfin Web", Device="Firefox", DeviceId="TW96aWxsYQ", Version="10.10.7", '
     'Token="abc"', "Jellyfin Web", "TW96aWxsYQ", "abc"),
    # before login, then the token appended (jellyfin-apiclient-python)
    ('MediaBrowser Client="kodi", Device="box", DeviceId="d1", Version="1", Token="", Token="t2"',
     "kodi", "d1", "t2"),
    # Emby scheme with UserId, URL-encoded values (Android TV, Swiftfin)
    ('Emby UserId="u", Client="Android%20TV", Device="Shield", DeviceId="x%3Dy", Version="0.16", Token="t%2B3"',
     "Android TV", "x=y", "t+3"),
    ('mediabrowser client=Findroid, deviceid=f1, token=t4', "Findroid", "f1", "t4"),
    ("Bearer abc", None, None, None),
    ("", None, None, None),
])
def test_authorization_values(value: str, client: str | None, device_id: str | None, token: str | None) -> None:
    info = parse_authorization(value)
    assert (info.client, info.device_id, info.token) == (client, device_id, token)


@given(st.text(max_size=300))
def test_authorization_never_crashes(value: str) -> None:
    parse_authorization("MediaBrowser " + value)


def test_token_sources_in_order() -> None:
    assert token_of({"authorization": 'MediaBrowser Token="a"', "x-emby-token": "b"}, {})[0] == "a"
    assert token_of({"x-emby-authorization": 'MediaBrowser Token="c"'}, {})[0] == "c"
    assert token_of({"x-mediabrowser-token": "d"}, {})[0] == "d"
    assert token_of({}, {"api_key": "e"})[0] == "e"
    assert token_of({}, {"apikey": "f"})[0] == "f"
    assert token_of({"authorization": 'MediaBrowser Token=""'}, {})[0] is None


def test_args_as_clients_send_them() -> None:
    args = Args([("ParentId", "p"), ("fields", "A,B"), ("Fields", "C"), ("Recursive", "True"),
                 ("IsFavorite", "false"), ("Limit", "20"), ("Empty", "")])
    assert args.text("parentid") == "p" and args.text("PARENTID") == "p"
    assert args.values("FIELDS") == ["A", "B", "C"] and args.lower_set("fields") == {"a", "b", "c"}
    assert args.flag("recursive") is True and args.flag("isfavorite") is False
    assert args.number("limit") == 20 and args.text("empty") is None and not args.has("nothing")
    with pytest.raises(InvalidInput):
        Args([("Limit", "x")]).number("limit")
    with pytest.raises(InvalidInput):
        Args([("Limit", "-3")]).number("limit")
    with pytest.raises(InvalidInput):
        Args([("Recursive", "perhaps")]).flag("recursive")
    body = body_args({"ItemId": "i", "PositionTicks": 5, "IsPaused": True, "Ids": ["a", "b"], "X": {"y": 1}})
    assert body.text("itemid") == "i" and body.number("positionticks") == 5
    assert body.flag("ispaused") is True and body.values("ids") == ["a", "b"]
    with pytest.raises(InvalidInput):
        body_args([1, 2])
    assert Args([("Limit", "1.5")]).number("limit", decimal=True) == 1
    with pytest.raises(InvalidInput):
        Args([("Limit", "1.5")]).number("limit")


@pytest.mark.parametrize(("query", "body", "profile", "expected"), [
    ([("maxStreamingBitrate", "200000")], {"MaxStreamingBitrate": 1}, {"MaxStreamingBitrate": 2}, 200_000),
    ([("MaxStreamingBitrate", "")], {"maxstreamingbitrate": 1.5e6}, {"MaxStreamingBitrate": 2}, 1_500_000),
    ([], {}, {"MaxStreamingBitrate": 140_000_000}, 140_000_000),  # jellyfin-web's DeviceProfile
    ([], {}, {"MaxStreamingBitrate": True}, None), ([], {}, {"MaxStreamingBitrate": "x"}, None), ([], {}, None, None),
    ([("MaxStreamingBitrate", "abc")], {}, None, InvalidInput),
    ([("MaxStreamingBitrate", "0")], {}, None, InvalidInput),
    ([], {"MaxStreamingBitrate": -5}, None, InvalidInput), ([("MaxStreamingBitrate", "nan")], {}, None, InvalidInput),
    ([("MaxStreamingBitrate", "1e20")], {}, None, InvalidInput), ([], {}, {"MaxStreamingBitrate": 1e20}, InvalidInput),
])
def test_max_streaming_bitrate(query: list[tuple[str, str]], body: dict[str, object], profile: object,
                               expected: int | type[Exception] | None) -> None:
    """The query's, else the body's, else the DeviceProfile's (MediaInfoController), in bits/s."""
    if isinstance(expected, type):
        with pytest.raises(expected, match="MaxStreamingBitrate"):
            max_bitrate_of(Args(query), body_args(body), profile)
    else:
        assert max_bitrate_of(Args(query), body_args(body), profile) == expected


@pytest.mark.parametrize(("path", "inner"), [
    ("/jellyfin", "/"), ("/jellyfin/", "/"), ("/Jellyfin/System/Info/Public", "/system/info/public"),
    ("/jellyfin/emby/Items", "/items"), ("/JELLYFIN/Emby/Users/Me/", "/users/me"),
    ("/jellyfin//Items", "/items"), ("/jellyfinx/Items", None), ("/api/jellyfin", None), ("/", None),
])
def test_mount_paths(path: str, inner: str | None) -> None:
    assert normal_path(path) == inner


def test_device_profiles() -> None:
    assert caps_from_profile(None) is None and caps_from_profile({"Name": "x"}) is None
    caps = caps_from_profile({"DirectPlayProfiles": [
        {"Container": "mp4,m4v", "Type": "Video", "VideoCodec": "h264,hevc", "AudioCodec": "aac,mp3"},
        {"Container": "mkv", "Type": "Video"},  # any codec
        {"Container": "mp3", "Type": "Audio"},
    ]})
    assert caps is not None and caps.containers == {"mp4", "mkv"}
    assert {"h264", "hevc", "av1"} <= caps.video and {"aac", "dts"} <= caps.audio
    # no Container: every container (Kodi's add-on, jellyfin-mpv-shim)
    anything = caps_from_profile({"DirectPlayProfiles": [{"Type": "Video"}, {"Type": "Audio"}]})
    assert anything is not None and anything.containers == {ANY_CONTAINER} and "hevc" in anything.video


@given(st.floats(0, 10**6, allow_nan=False))
def test_ticks(seconds: float) -> None:
    value = ticks(seconds)
    assert isinstance(value, int) and abs(value / 10**7 - seconds) <= 1e-7 + 1e-9 * seconds


@pytest.mark.parametrize(("width", "height", "want"), [
    (1920, 1080, "16:9"), (1280, 720, "16:9"), (640, 360, "16:9"), (1920, 1088, "16:9"),  # within 0.03
    (320, 240, "4:3"), (1440, 1080, "4:3"), (1998, 1080, "1.85:1"), (1920, 1038, "1.85:1"),
    (1920, 818, "2.35:1"), (1920, 800, "2.40:1"), (3840, 1608, "2.40:1"), (1200, 800, "1.5:1"),
    (1280, 800, "1.6:1"), (1000, 600, "5:3"), (720, 576, "5:4"), (1080, 1920, "9:16"), (1000, 1000, "1:1"),
    (0, 240, None), (320, None, None), (None, None, None),
])
def test_aspect_ratio_as_jellyfin_names_it(width: int | None, height: int | None, want: str | None) -> None:
    """Jellyfin's ProbeResultNormalizer.GetAspectRatio on the stream's size; a ratio
    it does not name is the reduced fraction FFmpeg's display_aspect_ratio gives."""
    assert aspect_ratio(width, height) == want


@pytest.mark.parametrize(("width", "height", "sar", "want", "wide"), [
    (720, 576, "64:45", "16:9", True), (720, 576, "16:15", "4:3", True), (720, 480, "32:27", "16:9", True),
    (720, 480, "8:9", "4:3", True), (1440, 1080, "4:3", "16:9", True), (1920, 1080, "1:1", "16:9", False),
    (1920, 1080, "3201:3200", "16:9", False), (720, 576, None, "5:4", None), (720, 576, "0:1", "5:4", None),
    (720, 576, "junk", "5:4", None), (None, 576, "64:45", None, True),
])
def test_aspect_ratio_of_anamorphic_video(width: int | None, height: int | None, sar: str | None,
                                          want: str | None, wide: bool | None) -> None:
    """With the sample aspect ratio the probe read, ``AspectRatio`` is the display
    ratio (ffprobe's display_aspect_ratio, named as Jellyfin names it): a 720x576 PAL
    DVD shown 16:9 (SAR 64:45) is ``16:9``, not ``5:4``; ``IsAnamorphic`` as Jellyfin's
    IsNearSquarePixelSar (1 % from 1:1 is square)."""
    assert aspect_ratio(width, height, sar) == want
    assert anamorphic(sar) is wide
