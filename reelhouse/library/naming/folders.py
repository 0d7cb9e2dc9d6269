"""Folder names → what they say: a season number, an extras type, a show or film title,
provider ids. Pure: no I/O.

Sources of the rules: Jellyfin's season folder names (``SeasonPathParser``: "Season",
"Staffel", "Saison", "Temporada", "Stagione", "Sæson", "Kausi", "Säsong", "Seizoen",
"Sezon(a|ul)", "시즌", "シーズン", "Сезон", "Series", "S01", "3.Staffel", "Specials"); Plex
"Naming and organizing your TV show files" (``Season 01``, ``Specials``); Kodi "Naming
video files/TV shows"; the extras folders of Plex ("Local Files for Movie Trailers and
Extras"), Jellyfin ("Movies: extras") and Kodi; the provider id tags of Jellyfin
(``[tmdbid=…]``, ``[tvdbid-…]``, ``[imdbid-tt…]``) and Plex (``{tmdb-…}``, ``{tvdb-…}``,
``{imdb-tt…}``, ``{edition-…}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reelhouse.db.limits import storable_int

__all__ = [
    "EXTRA_FOLDERS", "Ids", "clean_words", "extras_folder", "provider_ids", "season_folder",
    "series_folder_title", "strip_ids", "trim_title",
]

_SEASON_WORDS = (
    r"season|seasons|series|saison|staffel|stagione|sæson|temporada|kausi|säsong|seizoen"
    r"|seasong|sezon|sezona|sezóna|sezonul|시즌|シーズン|сезон|sesong|sesão|évad|sezonas"
)
# "Season 2", "season_02", "Staffel 7 (2016)", "Season1", "S02", "s1", "2"
_SEASON = re.compile(
    rf"^(?:(?:{_SEASON_WORDS})[ ._-]*|s)(\d{{1,4}})(?:[ ._-]*[(\[]\d{{4}}[)\]])?[ ._-]*$", re.I
)
_NUMBER_FIRST = re.compile(rf"^(\d{{1,3}})[ ._-]*(?:{_SEASON_WORDS})$", re.I)  # "3.Staffel"
_BARE = re.compile(r"^\d{1,2}$")
_SPECIALS = re.compile(r"^(?:specials?|speciale|spéciaux|especiales|extras? ?season|season ?0+)$", re.I)
# "The.Wonder.Years.S04.PDTV.x264-JCH", "Drive.S01.2160p.WEB-DL", "[Show.S04.1080p]",
# "The.Wonder.Years [S04][1080p]": a season release folder (no episode number in it)
_RELEASE = re.compile(r"(?:^|[ ._\[(-])s(\d{1,2})(?=$|[ ._\])-])(?![ ._-]*e\d)", re.I)
# "The Show Season 10", "The_Show_Season_1", "The Wonder Years Season 01 1080p"
_TITLE_SEASON = re.compile(rf"[ ._-](?:{_SEASON_WORDS})[ ._-]*(\d{{1,4}})(?=$|[ ._\[(-])", re.I)
_EPISODE_MARK = re.compile(r"s\d{1,4}[ ._-]*x?e\d|\bepisode\b|\d{1,2}x\d{2}", re.I)

#: Extras folders (Plex, Jellyfin, Kodi) → extra type
EXTRA_FOLDERS: dict[str, str] = {
    "trailers": "trailer", "trailer": "trailer",
    "featurettes": "featurette", "featurette": "featurette",
    "behind the scenes": "behindthescenes", "behindthescenes": "behindthescenes",
    "deleted scenes": "deleted", "deletedscenes": "deleted", "deleted": "deleted",
    "interviews": "interview", "interview": "interview",
    "scenes": "scene", "shorts": "short", "clips": "clip",
    "other": "other", "others": "other", "extras": "other", "extra": "other",
    "bonus": "other", "bonus features": "other", "special features": "other",
    "backdrops": "themevideo", "theme-videos": "themevideo",
    "samples": "sample", "sample": "sample",
}


def extras_folder(name: str) -> str | None:
    """The extra type a folder named ``name`` holds ("Deleted Scenes" → "deleted"), or None."""
    return EXTRA_FOLDERS.get(re.sub(r"[ _.]+", " ", name).strip().casefold())


def season_folder(name: str, parent: str | None = None) -> int | None:
    """The season a folder named ``name`` holds, or None: "Season 2", "Staffel 2",
    "S02", "3.Staffel", "Specials" (0), "2", a season release folder
    ("Show.S04.720p.WEB-DL"), or "<parent name> Season 1" inside the show folder."""
    text = name.strip().strip("[]").strip()
    if _SPECIALS.match(text):
        return 0
    if m := _SEASON.match(text) or _NUMBER_FIRST.match(text):
        return int(m.group(1))
    if _BARE.match(text):
        return int(text)
    if _EPISODE_MARK.search(text):
        return None
    if m := _RELEASE.search(text):
        if m.start() > 0:  # a title before the season tag
            return int(m.group(1))
    if parent and (m := _TITLE_SEASON.search(text)):
        before = _key(text[: m.start()])
        if before and _key(parent).startswith(before):
            return int(m.group(1))
    return None


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).casefold()


@dataclass(frozen=True, slots=True)
class Ids:
    """Provider ids named in a folder or file name."""

    tmdb: int | None = None
    tvdb: int | None = None
    imdb: str | None = None


# Jellyfin "[tmdbid=123]", "[tmdbid-123]", "[imdbid-tt1234]"; Plex "{tmdb-123}",
# "{tvdb-123}", "{imdb-tt1234}"; also "(tmdb=123)"
_ID = re.compile(
    r"[\[{(]\s*(tmdb|tvdb|imdb)(?:id)?\s*[=-]\s*(tt\d+|\d+)\s*[\]})]", re.I
)
_NO_IDS = Ids()
_SPACES = re.compile(r"\s{2,}")
_EDITION = re.compile(r"\{edition-([^}]+)\}", re.I)


def provider_ids(text: str) -> Ids:
    """Provider ids tagged in ``text`` ("Dune (2021) [tmdbid=438631]"); a number past
    an ``Integer`` column's range (1 .. 2**31-1) counts as no tag."""
    if "db" not in text.lower():  # no tag (most names): skip the scan, ~30 µs
        return _NO_IDS
    found: dict[str, str] = {}
    for m in _ID.finditer(text):
        found.setdefault(m.group(1).lower(), m.group(2))
    tmdb, tvdb, imdb = found.get("tmdb"), found.get("tvdb"), found.get("imdb")
    return Ids(  # an id no Integer column holds is no id we could match: absent
        tmdb=storable_int(int(tmdb), "tmdb id tag", 1) if tmdb and tmdb.isdigit() else None,
        tvdb=storable_int(int(tvdb), "tvdb id tag", 1) if tvdb and tvdb.isdigit() else None,
        imdb=imdb if imdb and imdb.startswith("tt") else None,
    )


