"""File names → what they are (movie or episode), with guessit. Pure: no I/O.

The show folder gives context: ``The Office (US)/Season 01/The.Office.S01E01.mkv`` is
an episode of "The Office (US)"; a folder named like ``Title (Year)`` names a movie.
"""

from __future__ import annotations

import functools
import posixpath
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from guessit.api import GuessItApi

__all__ = [
    "MEDIA_EXTENSIONS", "Parsed", "is_media_file", "is_media_folder", "is_media_path", "match_key", "parse_media_path",
]

#: Extensions of video files the scanner indexes.
MEDIA_EXTENSIONS = frozenset(
    ".mkv .mp4 .m4v .avi .mov .webm .ts .m2ts .mts .mpg .mpeg .wmv .flv .ogv .3gp .divx .vob".split()
)
_SEASON_DIR = re.compile(r"^(season|series|saison|staffel|temporada|s)[ ._-]*\d+$|^specials?$", re.I)
# A sample/trailer marker at the start (scene style "sample-grp-film"), at the end ("Film.sample"),
# or in brackets ("Film [trailer]"); a title that merely contains the word ("Trailer
# Park Boys", "The Sample") is not skipped.
_SKIP = re.compile(r"^sample(-|$)|^trailer$|[ ._-](sample|trailer)$|[\[(](sample|trailer)[\])]", re.I)
#: Folders that hold extras, not the film itself.
_SKIP_DIRS = frozenset({"sample", "samples", "trailer", "trailers", "extras", "featurettes",
                        "behind the scenes", "deleted scenes", "interviews"})


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a path names. ``kind`` is "movie", "episode" or "other"."""

    kind: str
    title: str
    year: int | None = None
    season: int | None = None
    episode: int | None = None
    episode_title: str | None = None
    #: last episode of a multi-episode file (``S01E02E03`` → episode 2, episode_end 3)
    episode_end: int | None = None
    #: air date of a date-based episode (``Show.2011.11.15``), ISO ``YYYY-MM-DD``
    air_date: str | None = None
    #: part of a multi-part film (``CD1``, ``part2``, ``Disc1``); the parts are one movie
    part: int | None = None


def is_media_file(name: str) -> bool:
    """Whether ``name`` has a video extension and is not a sample or trailer."""
    stem, ext = posixpath.splitext(name)
    return ext.lower() in MEDIA_EXTENSIONS and not _SKIP.search(stem)


def is_media_path(path: str) -> bool:
    """Like :func:`is_media_file`, and not inside a Sample/Trailers/Extras folder."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return False
    return is_media_file(parts[-1]) and not any(p.casefold() in _SKIP_DIRS for p in parts[:-1])


def is_media_folder(folder: str) -> bool:
    """Whether files of ``folder`` may be media: it is not (inside) a Sample, Trailers or
    Extras folder. ``is_media_path(f"{folder}/{name}")`` equals
    ``is_media_folder(folder) and is_media_file(name)``, for one check per folder."""
    return not any(p.casefold() in _SKIP_DIRS for p in folder.split("/") if p)


def match_key(title: str, year: int | None = None) -> str:
    """A normalised key so "The Office (US)" and "the office us" match: NFKD, no accents,
    lower case, alphanumerics only, with the year appended."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[^\w]+", " ", text).strip()
    return f"{text}|{year or ''}"


def _first_int(value: Any) -> int | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, int) else None


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    return str(value) if value else None


#: One guessit instance per option set: guessit re-merges its whole configuration
#: whenever the options differ from the previous call's (about 5 ms), and the scanner
#: alternates between file names (no options) and folder names (a type hint).
_APIS: dict[str, GuessItApi] = {}


def _guess(text: str, kind: str | None = None) -> Any:
    api = _APIS.get(kind or "")
    if api is None:
        api = _APIS[kind or ""] = GuessItApi()
    return api.guessit(text, {"type": kind} if kind else None)


@functools.lru_cache(maxsize=4096)
def _folder_guess(name: str, kind: str) -> Any:
    """guessit of a folder name; cached: every file of a show or film folder asks again."""
    return _guess(name, kind)


# "Title - 500 [1080p]": an anime-style absolute episode number, which guessit may read
# as season 5 episode 0 (or 1x071 for 1071) when nothing marks a season.
_ABSOLUTE = re.compile(r" - (\d{2,4})(?:v\d)?(?=$|[ .\[(])")
_SEASON_MARK = re.compile(r"s\d{1,4}[ ._-]?e\d|\d{1,2}x\d{2}|season|series", re.I)
# "Dune.Part.Two.2024": the part word comes before the year, so it belongs to the title
_TITLE_PART = re.compile(r"(?:^|[ ._-])part[ ._-]?(\w+)[ ._-]+\(?(?:19|20)\d\d", re.I)
_DISC = re.compile(r"(?:^|[ ._-])(?:cd|dvd|disc|disk)[ ._-]?(\d{1,2})(?=$|[ ._-])", re.I)
_YEAR = re.compile(r"(?:^|[ ._(\[])((?:19|20)\d\d)(?=$|[ ._)\]])")


def _plain_stem_title(name: str) -> str | None:
    """The words before the year in a release name ("WALL-E.2008.mkv" → "WALL-E")."""
    stem = posixpath.splitext(name)[0]
    m = _YEAR.search(stem)
    if m is None or m.start() == 0:
        return None
    words = re.sub(r"[._]+", " ", stem[: m.start()]).strip(" -([")
    return words or None


def _show_title(guess: Any) -> str | None:
    """guessit's title, with the country as in "The Office (US)" when it names one."""
    title = _text(guess.get("title"))
    country = guess.get("country")
    if title and country is not None:
        title = f"{title} ({getattr(country, 'alpha2', country)})"
    return title


