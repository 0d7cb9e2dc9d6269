"""Source-relative paths → what they name: a film, an episode, an extra of a film or
show, or "other". Pure: no I/O.

The whole path decides, as in Plex, Jellyfin and Kodi: the show folder names the show,
a season folder (``Season 2``, ``Staffel 2``, ``S02``, ``Specials``) gives the season, a
release folder stands in for an obfuscated file name, an extras folder (``Trailers``,
``Featurettes``, …) or suffix (``-trailer``) makes the file an extra of the film or show
above it, and a "Title (Year)" folder names a film. Common forms are read by our own
patterns (episodes.py, movies.py, folders.py); guessit reads the release names left
(titles.py, with the title clean-up rules).
"""

from __future__ import annotations

import dataclasses
import functools
import posixpath
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from reelhouse.db.limits import fit_text
from reelhouse.library.naming.episodes import EpisodeMatch, find_episode, season_episode, strip_release_words
from reelhouse.library.naming.folders import (
    clean_words,
    edition_tag,
    extras_folder,
    folder_year,
    provider_ids,
    season_folder,
    strip_ids,
)
from reelhouse.library.naming.movies import extra_suffix, paren_year_title, part_of, release_edition, version_label
from reelhouse.library.naming.release import release_title
from reelhouse.library.naming.titles import (
    TITLE_YEAR,
    folder_title_year,
    generic_folder,
    guessed_title,
    match_key,
    title_key,
    title_year,
)

__all__ = ["MEDIA_EXTENSIONS", "Parsed", "absolute_folders", "match_key", "parse_media_path", "parse_media_paths",
           "split_stem"]