def strip_ids(text: str) -> str:
    """``text`` without provider id and edition tags."""
    if "{" in text or "db" in text.lower():
        text = _EDITION.sub(" ", _ID.sub(" ", text))
    return _SPACES.sub(" ", text).strip()


def edition_tag(text: str) -> str | None:
    """The Plex ``{edition-Director's Cut}`` tag of ``text``, or None."""
    m = _EDITION.search(text)
    return m.group(1).strip() if m else None


def trim_title(text: str, chars: str = " ._-") -> str:
    """``text`` without the separators ``chars`` at either end, but a dash glued to the
    first word ("-rf Film", "--help", "-1") or a plus glued to the last ("Film+", "C++")
    stays: it is the title's, as a user wrote it. A dash between spaces is a separator
    ("- Film -" → "Film"), and dashes at both ends are a decoration ("-Film-" → "Film");
    so is a dash glued to the first word after other text was cut before it (``text``
    must then not start with it)."""
    i, j = 0, len(text)
    while i < j and text[i] in chars:
        i += 1
    while j > i and text[j - 1] in chars:
        j -= 1
    if i == j:
        return ""
    k = i
    while k > 0 and text[k - 1] == "-":
        k -= 1
    if k < i and text[i].isalnum() and not text[:k].strip() and not text.rstrip().endswith("-"):
        i = k  # "-rf Film": the dash is glued to the word ("-Film-" is a decoration)
    m = j
    while m < len(text) and text[m] == "+":
        m += 1
    if m > j and text[j - 1].isalnum():
        j = m  # "Film+": the plus is glued to the word
    return text[i:j]


_ACRONYM_END = re.compile(r"(?:^|[ ._])(?:[^\W\d_]\.){2,}$")


def clean_words(text: str) -> str:
    """Separators → spaces, keeping acronyms: "The.Show.P.I" → "The Show P.I",
    "S.H.O.W" → "S.H.O.W", "the_simpsons" → "the simpsons"; an acronym that ends the
    name keeps its last dot ("S.H.I.E.L.D." stays, as the title is written)."""
    text = text.replace("_", " ")
    if _ACRONYM_END.search(text.rstrip(" -")):
        return clean_words(text.rstrip(" -")[:-1]) + "."
    if " " not in text.strip() and "." in text:
        words = text.split(".")
        out = ""
        for i, w in enumerate(words):
            if i and len(w) <= 1 and len(words[i - 1]) <= 1 and w and words[i - 1]:
                out += "." + w
            else:
                out += (" " if out else "") + w
        text = out
    return trim_title(re.sub(r"\s+", " ", text), " -.")


_YEAR_TAIL = re.compile(r"[ ._]*[(\[]((?:19|20)\d\d)(?:-(?:(?:19|20)\d\d)?)?[)\]]\s*$")
_RELEASE_TAIL = re.compile(
    rf"(?:[ ._\[(-]+(?:s\d{{1,4}}(?:[ ._-]*x?e\d{{1,4}}.*)?|(?:{_SEASON_WORDS})[ ._-]*\d{{1,4}})(?=$|[ ._\])-]).*)$",
    re.I,
)


def series_folder_title(path: str) -> str | None:
    """The show a folder path names: the last folder, or the one above a season folder,
    without its season tag, release words, year and provider ids ("The.Show.S01.COMPLETE"
    → "The Show", "/something/The_Show/Season 10" → "The Show", "1923 (2022)" → "1923")."""
    parts = [p for p in path.split("/") if p]  # "\\" is a name character on Unix (FTP servers)
    while parts:
        parent = parts[-2] if len(parts) > 1 else None
        last = parts[-1]
        season = season_folder(last, parent)
        if season is not None and (parent is not None and not _RELEASE_TAIL.search(last)):
            parts.pop()
            continue
        title = _RELEASE_TAIL.sub("", strip_ids(last).strip("[]"))
        title = _YEAR_TAIL.sub("", title)
        return clean_words(title) or None
    return None


def folder_year(name: str) -> int | None:
    """The year of a "Title (Year)" folder name, or None."""
    m = _YEAR_TAIL.search(strip_ids(name))
    return int(m.group(1)) if m else None
