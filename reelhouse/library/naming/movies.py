"""Film names: extras by suffix, version labels, parts, and the "Title (Year)" form.
Pure: no I/O.

Sources of the rules: Plex "Local Files for Movie Trailers and Extras" (``-trailer``,
``-deleted``, ``-featurette``, ``-interview``, ``-scene``, ``-short``, ``-behindthescenes``,
``-other``), "Naming and organizing your Movie files" (``Title (Year) - part1``,
``{edition-Director's Cut}``); Jellyfin "Movies" (``Title (Year) - 1080p`` versions,
``-trailer2``, ``Title (Year) - sample``; letter parts ``parta``–``partd``); Kodi "Naming
video files/Movies" (``Title.trailer.ext``, ``cd1``, ``disc2``, ``dvd3``).
"""

from __future__ import annotations

import re

from reelhouse.library.naming.folders import trim_title

__all__ = ["EXTRA_SUFFIXES", "extra_suffix", "paren_year_title", "part_of", "release_edition", "version_label"]

#: suffix word → extra type (Plex, Jellyfin, Kodi)
EXTRA_SUFFIXES: dict[str, str] = {
    "trailer": "trailer", "sample": "sample", "scene": "scene", "clip": "clip",
    "deleted": "deleted", "deletedscene": "deleted", "interview": "interview",
    "behindthescenes": "behindthescenes", "featurette": "featurette", "short": "short",
    "extra": "other", "other": "other", "theme": "themevideo", "backdrop": "themevideo",
}
_WORDS = "|".join(sorted(EXTRA_SUFFIXES, key=len, reverse=True))
# "300-trailer", "300 - trailer2", "300-deleted"; trailer and sample also "300.trailer",
# "300_trailer" (Kodi) and "Film [trailer]" / "Film (sample)"; "trailer" alone
_SUFFIX = re.compile(rf"(?:^|\s*-\s*)({_WORDS})(\d{{0,2}})$", re.I)
_SOFT_SUFFIX = re.compile(r"(?:^|[._]|\s-\s)(trailer|sample)(\d{0,2})$|[\[(](trailer|sample)[\])]$", re.I)
_PREFIX = re.compile(r"^(sample)-", re.I)  # scene style "sample-grp-film"
# "Heat (1995) Trailer", "Heat (1995) sample 2": after a film's "(Year)" no title word
# follows, so an extra word there names an extra whatever separates it
_AFTER_YEAR = re.compile(rf"\((?:19|20)\d\d\)[ ._-]*({_WORDS})[ ._]?(\d{{0,2}})$", re.I)
_WORD_ENDINGS = tuple(w.lower() for w in EXTRA_SUFFIXES)


def extra_suffix(stem: str) -> tuple[str, str] | None:
    """``(owner stem, extra type)`` when file name ``stem`` names an extra by its suffix
    ("Dune (2021)-trailer" → ("Dune (2021)", "trailer")), else None. "I Live In A
    Trailer" and "The DNA Sample" are films: the word must follow a dash, dot or
    underscore, or a film's "(Year)" ("Heat (1995) Trailer", which was a second
    version of the film)."""
    text = stem.strip()
    # both suffix patterns end in a word, up to 2 digits and a bracket: a name that
    # does not (nearly every film and episode) skips their searches (scan cost)
    if not text.rstrip("0123456789)]").rstrip(" ._").lower().endswith(_WORD_ENDINGS):
        return _prefix(text)
    if m := _SUFFIX.search(text):
        if m.start() == 0 or text[m.start():].lstrip().startswith("-"):
            return trim_title(text[: m.start()], " .-_"), EXTRA_SUFFIXES[m.group(1).lower()]
    if m := _SOFT_SUFFIX.search(text):
        word = (m.group(1) or m.group(3)).lower()
        return trim_title(text[: m.start()], " .-_"), EXTRA_SUFFIXES[word]
    if m := _AFTER_YEAR.search(text):
        return trim_title(text[: m.start(1)], " .-_"), EXTRA_SUFFIXES[m.group(1).lower()]
    return _prefix(text)


def _prefix(text: str) -> tuple[str, str] | None:
    m = _PREFIX.match(text)
    return (text[m.end():], "sample") if m else None


_LEAD_GROUPS = re.compile(r"^\s*(?:\[[^\]]*\]\s*)+")
_PAREN_YEAR = re.compile(r"^(.*?\S)[ ._]*\(((?:19|20)\d\d)\)(.*)$")


