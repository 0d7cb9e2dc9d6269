"""NameCache gives exactly what parse_media_path gives (the naming table's real names
and generated episode runs), while parsing a show's episodes once."""

from __future__ import annotations

import pytest
from library.test_naming_table import TABLE

from reelhouse.library.name_cache import NameCache
from reelhouse.library.naming import parse_media_path

RUNS = [
    "The Office (US)/Season 02/The.Office.US.S02E{e:02d}.720p.WEB.x264.mkv",
    "Dark/Dark.s01e{e:02d}.1080p.NF.WEB-DL.mkv",
    "Shows/Doctor Who (2005)/Season 4/Doctor.Who.2005.S04E{e:02d}.HDTV.XviD.avi",
    "Serie/Les.Revenants.S01E{e:02d}.FRENCH.720p.HDTV.mkv",
    "Anime/Show - S01E{e:02d} [1080p].mkv",
]


def test_same_results_as_the_parser_on_the_naming_table() -> None:
    cache = NameCache()
    paths = [p for p, _ in TABLE] * 2  # the second round comes from the cache where it can
    for path in paths:
        assert cache(path) == parse_media_path(path), path


@pytest.mark.parametrize("template", RUNS)
def test_a_run_of_episodes_is_parsed_once(template: str) -> None:
    calls: list[str] = []

    def parse(path: str):  # type: ignore[no-untyped-def]
        calls.append(path)
        return parse_media_path(path)

    cache = NameCache(parse)
    for e in range(1, 24):
        path = template.format(e=e)
        assert cache(path) == parse_media_path(path), path
    assert len(calls) == 1 and cache.hits == 22


def test_multi_episode_and_odd_names_are_not_shared() -> None:
    cache = NameCache()
    for path in ("Show/Show.S01E01E02.mkv", "Show/Show.S01E03-E04.mkv", "Show/Show.S01E05.S01E06.mkv",
                 "Show/Show.2011.11.15.mkv", "Films/Se7en.1995.mkv"):
        assert cache(path) == parse_media_path(path)
    assert cache.hits == 0
