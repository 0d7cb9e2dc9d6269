"""A film's or an extra's :class:`~.parsed.Parsed`: the title and year from the file
name (``Title (Year)``, a version label, a release name, guessit for the rest) and the
folders above it (a film folder, a scene release folder), the film or show an extra
belongs to. Pure: no I/O."""

from __future__ import annotations

import re
from typing import Any

from reelhouse.library.naming.folders import clean_words, season_folder, strip_ids
from reelhouse.library.naming.movies import paren_year_title, part_of, release_edition, version_label
from reelhouse.library.naming.parsed import Parsed
from reelhouse.library.naming.release import release_title
from reelhouse.library.naming.titles import (
    TITLE_YEAR,
    folder_title_year,
    generic_folder,
    guessed_title,
    title_key,
    title_year,
)

__all__ = ["NeedsGuessit", "extra_parsed", "movie_parsed", "release_folder_name", "scene_group"]


class NeedsGuessit(Exception):
    """Raised by a parse that may not call guessit, for a name only guessit can read."""


#: A folder holding one part of a film ("CD1", "Disc 2"; Kodi's stacking words).
_PART_FOLDER = re.compile(r"(?:cd|dvd|disc|disk|part|pt)[ ._-]?(?:\d{1,2}|[a-d])", re.I)
#: The season of a show's release name ("Show.S01.720p…", "Show.S01E02.720p…").
_SEASON_MARK = re.compile(r"[._ ][Ss]\d{1,2}(?:[Ee]\d{1,3})?[._ ]")
#: The release group at the end of a release name ("….x264-SPARKS").
_GROUP = re.compile(r"[._ ][^._ -]+-([A-Za-z0-9]{2,20})$")


def release_folder_name(folders: list[str]) -> str:
    """The folder of a film's release: the nearest above its file that is not a part
    folder ("CD1"), or "" when that is a library root ("Movies")."""
    for folder in reversed(folders):
        if not _PART_FOLDER.fullmatch(folder.strip()):
            return "" if generic_folder(folder) else folder
    return ""


def scene_group(folder: str, stem: str) -> str | None:
    """The release group of release folder ``folder`` when file name ``stem`` starts
    with it and a dash ("sparks-thematrix-1080p" in
    "The.Matrix.1999.1080p.BluRay.x264-SPARKS"): scene rules name a release's files so,
    lower case, the group first, the title shortened; else None."""
    m = _GROUP.search(folder)
    if m is None or len(stem) <= len(m.group(1)) + 1 or stem[len(m.group(1))] != "-":
        return None
    if stem[: len(m.group(1))].lower() != m.group(1).lower():
        return None
    # a release name ("The Spider-Man" is none): a film's, or a show's with its season
    if _SEASON_MARK.search(folder) is None and release_title(folder) is None:
        return None
    return m.group(1)


def _release_of(folders: list[str]) -> tuple[str, int] | None:
    """``(title, year)`` of the release folder a film's file is in
    ("The.Matrix.1999.1080p.BluRay.x264-SPARKS" → ("The Matrix", 1999)), or None."""
    folder = release_folder_name(folders)
    found = release_title(folder) if folder else None
    return (found.title, found.year) if found is not None and found.title and found.year else None


def _owner(folders: list[str], stem: str) -> tuple[str, int | None]:
    """The film or show an extra belongs to: the nearest folder above it that is not a
    season folder (a film's release folder by the title and year it names:
    "Tenet.2020.IMAX.2160p.UHD.BluRay.x265-GROUP" is "Tenet" (2020), the film its
    main file names), else the file name before the suffix."""
    for i in range(len(folders) - 1, -1, -1):
        if season_folder(folders[i], folders[i - 1] if i else None) is not None:
            continue
        if generic_folder(folders[i]):
            break
        if (release := release_title(folders[i])) is not None and release.title and release.year:
            return release.title, release.year
        title, year = folder_title_year(folders[i])
        if title:
            return title, year
    if py := paren_year_title(stem):
        return py[0], py[1]
    title, year = title_year(stem)
    return title, year


def extra_parsed(folders: list[str], stem: str, kind: str, ids: dict[str, Any]) -> Parsed:
    title, year = _owner(folders, strip_ids(stem))
    return Parsed(kind="extra", title=title or "Unknown", year=year, extra=kind, **ids)


def movie_parsed(folders: list[str], stem: str, ext: str, name: str, edition: str | None,
           ids: dict[str, Any], guess: bool = True, scene: bool = False) -> Parsed:
    folder = folders[-1] if folders and not generic_folder(folders[-1]) else None
    folder_title, folder_yr = folder_title_year(folder) if folder else (None, None)
    version = edition
    part = None
    title: str | None
    year: int | None
    if py := paren_year_title(stem):
        title, year, rest = py
        part = part_of(rest)
        version = version or version_label(rest, owner_known=True)
        title = clean_words(title) if not re.search(r"\s", title) else title
    elif (split := _split_version(stem, folder_title)) is not None:
        title, version_found = split
        year, version = folder_yr, version or version_found
    elif (release := release_title(stem)) is not None:
        title, year, part = release.title, release.year, release.part
        version = version or release_edition(stem, year)
    elif not guess:
        raise NeedsGuessit(name)
    else:
        title, year, part = guessed_title(stem, name, ext)
        version = version or release_edition(stem, year)
        if folder_title and title and year == folder_yr and " Vol. " in title \
                and title_key(title.rsplit(" Vol. ", 1)[0]) == title_key(folder_title):
            title = folder_title  # "Kill Bill (2003)/Kill.Bill.Vol.1.2003.CD1.avi": the folder names the film
    if folder is not None and folder_yr and (not year or not title):
        title, year = folder_title or title, folder_yr
    elif (scene or (title and title.lower() == title)) and (named := _release_of(folders)) is not None \
            and (not year or year == named[1]) and (scene or title_key(title or "") == title_key(named[0])):
        # a scene release's file ("sparks-thematrix-1080p.mkv", "the.matrix.1999.….mkv":
        # scene rules write file names in lower case) is named by its release folder
        title, year = named
    if not title:
        return Parsed(kind="other", title=stem.strip() or name)
    if folder_title and year == folder_yr and title != folder_title and title_key(title) == title_key(folder_title):
        title = folder_title  # "Ocean's Eleven (2001)/Oceans.Eleven.2001.mkv": a dotted name drops its signs
    return Parsed(kind="movie", title=title, year=year, part=part, version=version, **ids)


def _split_version(stem: str, folder_title: str | None) -> tuple[str, str] | None:
    """``(title, label)`` of "Iron Man - 720p" / "Iron Man_3d" in the folder "Iron Man",
    or of "Movie - Director's Cut" anywhere; None if ``stem`` has no version label."""
    for m in re.finditer(r"\s+-\s+|-|_", stem):
        head, rest = stem[: m.start()], stem[m.start():]
        if TITLE_YEAR.search(head):  # "Title - 2016 - WEBDL": a release name for guessit
            return None
        owner = folder_title is not None and title_key(head) == title_key(folder_title)
        label = version_label(rest, owner_known=owner)
        if label and (owner or " - " in m.group(0)):
            return head.strip(), label
    return None
