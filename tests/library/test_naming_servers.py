"""Agreement with other media servers' published naming tables: Jellyfin's naming test
cases (recorded in naming_records/jellyfin.json, the facts only) and the extras rules
of Plex, Jellyfin and Kodi. reelhouse must agree on at least 95% of them; the cases it
reads differently on purpose are listed with the reason. Pure: no I/O but the record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelhouse.library.naming import is_media_path, match_key, parse_media_path, season_folder, series_folder_title

RECORD = json.loads((Path(__file__).parent / "naming_records" / "jellyfin.json").read_text("utf-8"))["tables"]


def _k(title: str | None) -> str:
    return match_key(title or "").split("|")[0]


def _path(p: str) -> str:
    return p.replace("\\", "/").lstrip("/")


def _cases() -> Iterator[tuple[str, str, bool]]:
    """(table, case, agrees) for every published case."""
    for p, ep in RECORD["EpisodeNumberTests"] + RECORD["AbsoluteEpisodeNumberTests"]:
        yield "episode", p, parse_media_path(_path(p)).episode == ep
    for ep, p in RECORD["EpisodeNumberWithoutSeasonTests"]:
        yield "episode", p, parse_media_path(_path(p)).episode == ep
    for p, s in RECORD["SeasonNumberTests"]:
        # Jellyfin leaves the season of an absolute-numbered file empty; reelhouse says 1
        yield "season", p, parse_media_path(_path(p)).season == (s if s is not None else 1)
    for p, end in RECORD["MultiEpisodeTests"]:
        yield "multi", p, parse_media_path(_path(p)).episode_end == end
    for row in RECORD["SimpleEpisodeTests"]:
        p, title, s, e = row[:4]
        r = parse_media_path(_path(p))
        yield "simple", p, (r.season, r.episode) == (s if s is not None else 1, e) and (
            not title or _k(r.title) == _k(title))
    for p, title, y, m, d in RECORD["DailyEpisodeTests"]:
        r = parse_media_path(_path(p))
        yield "daily", p, r.air_date == f"{y:04d}-{m:02d}-{d:02d}" and _k(r.title) == _k(title)
    for row in RECORD["EpisodePathParserTest"]:
        if len(row) != 5:
            continue
        p, _, title, s, e = row
        r = parse_media_path(_path(p))
        # "Foo (2019)": reelhouse splits the year off the title
        yield "episode path", p, (r.season, r.episode) == (s, e) and _k(r.title) == _k(title.split(" (")[0])
    for p, title, year in RECORD["CleanDateTimeTests"]:
        if not p:
            continue
        name = p.rsplit("/", 1)[-1]
        name = name if name.lower().endswith((".mkv", ".mp4", ".disc")) else name + ".mkv"
        r = parse_media_path(name)
        expected = title[:-4] if title and title.lower() == p.lower() and title.endswith(".mkv") else title
        yield "title+year", p, r.kind == "movie" and _k(r.title) == _k(expected) and r.year == year
    for row in RECORD["CleanStringTests"]:
        if len(row) == 2:
            p, title = row
            r = parse_media_path(p if p.endswith((".mkv", ".mp4")) else p + ".mkv")
            yield "clean title", p, _k(r.title) == _k(title)
    for path, _, s, _ in RECORD["SeasonPathParserTests"]:
        parts = [x for x in path.split("/") if x]
        yield "season folder", path, season_folder(parts[-1], parts[-2] if len(parts) > 1 else None) == s
    for path, name in RECORD["SeriesPathParserTest"] + RECORD["SeriesResolverTests"]:
        yield "series folder", path, _k(series_folder_title(path)) == _k(name)
    for p, kind in EXTRAS:
        r = parse_media_path(p)
        yield "extras", p, (r.extra if r.kind == "extra" else None) == kind


_DIRS = [("behind the scenes", "behindthescenes"), ("deleted scenes", "deleted"), ("interviews", "interview"),
         ("scenes", "scene"), ("samples", "sample"), ("shorts", "short"), ("trailers", "trailer"),
         ("featurettes", "featurette"), ("clips", "clip"), ("backdrops", "themevideo"), ("extra", "other"),
         ("extras", "other"), ("other", "other")]
#: Plex/Jellyfin/Kodi extras: suffixes and folders (type names as reelhouse spells them)
EXTRAS: list[tuple[str, str | None]] = [
    ("trailer.mp4", "trailer"), ("300-trailer.mp4", "trailer"), ("300.trailer.mp4", "trailer"),
    ("300_trailer.mp4", "trailer"), ("300 - trailer.mp4", "trailer"), ("300-scene.mp4", "scene"),
    ("300-scene2.mp4", "scene"), ("300-clip.mp4", "clip"), ("300-deleted.mp4", "deleted"),
    ("300-deletedscene.mp4", "deleted"), ("300-interview.mp4", "interview"),
    ("300-behindthescenes.mp4", "behindthescenes"), ("300-featurette.mp4", "featurette"),
    ("300-short.mp4", "short"), ("300-extra.mp4", "other"), ("300-other.mp4", "other"),
    ("stuff trailerthings.mkv", None), ("I Live In A Trailer.mp4", None), ("The DNA Sample.mp4", None),
    ("sample.mp4", "sample"), ("300-sample.mp4", "sample"), ("300.sample.mp4", "sample"),
    ("300_sample.mp4", "sample"), ("300 - sample.mp4", "sample"),
    *[(f"{d}/300.mp4", t) for d, t in _DIRS],
    *[(f"300/{d}/something.mkv", t) for d, t in _DIRS],
    *[(f"data/something/Movies/300/{d}/whoknows.mp4", t) for d, t in _DIRS],
    *[(p, None) for d in ("gibberish", "not a scene", "The Big Short")
      for p in (f"{d}/300.mp4", f"300/{d}/something.mkv", f"data/Movies/{d}/{d}.mp4")],
]

#: Cases reelhouse reads differently, on purpose or as a known limit.
DISAGREE = {
    # a lone file (no show or season folder) ending in a bare number is a film's title
    # ("Fahrenheit.451"); Jellyfin's TV-only parser reads it as episode 102
    "/server/anything_102.mp4",
    # reelhouse treats "extras" folders as extras (Plex, Kodi), not as season 0
    "/Drive/extras", "/Drive/EXTRAS",
    # a bare number folder is a season folder (Jellyfin agrees for shows, not for films)
    "/Drive/300 Collection/1",
    # dates in a film's name make it a dated episode (talk shows are far more common)
    "My Movie 2013.12.09", "My Movie 2013-12-09", "My Movie 2013-12-09 2013",
    # release words only guessit knows
    "My Movie 20131209", "Crouching.Tiger.Hidden.Dragon.HDC.mkv", "Crouching.Tiger.Hidden.Dragon-HDC.mkv",
    "2026年01月10日23時00分00秒-[新]TRIGUN\u3000STARGAZE[字].mp4",
}


def test_agreement_with_published_tables_is_at_least_95_percent() -> None:
    cases = list(_cases())
    misses = {case for _, case, ok in cases if not ok}
    agreement = 1 - len(misses) / len(cases)
    assert len(cases) >= 450
    assert agreement >= 0.95, (agreement, sorted(misses - DISAGREE))
    assert misses == DISAGREE, (sorted(misses - DISAGREE), sorted(DISAGREE - misses))


@pytest.mark.parametrize(("path", "kind"), EXTRAS, ids=[p for p, _ in EXTRAS])
def test_extras_are_no_main_titles(path: str, kind: str | None) -> None:
    assert is_media_path(path) is (kind is None)


SONARR = json.loads((Path(__file__).parent / "naming_records" / "sonarr.json").read_text("utf-8"))["rows"]
#: Sonarr release names reelhouse reads differently: titles with "/" (not file names),
#: numbering only Sonarr's release-title parser knows ("Part01", "5of9",
#: "s06.01", "11-02 Title", a year then MMDD), and names glued to a group ("grp-zoos01e11").
SONARR_DISAGREE = {
    "24 7 Series-Title - Road to the Sonarr Part01 720p HDTV x264 ORENJI",
    "24 7 Series-Title - Road to the Sonarr Part 02 720p HDTV x264 ORENJI",
    '(Series of Title s03 e - "Series of Title Season 3 Episode 10"',
    "grp-zoos01e11-1080p",
    "John.Smith.The.Series.Title.5of9.The.Universe.Of.Development.1990.DVDRip.x264-HANDJOB",
    "App.Sonarr.Made.in.Canada.Part.Two.720p.HDTV.x264-2HD",
    "this.is.a.show.2015.0308-yestv",
    "11-02 The Series Reaction (HD).m4v",
    "tvs-amgo-dd51-dl-7p-azhd-x264-103",
    # a lone file whose name ends in a bare number is a film ("Fahrenheit.451"), as the
    # other servers read a lone file; Sonarr reads every release title as TV
    "Series.Title.525",
    "Босх: Спадок (S2E1) / Series: Legacy (S2E1) (2023) WEB-DL 1080p Ukr/Eng | sub Eng",
    "Босх: Спадок / Series: Legacy / S2E1 of 10 (2023) WEB-DL 1080p Ukr/Eng | sub Eng",
    "Titles.s06.01.1999.BDRip.1080p.Ukr.Eng.AC3.Hurtom.TNU.Tenax555",
    "Amazing Title (2024/S01E07/DSNP/WEB-DL/1080p/ESP/EAC3 5.1/ING/EAC3 5.1 Atmos/SUBS) SPWEB",
    "Mini Title (Miniserie) (2024/S01E07/DSNP/WEB-DL/1080p/ESP/EAC3 5.1/ING/EAC3 5.1 Atmos/SUBS) SPWEB",
    "221205 ABC123 17研究所！ #17.ts",
}


def test_agreement_with_sonarr_single_episode_table() -> None:
    misses = set()
    for name, _, season, episode in SONARR:
        file = name if name.lower().endswith((".mkv", ".avi", ".mp4", ".m4v", ".ts")) else name + ".mkv"
        r = parse_media_path(file)
        if (r.season, r.episode) != (season, episode):
            misses.add(name)
    assert len(SONARR) >= 180
    assert misses == SONARR_DISAGREE, (sorted(misses - SONARR_DISAGREE), sorted(SONARR_DISAGREE - misses))
    assert 1 - len(misses) / len(SONARR) >= 0.9
