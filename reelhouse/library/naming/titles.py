"""Titles from names: the clean-up rules that turn the words of a file or folder name
into the title and year of a film or show, and guessit for the release names our own
patterns do not read (parse.py decides which rule a path reaches). Pure: no I/O.

- ``match_key`` / ``title_key`` — the normalised text two spellings of a title share
- ``generic_folder`` — folders that say nothing of what is inside (``Movies``, ``tv``)
- ``title_year`` — a title and year from the raw words before a marker
- ``folder_title_year`` — a title and year from a show's or film's folder
- ``guessed_title`` — guessit's reading of a release name, with its known slips mended
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

from guessit.api import GuessItApi

from reelhouse.db.limits import storable_int
from reelhouse.library.naming.folders import clean_words, folder_year, series_folder_title, strip_ids, trim_title
from reelhouse.library.naming.movies import part_of

__all__ = ["MATCH_KEY_MAX", "TITLE_YEAR", "folder_title_year", "generic_folder", "guessed_title", "match_key",
           "title_key", "title_year"]

#: Length of the ``match_key`` column (db/models/library.py).
MATCH_KEY_MAX = 600


def match_key(title: str, year: int | None = None) -> str:
    """A normalised key so "The Office (US)" and "the office us" match: NFKD, no accents,
    lower case, alphanumerics only, with the year appended."""
    text = title
    if not text.isascii():  # accents to strip (an ASCII title has none)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.casefold()
    text = re.sub(r"[\W_]+", " ", text).strip()
    return f"{text[: MATCH_KEY_MAX - 6]}|{year or ''}"  # NFKD and casefold may lengthen a title


def title_key(text: str) -> str:
    """:func:`match_key` without the year and the spaces: "Doctor.Who" → "doctorwho"."""
    return match_key(text).split("|")[0].replace(" ", "")


#: Folders that say nothing of what is inside (library roots, letters).
_GENERIC = frozenset(
    "movies movie films film videos video media tv tvshows tv shows shows series anime "
    "downloads download complete data server drive library temp tmp public pub incoming "
    "kids documentaries docs".split()
)


def generic_folder(folder: str) -> bool:
    """Whether ``folder`` says nothing of what is inside: a library root ("Movies",
    "TV Shows") or a letter ("A")."""
    text = folder.strip().casefold()
    return text in _GENERIC or len(text) <= 1 or re.sub(r"[\W_]+", " ", text).strip() in _GENERIC


# -- guessit -------------------------------------------------------------------------

#: One guessit instance per option set: guessit re-merges its whole configuration
#: whenever the options differ from the previous call's (about 5 ms).
_APIS: dict[str, GuessItApi] = {}
#: guessit properties naming never reads and whose words never end up in a title when
#: skipped: measured on the 668 names of the naming benchmark that reached guessit,
#: identical titles, years and types, 15-20 % less CPU per call (benchmarks/README.md).
_EXCLUDES = (
    "crc32", "uuid", "mimetype", "size", "audio_bit_rate", "video_bit_rate", "bit_rate", "audio_channels",
    "audio_profile", "video_profile", "color_depth", "frame_rate", "video_api", "country", "streaming_service",
    "subtitle_language", "episode_title", "website", "edition",
)


def _guess(text: str, kind: str | None = None) -> Any:
    api = _APIS.get(kind or "")
    if api is None:
        api = _APIS[kind or ""] = GuessItApi()
    options: dict[str, Any] = {"excludes": list(_EXCLUDES)}
    if kind:
        options["type"] = kind
    return api.guessit(text, options)


def _first_int(value: Any, what: str) -> int | None:
    """The (first) number guessit found, if an ``Integer`` column can hold it."""
    if isinstance(value, list):
        value = value[0] if value else None
    return storable_int(value, what, 0) if isinstance(value, int) and not isinstance(value, bool) else None


#: What guessit sees for a backslash (U+2216 SET MINUS: a word character to guessit).
_BACKSLASH = "\u2216"


def _text(value: Any, *, unescape: bool = False) -> str | None:
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    text = str(value) if value else None
    return text.replace(_BACKSLASH, "\\") if text and unescape else text


# -- titles ----------------------------------------------------------------------------

_LEAD_GROUPS = re.compile(r"^\s*(?:\[[^\]]*\]\s*)+")
TITLE_YEAR = re.compile(r"[ ._-]*[(\[]?((?:19|20)\d\d)[)\]]?[ ._-]*$")


def title_year(raw: str) -> tuple[str, int | None]:
    """A show or film title from the raw text before a marker: group tags dropped,
    a trailing year split off ("Doctor.Who.2005." → ("Doctor Who", 2005))."""
    text = _LEAD_GROUPS.sub("", strip_ids(raw))
    glued = text.lstrip() == raw.lstrip()  # "-rf Show": a dash glued to the title only if nothing was cut
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = trim_title(text, " ._-–") if glued else text.strip(" ._-–")
    year = None
    if (m := TITLE_YEAR.search(text)) and m.start() > 0:
        year = int(m.group(1))
        text = text[: m.start()]
    return clean_words(text), year


@functools.lru_cache(maxsize=4096)
def folder_title_year(folder: str) -> tuple[str | None, int | None]:
    """``(title, year)`` of a show or film folder ("Doctor Who (2005)" → "Doctor Who",
    2005; "The.Show.S01.COMPLETE" → "The Show")."""
    title = series_folder_title(re.sub(r"\[[^\]]*\]", " ", folder).strip() or folder)
    if title:  # "[Group]Foo - 01 - 12[1080p]": the episode range of a batch folder
        title = re.sub(r"\s+-\s+\d[\d\s-]*$", "", title) or title
    year = folder_year(folder)
    if year is None and title:
        m = TITLE_YEAR.search(title)
        if m and m.start() > 0 and re.search(r"[._]", folder):
            year, title = int(m.group(1)), title[: m.start()].strip()
    return (title or None), year


# -- guessit's titles, mended --------------------------------------------------------

#: "Vol.2", "Vol. 2", "Volume 2" in a film's name (Kill Bill, Guardians of the Galaxy).
_TITLE_VOLUME = re.compile(r"(?:^|[ ._-])vol(?:ume)?[ ._]*(\d{1,2})(?=$|[ ._-])", re.I)
_TITLE_PART = re.compile(r"(?:^|[ ._-])part[ ._-]?(\w+)[ ._-]+\(?(?:19|20)\d\d", re.I)
_YEAR = re.compile(r"(?:^|[ ._(\[])((?:19|20)\d\d)(?=$|[ ._)\]])")


def _plain_stem_title(stem: str) -> str | None:
    """The words before the year in a release name ("WALL-E.2008" → "WALL-E")."""
    m = _YEAR.search(stem)
    if m is None or m.start() == 0:
        return None
    words = trim_title(re.sub(r"[._]+", " ", stem[: m.start()]), " -([")
    return words or None


#: A number of 3-4 digits in brackets before a release name's title, not a year:
#: "(500).Days.of.Summer.2009" (a numbering such as "(01) Film" stays out of a title).
_LEAD_NUMBER = re.compile(r"^\((?!(?:19|20)\d\d\))([1-9]\d{2,3})\)[ ._-]*")


def guessed_title(stem: str, name: str, ext: str) -> tuple[str | None, int | None, int | None]:
    """``(title, year, part)`` of a film's release name by guessit (``name``: the file
    name, ``stem`` without its extension ``ext``), with the slips guessit is known to
    make on such names mended (each rule names its case). 5-20 ms a name."""
    # guessit reads "\\" as a Windows folder separator, but on Unix (FTP servers) it is a
    # name character: "AC\\DC Live" is one title, so guessit sees a look-alike instead
    text = name if ext else stem + ".mkv"
    swap = "\\" in text and _BACKSLASH not in text
    text = text.replace("\\", _BACKSLASH) if swap else text
    guessed = _guess(text)
    if guessed.get("type") == "episode":  # no episode form: a film with a number
        guessed = _guess(text, "movie")
    title = _text(guessed.get("title"), unescape=swap)
    year = _first_int(guessed.get("year"), "guessit year")
    alternative = _text(guessed.get("alternative_title"), unescape=swap)
    if title and alternative and year is None and " - " in stem:
        title = f"{title} - {alternative}"  # "Star Trek 1 - The motion picture" is one title
    plain = _plain_stem_title(stem)
    if title and plain and len(title) <= 2 < len(plain) and plain.endswith(title):
        title = plain  # "WALL-E": guessit took "WALL-" for something else
    lead = re.match(r"^(\d{1,4})[ ._-]+", stem)
    if (not title or title.isdigit()) and re.match(r"^\d{1,4}(?=$|[ ._-])", stem):
        title = title_year(re.split(r"[\[(]", stem)[0])[0] or title
        if title and title == str(year):  # "1917.mkv": the number is the title
            year = None
    elif title and re.fullmatch(r"(?:.*\s)?(?:trailer|sample)", stem, re.I) and \
            title_key(stem).startswith(title_key(title)):
        title = clean_words(stem)  # "I Live In A Trailer": the word ends the title
    elif title and lead and not title.startswith(lead.group(1)) and \
            title_key(stem[lead.end():]).startswith(title_key(title)):
        title = f"{lead.group(1)} {title}"  # "480 Super movie": guessit took 480 for a resolution
    elif title and (paren := _LEAD_NUMBER.match(stem)) and title_key(stem[paren.end():]).startswith(title_key(title)):
        title = f"({paren.group(1)}) {title}"  # "(500).Days.of.Summer": guessit dropped "(500)"
    if title and not title.strip():
        title = ""  # "\r.mkv": guessit's title is whitespace
    if not title and re.search(r"[^\W\d_]", stem):
        title = clean_words(stem)  # "[rec]": guessit found no title
    elif title and title.split() and not stem.rstrip().endswith("-") and \
            (glued := re.match(r"\s*(-+)" + re.escape(title.split()[0]), stem)):
        title = glued.group(1) + title  # "-rf Film 1080p": guessit drops a dash glued to the title
    part = _first_int(guessed.get("cd"), "guessit cd") or _first_int(guessed.get("part"), "guessit part")
    volume = _first_int(guessed.get("volume"), "guessit volume")
    if title and volume is not None and (named := _TITLE_VOLUME.search(stem)) and int(named.group(1)) == volume \
            and title_key(stem[: named.start()]).endswith(title_key(title)):
        title = f"{title} Vol. {volume}"  # "Kill.Bill.Vol.1.2003": guessit takes the volume out of the title
    named_part = _TITLE_PART.search(stem)
    if named_part and title:  # "Dune Part Two (2024)" is a title, not a part of a file
        title, part = f"{title} Part {named_part.group(1)}", None
    elif part is None:
        part = part_of(stem)
    return title, year, part