#: Extensions of video files the scanner indexes.
MEDIA_EXTENSIONS = frozenset(
    ".mkv .mp4 .m4v .avi .mov .webm .ts .m2ts .mts .mpg .mpeg .wmv .flv .ogv .3gp .divx .vob".split()
)
_OTHER_EXTENSIONS = frozenset(".iso .wtv .dvr-ms .strm .disc .rmvb .asf .mp3 .flac .m4a".split())


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a path names. ``kind`` is "movie", "episode", "extra" or "other"."""

    kind: str
    #: the film or show (of an extra: the film or show it belongs to)
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
    #: type of an extra: trailer, featurette, deleted, behindthescenes, interview,
    #: scene, short, clip, themevideo, sample, other
    extra: str | None = None
    #: label of one version of a film ("1080p", "Director's Cut", ``{edition-…}``)
    version: str | None = None
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    imdb_id: str | None = None

    def __post_init__(self) -> None:
        """Fit the columns the scan writes (db/models/library.py): titles 512
        characters, a version label 128, an IMDb id 16 (a longer "tt…" is no IMDb id).
        Invisible marks at a title's ends (direction marks a right-to-left name carries,
        a byte order mark, a zero-width space) are dropped: "Film\u200e" is "Film"."""
        for field in ("title", "episode_title"):
            value = getattr(self, field)
            if value and (value[0] in _INVISIBLE or value[-1] in _INVISIBLE):
                object.__setattr__(self, field, value.strip(_INVISIBLE + " ") or value)
        if len(self.title) > TITLE_MAX:
            object.__setattr__(self, "title", fit_text(self.title, TITLE_MAX, "a title from a name"))
        if self.episode_title is not None and len(self.episode_title) > TITLE_MAX:
            object.__setattr__(self, "episode_title", fit_text(self.episode_title, TITLE_MAX, "an episode title"))
        if self.version is not None and len(self.version) > VERSION_MAX:
            object.__setattr__(self, "version", fit_text(self.version, VERSION_MAX, "a version label"))
        if self.imdb_id is not None and len(self.imdb_id) > IMDB_MAX:
            object.__setattr__(self, "imdb_id", None)


#: Direction marks and embeddings (Unicode UAX #9: LRM, RLM, ALM, LRE…PDF, LRI…PDI),
#: the byte order mark and the zero-width space: invisible, no part of a title's ends.
_INVISIBLE = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u200b"

#: Lengths of the text columns a scan fills from names (db/models/library.py).
TITLE_MAX, VERSION_MAX, IMDB_MAX = 512, 128, 16


def split_stem(name: str) -> tuple[str, str]:
    """``(stem, extension)``; only a known media extension is an extension
    ("Foo (2019).S04E03" has none)."""
    stem, ext = posixpath.splitext(name)
    if ext.lower() in MEDIA_EXTENSIONS or ext.lower() in _OTHER_EXTENSIONS:
        return stem, ext
    return name, ""


# -- the path --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Folders:
    """What the folders above a file say, the same for every file in them."""

    extras_at: int | None  # index of the innermost extras folder
    extras_kind: str | None
    season_dir: int | None
    show_dir: str | None
    show_dir_dated: bool  # the show folder is a "Title (Year)" (a film's folder)


@functools.lru_cache(maxsize=8192)
def _folders(joined: str) -> _Folders:
    """Memoised per folder: 100,000 files sit in a few thousand folders."""
    folders = joined.split("/") if joined else []
    for i in range(len(folders) - 1, -1, -1):
        kind = extras_folder(folders[i])
        if kind is not None:
            return _Folders(i, kind, None, None, False)
    season_dir = None
    if folders:
        season_dir = season_folder(folders[-1], folders[-2] if len(folders) > 1 else None)
        if season_dir is not None and folders[-1].strip().isdigit() and len(folders) > 1 \
                and generic_folder(folders[-2]):
            season_dir = None  # "Anime/86", "Shows/24": a show named by a number, not a season
    show_dir: str | None = None
    if season_dir is not None:
        show_dir = folders[-2] if len(folders) > 1 else None
    elif folders and not generic_folder(folders[-1]):
        show_dir = folders[-1]
    return _Folders(None, None, season_dir, show_dir, show_dir is not None and folder_year(show_dir) is not None)


class _NeedsGuessit(Exception):
    """Raised by a parse that may not call guessit, for a name only guessit can read."""


def parse_media_path(path: str) -> Parsed:
    """Classify a source-relative path (``/`` separated; a leading ``/`` is ignored);
    the folders above the file give context. Alone, "Show - 101" in ``Season 1`` is
    season 1 episode 1 by its shape (:func:`~reelhouse.library.naming.episodes.season_episode`);
    :func:`parse_media_paths` also reads the files beside it."""
    return _parse(path, guess=True)


def parse_media_paths(paths: Sequence[str],
                      guess_map: Callable[[Callable[[str], Parsed], list[str]], Iterable[Parsed]] | None = None,
                      *, absolute: AbstractSet[str] | None = None) -> list[Parsed]:
    """:func:`parse_media_path` of every path, in order: what the scanner calls for a
    listing. Folders are read once for all their files; the few names only guessit reads
    (release names with unknown words: ~3 % of a library, 5-20 ms each) are collected and
    named last, by ``guess_map(parse_media_path, those_paths)`` when given (e.g. a
    process pool's ``map``), else here one after another.

    The files of a season folder are read together: "Friends - 101" in ``Season 1`` is
    season 1 episode 1 unless a file beside it has a bare number of another shape
    ("001", "220": an anime's absolute numbers). ``absolute``: those folders, as
    :func:`absolute_folders` found them in the whole listing (the scanner names a
    folder's new files only); by default, as found among ``paths``."""
    if absolute is None:
        absolute = absolute_folders(paths)
    out: list[Parsed | None] = []
    residue: list[int] = []
    for i, path in enumerate(paths):
        try:
            out.append(_parse(path, guess=False, absolute=absolute))
        except _NeedsGuessit:
            out.append(None)
            residue.append(i)
    if residue:
        todo = [paths[i] for i in residue]
        named = guess_map(parse_media_path, todo) if guess_map is not None else map(parse_media_path, todo)
        for i, parsed in zip(residue, named, strict=True):
            out[i] = parsed
    return [p for p in out if p is not None]


#: Fullwidth parentheses, brackets and braces (U+FF08 …) and the lenticular brackets
#: CJK names put tags in (``【字幕】``) → their ASCII forms, for the rules above.
_BRACKETS = str.maketrans("（）［］｛｝【】", "()[]{}[]")


def _as_utf8(part: str) -> str:
    """A name that is UTF-8 bytes read as latin-1 ("AmÃ©lie"), as UTF-8 ("Amélie");
    any other name as it is. An FTP server that does not announce UTF8 (RFC 2640 §3.2;
    vsftpd's default, ``utf8_filesystem=NO``) sends its names' bytes as they are on
    disk, UTF-8 on today's systems; its names are read as latin-1 so that every byte
    round-trips (:mod:`reelhouse.sources.ftp.connection`). A latin-1 name is almost
    never valid UTF-8 (an accented letter would have to be followed by 1-3 symbols of
    U+0080-U+00BF), so it keeps its reading ("Café")."""
    if part.isascii() or max(part) > "\xff":
        return part
    try:
        return part.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return part


def _parts(path: str) -> list[str]:
    """The names of ``path``, read as :func:`_parse` reads them."""
    if not path.isascii():  # titles from UTF-8 names read as latin-1: see _as_utf8
        path = "/".join(map(_as_utf8, path.split("/")))
    # titles in NFC whatever the names' form: a Mac names files in NFD ("e" + U+0301),
    # which looks the same but is other text in JSON, exports and Jellyfin apps
    path = unicodedata.normalize("NFC", path)
    if not path.isascii():  # fullwidth brackets, as CJK names write them: "（2001）" is "(2001)"
        path = path.translate(_BRACKETS)
    return [p for p in path.split("/") if p]  # "\\" is a name character on Unix (FTP servers)


def absolute_folders(paths: Iterable[str]) -> frozenset[str]:
    """The season folders among ``paths``' (``/``-joined as :func:`parse_media_paths`
    reads them) where a file has a bare number that is no season-and-episode number of
    the folder's season ("Naruto/Season 1" with "Naruto - 001" or "Naruto - 220"): there
    "Naruto - 150" is absolute too. Files written "S01E05" or "1x06" say nothing either
    way. Files outside season folders cost one look at their folder (about 1 µs a path)."""
    names: dict[str, list[str]] = {}
    for path in paths:
        head, _, name = path.rpartition("/")
        names.setdefault(head, []).append(name)
    absolute: set[str] = set()
    for head, files in names.items():
        folder = "/".join(_parts(head))
        season = _folders(folder).season_dir
        if season is None:
            continue
        for name in files:
            em = find_episode(strip_ids(split_stem(_parts(name)[-1] if name else "")[0]), in_show=True)
            if em is not None and em.season is None and em.number is not None \
                    and season_episode(em.number, season) is None:
                absolute.add(folder)
                break
    return frozenset(absolute)


def _parse(path: str, *, guess: bool, absolute: AbstractSet[str] = frozenset()) -> Parsed:
    parts = _parts(path)
    name = parts[-1] if parts else path
    folders = parts[:-1]
    stem, ext = split_stem(name)
    ids = provider_ids("/".join(parts))
    id_fields: dict[str, Any] = {"tmdb_id": ids.tmdb, "tvdb_id": ids.tvdb, "imdb_id": ids.imdb}
    clean = strip_ids(stem)
    group = _scene_group(_release_folder_name(folders), clean) if folders else None
    if group:
        clean = clean[len(group) + 1:]  # "sparks-thematrix-1080p": the release group is no title

    context = _folders("/".join(folders))
    if context.extras_at is not None and context.extras_kind is not None:
        return _extra(folders[: context.extras_at], stem, context.extras_kind, id_fields)
    suffix = extra_suffix(clean)
    if suffix is not None:
        owner, kind = suffix
        return _extra(folders, owner, kind, id_fields)

    season_dir, show_dir = context.season_dir, context.show_dir
    in_show = season_dir is not None or (
        show_dir is not None and not context.show_dir_dated and title_key(show_dir) != title_key(clean)
        and title_key(title_year(clean)[0]) != title_key(show_dir)
    )
    em = find_episode(clean, in_show=in_show)
    if em is not None and not em.before and em.season is None and show_dir is not None \
            and re.match(re.escape(folder_title_year(show_dir)[0] or "\n") + r"(?=[ ._-])", clean):
        em = find_episode(clean, in_show=False) or em  # "24/24 - 05": the leading number is the show's
    from_folder = False
    if em is None and folders and season_dir is None and re.fullmatch(r"[0-9a-f]{12,}|\w{1,6}", clean, re.I):
        em = find_episode(strip_ids(folders[-1]), in_show=False)  # an obfuscated file name
        from_folder = em is not None
        if from_folder:
            show_dir = folders[-2] if len(folders) > 1 and not generic_folder(folders[-2]) else None
    if em is not None and em.number is not None and em.season is None and season_dir is not None \
            and not from_folder and "/".join(folders) not in absolute \
            and (episode := season_episode(em.number, season_dir)) is not None:
        # "Friends/Season 1/Friends - 101 - Pilot": season 1 episode 1 (see parse_media_paths)
        em = dataclasses.replace(em, season=season_dir, episode=episode, absolute=False, number=None)
    if em is not None:
        return _episode(em, folders, season_dir, show_dir, from_folder, id_fields)
    return _movie(folders, clean, ext, name, edition_tag(stem), id_fields, guess, scene=bool(group))


def _cased(title: str, folders: list[str]) -> str:
    """Lower-case ``title`` as the nearest folder above writes it, where that folder
    names the same title ("show" in "Show.S01.720p.HDTV.x264-KILLERS" → "Show")."""
    key = title_key(title)
    for folder in reversed(folders):
        named = folder_title_year(folder)[0]
        if named and title_key(named) == key:
            return named
    return title


#: A folder holding one part of a film ("CD1", "Disc 2"; Kodi's stacking words).
_PART_FOLDER = re.compile(r"(?:cd|dvd|disc|disk|part|pt)[ ._-]?(?:\d{1,2}|[a-d])", re.I)
#: The season of a show's release name ("Show.S01.720p…", "Show.S01E02.720p…").
_SEASON_MARK = re.compile(r"[._ ][Ss]\d{1,2}(?:[Ee]\d{1,3})?[._ ]")
#: The release group at the end of a release name ("….x264-SPARKS").
_GROUP = re.compile(r"[._ ][^._ -]+-([A-Za-z0-9]{2,20})$")


def _release_folder_name(folders: list[str]) -> str:
    """The folder of a film's release: the nearest above its file that is not a part
    folder ("CD1"), or "" when that is a library root ("Movies")."""
    for folder in reversed(folders):
        if not _PART_FOLDER.fullmatch(folder.strip()):
            return "" if generic_folder(folder) else folder
    return ""


def _scene_group(folder: str, stem: str) -> str | None:
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
    folder = _release_folder_name(folders)
    found = release_title(folder) if folder else None
    return (found.title, found.year) if found is not None and found.title and found.year else None


def _episode(em: EpisodeMatch, folders: list[str], season_dir: int | None, show_dir: str | None,
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
        title = _cased(title, folders)
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


def _extra(folders: list[str], stem: str, kind: str, ids: dict[str, Any]) -> Parsed:
    title, year = _owner(folders, strip_ids(stem))
    return Parsed(kind="extra", title=title or "Unknown", year=year, extra=kind, **ids)


def _movie(folders: list[str], stem: str, ext: str, name: str, edition: str | None,
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
        raise _NeedsGuessit(name)
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