def parse_media_path(path: str) -> Parsed:
    """Classify a source-relative path; the folders above the file give context."""
    parts = [p for p in path.split("/") if p]
    name = parts[-1] if parts else path
    folders = parts[:-1]
    guess = _guess(name)
    kind = guess.get("type")
    stem = posixpath.splitext(name)[0]
    absolute = _ABSOLUTE.search(stem)
    if absolute and not _SEASON_MARK.search(stem) and kind == "episode":
        guess = dict(guess)  # anime absolute numbering: the number is the episode
        guess.pop("season", None)
        guess["episode"] = int(absolute.group(1))
    if kind == "episode" and guess.get("date") is not None and guess.get("episode") is None:
        return _dated_episode(guess, folders)
    if kind == "episode" and (guess.get("season") is not None or guess.get("episode") is not None):
        show_title = _show_title(guess)
        year = _first_int(guess.get("year"))
        # Context: "Show/Season 01/file" or "Show/file" → the show folder's name wins
        # when it names the same show (it is usually the cleaner spelling).
        # A "Show/Season N/" layout names the show whatever the file says (anime files
        # often carry the original title); a lone folder only when it names the same show.
        show_dir = None
        organised = len(folders) >= 2 and bool(_SEASON_DIR.match(folders[-1]))
        if organised:
            show_dir = folders[-2]
        elif folders and not _SEASON_DIR.match(folders[-1]):
            show_dir = folders[-1]
        if show_dir:
            folder_guess = _folder_guess(show_dir, "episode")
            folder_title = _show_title(folder_guess)
            base = match_key(_text(guess.get("title")) or "").split("|")[0]
            if folder_title and (organised or not show_title or base in match_key(show_dir)):
                show_title = folder_title
                year = _first_int(folder_guess.get("year")) or year
        season = _first_int(guess.get("season"))
        if season is None and folders and re.fullmatch(r"specials?", folders[-1], re.I):
            season = 0
        episodes = guess.get("episode")
        episode = _first_int(episodes)
        last = max(episodes) if isinstance(episodes, list) and episodes else None
        return Parsed(
            kind="episode",
            title=show_title or "Unknown show",
            year=year,
            season=season if season is not None else (1 if episode is not None else None),
            episode=episode,
            episode_title=_text(guess.get("episode_title")),
            episode_end=last if last is not None and last != episode else None,
        )
    title = _text(guess.get("title"))
    year = _first_int(guess.get("year"))
    plain = _plain_stem_title(name)
    if title and plain and len(title) <= 2 < len(plain) and plain.endswith(title):
        title = plain  # "WALL-E": guessit took "WALL-" for something else
    part = _first_int(guess.get("cd")) or _first_int(guess.get("part"))
    named_part = _TITLE_PART.search(stem)
    if named_part and title:  # "Dune Part Two (2024)" is a title, not a part of a file
        title, part = f"{title} Part {named_part.group(1)}", None
    if part is None and (disc := _DISC.search(stem)):
        part = int(disc.group(1))
    if folders:
        folder_guess = _folder_guess(folders[-1], "movie")
        if folder_guess.get("year") and (not year or not title):
            title = _text(folder_guess.get("title")) or title
            year = _first_int(folder_guess.get("year"))
    if not title:
        return Parsed(kind="other", title=stem)
    return Parsed(kind="movie", title=title, year=year, part=part)


def _dated_episode(guess: Any, folders: list[str]) -> Parsed:
    """A date-based episode (talk and news shows): season = the year, episode = MMDD,
    as Plex and Kodi number them; the air date is kept."""
    day = guess["date"]
    title = _show_title(guess) or (folders[-1] if folders else "Unknown show")
    if folders and not _SEASON_DIR.match(folders[-1]):
        title = _show_title(_folder_guess(folders[-1], "episode")) or title
    return Parsed(
        kind="episode",
        title=title,
        season=day.year,
        episode=day.month * 100 + day.day,
        episode_title=_text(guess.get("episode_title")) or day.isoformat(),
        air_date=day.isoformat(),
    )
