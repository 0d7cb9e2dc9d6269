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
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from reelhouse.library.naming.episodes import EpisodeMatch, find_episode, season_episode, season_episode_range
from reelhouse.library.naming.films import NeedsGuessit, extra_parsed, movie_parsed, release_folder_name, scene_group
from reelhouse.library.naming.folders import (
    edition_tag,
    extras_folder,
    folder_year,
    provider_ids,
    season_folder,
    strip_ids,
)
from reelhouse.library.naming.movies import extra_suffix
from reelhouse.library.naming.parsed import MEDIA_EXTENSIONS, Parsed, split_stem
from reelhouse.library.naming.shows import episode_parsed
from reelhouse.library.naming.titles import folder_title_year, generic_folder, match_key, title_key, title_year

__all__ = ["MEDIA_EXTENSIONS", "Parsed", "absolute_folders", "match_key", "parse_media_path", "parse_media_paths",
           "split_stem"]

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
        except NeedsGuessit:
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
    group = scene_group(release_folder_name(folders), clean) if folders else None
    if group:
        clean = clean[len(group) + 1:]  # "sparks-thematrix-1080p": the release group is no title

    context = _folders("/".join(folders))
    if context.extras_at is not None and context.extras_kind is not None:
        return extra_parsed(folders[: context.extras_at], stem, context.extras_kind, id_fields)
    suffix = extra_suffix(clean)
    if suffix is not None:
        owner, kind = suffix
        return extra_parsed(folders, owner, kind, id_fields)

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
    if em is not None and em.number is not None and em.season is None and not from_folder \
            and "/".join(folders) not in absolute:
        em = _season_numbers(em, season_dir)
    if em is not None:
        return episode_parsed(em, folders, season_dir, show_dir, from_folder, id_fields)
    return movie_parsed(folders, clean, ext, name, edition_tag(stem), id_fields, guess, scene=bool(group))


def _season_numbers(em: EpisodeMatch, season_dir: int | None) -> EpisodeMatch:
    """A bare number (or range) read as season and episode where its shape says so:
    "Friends/Season 1/Friends - 101 - Pilot" is season 1 episode 1 and "… - 101-102"
    episodes 1 to 2 (:func:`~.episodes.season_episode`; not in a folder of absolute
    numbers: see parse_media_paths); outside a season folder only a range is
    ("Friends - 101-102": :func:`~.episodes.season_episode_range`), a lone "Show - 101"
    stays absolute (anime). Else ``em`` as it is."""
    assert em.number is not None
    if season_dir is not None:
        episode = season_episode(em.number, season_dir)
        end = season_episode(em.number_end, season_dir) if em.number_end is not None else None
        if episode is None or (em.number_end is not None and (end is None or end <= episode)):
            return em
        return dataclasses.replace(em, season=season_dir, episode=episode, episode_end=end, absolute=False,
                                   number=None, number_end=None)
    if em.number_end is not None and (found := season_episode_range(em.number, em.number_end)) is not None:
        season, episode, end = found
        return dataclasses.replace(em, season=season, episode=episode, episode_end=end, absolute=False,
                                   number=None, number_end=None)
    return em
