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
        "Films/Film.2010.pt-BR.srt": ("pt-br", False, "srt"),
    }


@pytest.mark.parametrize(("name", "language"), [
    ("Film.pt-BR.srt", "pt-br"), ("Film.cs-CZ.srt", "cs-cz"), ("Film.zh-Hans.srt", "zh-hans"),
    ("Film.sr-Latn.forced.srt", "sr-latn"), ("Film.en_US.srt", "en-us"), ("Film.es-419.srt", "es-419"),
    ("Film.x-y.srt", None), ("Film.part-2.srt", None),
])
def test_language_tags_with_a_region_or_script(name: str, language: str | None) -> None:
    """OpenSubtitles, Plex and Jellyfin name sidecars with BCP 47 tags (RFC 5646:
    language, then a script of four letters or a region of two letters or three
    digits): the language is the tag, its first part picks the code pages."""
    assert [s.language for s in find_sidecars("Film.mkv", [name])] == [language]


@pytest.mark.parametrize("media", ["Film.2010.mkv", "Film.2010.mp4"])
def test_root_folder(media: str) -> None:
    assert [s.path for s in find_sidecars(media, ["Film.2010.en.srt"])] == ["Film.2010.en.srt"]


def test_a_tag_with_a_region_is_named_in_menus() -> None:
    from reelhouse.playback.hls.plans import display_name

    assert display_name("pt-br", None, "x") == "Português (BR)"
    assert display_name("es-419", "SDH", "x") == "Español (419) (SDH)"
    assert display_name("xx-yy", None, "x") == "xx-yy"
