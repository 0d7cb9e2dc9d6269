"""An episode's :class:`~.parsed.Parsed` from its episode marker (:mod:`.episodes`) and
the folders above it: the show's title (the show folder's, or the file's), the season
(the marker's, the season folder's, or a season in an anime title), a part of an
episode split in files. Pure: no I/O."""

from __future__ import annotations

import re
from typing import Any

from reelhouse.library.naming.episodes import EpisodeMatch, strip_release_words
from reelhouse.library.naming.folders import season_folder
from reelhouse.library.naming.parsed import Parsed
from reelhouse.library.naming.titles import folder_title_year, generic_folder, title_key, title_year

__all__ = ["cased", "episode_parsed"]


def cased(title: str, folders: list[str]) -> str:
    """Lower-case ``title`` as the nearest folder above writes it, where that folder
    names the same title ("show" in "Show.S01.720p.HDTV.x264-KILLERS" → "Show")."""
    key = title_key(title)
    for folder in reversed(folders):
        named = folder_title_year(folder)[0]
        if named and title_key(named) == key:
            return named
    return title


def episode_parsed(em: EpisodeMatch, folders: list[str], season_dir: int | None, show_dir: str | None,
             from_folder: bool, ids: dict[str, Any]) -> Parsed:
    file_title, year = title_year(em.before)
    title = file_title
    if show_dir is not None and not generic_folder(show_dir):
        folder_title, folder_yr = folder_title_year(show_dir)
        if folder_title and (season_dir is not None or not file_title or em.air_date is not None
                             or title_key(file_title) in title_key(show_dir) or from_folder):
            title, year = folder_title, folder_yr or year
    elif season_dir is not None and folders and not file_title:
        folder_title, folder_yr = folder_title_year(folders[-1])
        if folder_title and season_folder(folders[-1]) is not None and folder_title != folders[-1]:
            title, year = folder_title, folder_yr
    if not title and folders and not generic_folder(folders[-1]) and season_dir is None:
        title = folder_title_year(folders[-1])[0] or ""
    if title and title.lower() == title:  # "killers-show-s01e02.mkv" in "Show.S01.720p.HDTV.x264-KILLERS"
        title = cased(title, folders)
    title = title or "Unknown show"
    episode_title = strip_release_words(em.after) or None
    if em.air_date is not None:
        y, m, d = (int(x) for x in em.air_date.split("-"))
        return Parsed(kind="episode", title=title, year=year, season=y, episode=m * 100 + d,
                      episode_title=episode_title or em.air_date, air_date=em.air_date, **ids)
    season = em.season if em.season is not None else season_dir
    if season is None and title and (sm := _TITLE_SEASON.search(title)) and sm.start() > 0:
        # "[Erai-raws] Oshi no Ko 2nd Season - 03": anime name a later season in the title
        title, season = title[: sm.start()], int(sm.group(1) or sm.group(2))
    if season is None and em.episode is not None:
        season = 1
    part = None
    if episode_title and (pm := _EPISODE_PART.search(episode_title)):
        part, episode_title = int(pm.group(1)), episode_title[: pm.start()].strip(" -") or None
    return Parsed(kind="episode", title=title, year=year, season=season, episode=em.episode,
                  episode_title=episode_title, episode_end=em.episode_end, part=part, **ids)


#: A season at the end of an anime title: "2nd Season", "Season 2" (as Sonarr reads them).
_TITLE_SEASON = re.compile(r"\s+(?:(\d{1,2})(?:st|nd|rd|th)\s+season|season\s+(\d{1,2}))$", re.I)

# "S02E03 Part 1", "S01E01 - pt2", "S01E01.cd1": one episode split in files (Jellyfin, Plex)
_EPISODE_PART = re.compile(r"(?:^|\s)(?:part|pt|cd|disc)\s?(\d{1,2})$", re.I)