def paren_year_title(stem: str) -> tuple[str, int, str] | None:
    """``(title, year, rest)`` of the Plex/Jellyfin/Kodi form "Title (Year) rest"
    ("300 (2006) - 1080p" → ("300", 2006, " - 1080p")); None if there is no "(Year)".
    Release groups before a title ("[Judas] Your Name (2016)") and tags after it are no
    part of it; a bracket that is the title, alone or with a number ("[REC] 2"), is."""
    m = _PAREN_YEAR.match(stem)
    if m is None:
        return None
    title = m.group(1)
    if (lead := _LEAD_GROUPS.match(title)) and re.search(r"[^\W\d_]", title[lead.end():]):
        title = title[lead.end():]  # "[Judas] Your Name (2016)": a release group ("[REC] 2" is a title)
    if (cut := re.search(r"\s*[\[{]", title)) and cut.start() > 0:
        title = title[: cut.start()]  # "Film [1080p] (2005)": tags are no title
    return trim_title(title, " .-_"), int(m.group(2)), m.group(3)


_VERSION_WORDS = re.compile(
    r"^(?:\d{3,4}[pi]|4k|2160p|uhd|hdr|sdr|dv|3d(?:[ .-]?h?(?:sbs|tab|ou))?|h?sbs|h?tab|remux"
    r"|bluray|blu-ray|web-?dl|dvd|imax|open matte|remastered|extended(?: (?:cut|edition))?"
    r"|unrated|uncut|theatrical(?: (?:cut|release|edition))?|director'?s'? cut|directors cut"
    r"|final cut|special edition|ultimate (?:cut|edition)|criterion|colou?rized|black and white"
    r"|high bitrate|\d+ version)(?:\b.*)?$",
    re.I,
)


def version_label(rest: str, *, owner_known: bool) -> str | None:
    """The version label after a film's title ("- 1080p", "_720p", "-Director's Cut"),
    or None. ``owner_known``: the title before it is the folder's film (or carries its
    year), so any label counts; else only quality and edition words do."""
    m = re.match(r"^\s*(?:-|_|\s-\s)\s*(.+?)\s*$", rest)
    if m is None:
        return None
    label = re.sub(r"^\[(.*)\]$", r"\1", m.group(1)).strip(" -_")
    if not label or re.fullmatch(r"(?:cd|dvd|disc|disk|part|pt)[ ._-]?(?:\d{1,2}|[a-d])", label, re.I):
        return None
    if owner_known or _VERSION_WORDS.match(label):
        return label
    return None


_PART = re.compile(r"(?:^|[ ._-])(?:cd|dvd|disc|disk|part|pt)[ ._-]?(\d{1,2}|[a-d])(?=$|[ ._)\]-])", re.I)


def part_of(text: str) -> int | None:
    """The part number of a stacked film file ("cd2", "part3", "Disc 1", "partb" → 2)."""
    m = _PART.search(text)
    if m is None:
        return None
    value = m.group(1).lower()
    return int(value) if value.isdigit() else "abcd".index(value) + 1


#: Edition words of release names after the year ("….2001.EXTENDED.1080p",
#: "….1982.Final.Cut.1080p"; guessit's edition vocabulary, Plex's editions) → the
#: version label shown.
_RELEASE_EDITION = re.compile(
    r"(?:^|[._ ])(extended(?:[._ ](?:cut|edition))?|director'?s[._ ]cut|final[._ ]cut|theatrical(?:[._ ]cut)?"
    r"|unrated|uncut|special[._ ]edition|ultimate[._ ]edition|imax|remastered|criterion)(?=$|[._ -])", re.I)
_EDITION_LABELS = {"directors cut": "Director's Cut", "director's cut": "Director's Cut", "imax": "IMAX"}


def release_edition(stem: str, year: int | None) -> str | None:
    """The edition of a release-named film's file ("Extended", "Final Cut",
    "Director's Cut"), from the words after its ``year`` (before it they are the
    title's: "The Director's Cut 2010"), or None: a label for the player's choice of
    versions where a folder holds the theatrical and the extended cut."""
    if year is None or (at := re.search(rf"(?:^|[._ (\[]){year}(?=$|[._ )\]])", stem)) is None:
        return None
    m = _RELEASE_EDITION.search(stem, at.end())
    if m is None:
        return None
    words = re.sub(r"[._ ]+", " ", m.group(1)).strip().lower()
    return _EDITION_LABELS.get(words) or words.title()

