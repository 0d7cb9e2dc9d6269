"""Sidecar subtitle files by name (pure)."""

from __future__ import annotations

import pytest

from reelhouse.playback.hls.subtitles import find_sidecars

NAMES = ["Film.2010.mkv", "Film.2010.srt", "Film.2010.en.srt", "Film.2010.fr.forced.ass",
         "Film.2010.English.vtt", "film.2010.DE.SRT", "Film.2010.nfo", "Film.2010-sample.srt",
         "Other.srt", "Film.2010.sdh.srt", "Film.2010.pt-BR.srt"]


def test_find_sidecars() -> None:
    found = {s.path: (s.language, s.forced, s.format) for s in
             find_sidecars("Films/Film.2010.mkv", NAMES)}
    assert found == {
        "Films/Film.2010.srt": (None, False, "srt"),
        "Films/Film.2010.en.srt": ("en", False, "srt"),
        "Films/Film.2010.fr.forced.ass": ("fr", True, "ass"),
        "Films/Film.2010.English.vtt": ("en", False, "vtt"),
        "Films/film.2010.DE.SRT": ("de", False, "srt"),
        "Films/Film.2010.sdh.srt": (None, False, "srt"),
        "Films/Film.2010.pt-BR.srt": (None, False, "srt"),
    }


@pytest.mark.parametrize("media", ["Film.2010.mkv", "Film.2010.mp4"])
def test_root_folder(media: str) -> None:
    assert [s.path for s in find_sidecars(media, ["Film.2010.en.srt"])] == ["Film.2010.en.srt"]
