"""A user's marks on titles through the official TypeScript SDK: an unfavourite that a
syncing app sees (``MinDateLastSavedForUser``), and the audio and subtitle tracks
remembered between plays (Jellyfin's UserItemData ``AudioStreamIndex`` /
``SubtitleStreamIndex``, its users' default RememberAudioSelections and
RememberSubtitleSelections)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from jellyfin.support import Library
from jellyfin.test_sdk_calls import names, sdk
from sqlalchemy import update

from reelhouse.core import Core
from reelhouse.db.models import Favorite, MediaFile

from helpers import ENGINES

pytestmark = [pytest.mark.requires_ffmpeg, pytest.mark.requires_node, pytest.mark.usefixtures("jellyfin_sdk")]


@pytest.mark.parametrize("core", ENGINES, indirect=True)
def test_an_unfavourite_reaches_a_syncing_app(server: str, core: Core, library: Library) -> None:
    """Taking a film off the favourites is a change for ``MinDateLastSavedForUser``
    (it deleted the mark, so an app syncing since then kept its star), and the film
    reads ``IsFavorite`` false; a favourite made long ago is no change."""
    with core.sessions() as s:
        s.execute(update(MediaFile).values(first_seen=datetime.now(UTC) - timedelta(days=3)))
        s.commit()
    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
    base = {"userId": "$userId", "recursive": True, "includeItemTypes": ["Movie", "Series", "Episode"]}
    got = sdk(server, ("items", "getItems", {**base, "searchTerm": "sintel"}),
              ("user-library", "markFavoriteItem", {"itemId": "$0.Items.0.Id", "userId": "$userId"}))
    assert got[1][0] == 200 and got[1][1]["IsFavorite"] is True
    with core.sessions() as s:  # the mark was made three days ago
        s.execute(update(Favorite).values(updated_at=datetime.now(UTC) - timedelta(days=3)))
        s.commit()
    got = sdk(server,
              ("items", "getItems", {**base, "searchTerm": "sintel"}),
              ("items", "getItems", {**base, "minDateLastSavedForUser": since}),
              ("user-library", "unmarkFavoriteItem", {"itemId": "$0.Items.0.Id", "userId": "$userId"}),
              ("items", "getItems", {**base, "minDateLastSavedForUser": since}),
              ("items", "getItems", {**base, "isFavorite": True}),
              ("user-library", "markFavoriteItem", {"itemId": "$0.Items.0.Id", "userId": "$userId"}),
              ("items", "getItems", {**base, "isFavorite": True}))
    assert names(got[1]) == []
    assert got[2][0] == 200 and got[2][1]["IsFavorite"] is False
    assert names(got[3]) == ["Sintel"] and got[3][1]["Items"][0]["UserData"]["IsFavorite"] is False
    assert names(got[4]) == []
    assert names(got[6]) == ["Sintel"]


def test_track_choices_are_remembered_between_plays(server: str, library: Library) -> None:
    """The tracks a playback report names are the next PlaybackInfo's defaults (German
    audio, subtitles off: the file's defaults are English and its forced track); a
    choice in the PlaybackInfo request still wins."""
    def info(**extra: object) -> tuple[str, str, dict[str, object]]:
        return ("media-info", "getPostedPlaybackInfo", {"itemId": "$0.Items.0.Id", "userId": "$userId", **extra})

    report = {"ItemId": "$0.Items.0.Id", "MediaSourceId": "$1.MediaSources.0.Id", "PositionTicks": 0}
    got = sdk(server,
              ("items", "getItems", {"userId": "$userId", "recursive": True, "searchTerm": "big buck",
                                     "includeItemTypes": ["Movie"]}),
              info(),
              ("playstate", "reportPlaybackStart", {"playbackStartInfo": {
                  **report, "AudioStreamIndex": 2, "SubtitleStreamIndex": -1}}),
              info(),
              ("media-info", "getPlaybackInfo", {"itemId": "$0.Items.0.Id", "userId": "$userId"}),
              info(audioStreamIndex=1, subtitleStreamIndex=3),
              ("playstate", "reportPlaybackProgress", {"playbackProgressInfo": {
                  **report, "PositionTicks": 10_000_000, "SubtitleStreamIndex": 3}}),
              info())

    def chosen(n: int) -> tuple[object, object]:
        assert got[n][0] == 200, got[n]
        source = got[n][1]["MediaSources"][0]
        return source["DefaultAudioStreamIndex"], source.get("DefaultSubtitleStreamIndex")

    assert chosen(1) == (1, 3)
    assert got[2][0] == 204
    assert chosen(3) == (2, -1) and chosen(4) == (2, -1)
    assert chosen(5) == (1, 3)
    assert chosen(7) == (2, 3)  # the audio choice stays, the subtitle one changed
