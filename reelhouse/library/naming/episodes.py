"""The episode forms of a file name, without guessit: ``S01E02``, ``1x02``, ranges,
``Season 3 Episode 9``, air dates, anime absolute numbers, bare numbers inside a show.
Pure: no I/O; one pass of a few compiled patterns (about 20 µs a name, against 5-30 ms
for guessit).

Sources of the forms: Sonarr's episode naming (``S01E01-E03``, ``1x01``, daily
``2014-07-22``, anime ``Title - 001``), Plex "Naming and organizing your TV show files"
(``s02e17-e19``, ``2011-11-15``), Kodi "Naming video files/TV shows" (``1x02``,
``s01e01e02``, ``S01 E02``), Jellyfin's episode naming tests (``02x03 - x04 - x15``,
``02x03-E15``, ``Season 2/02 - blah``, ``[Group] Title - 136 [720p]``, ``[21]``,
``ABC News 2018_03_24_19_00_00``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

__all__ = ["EpisodeMatch", "find_episode", "season_episode", "season_episode_range", "strip_release_words"]


@dataclass(frozen=True, slots=True)
class EpisodeMatch:
    """Where the episode marker of a name is and what it says."""

    before: str  # the text before the marker (the show title, raw)
    after: str  # the text after it (the episode title and release words, raw)
    season: int | None = None
    episode: int | None = None
    episode_end: int | None = None
    air_date: str | None = None
    absolute: bool = False  # an anime-style absolute number (no season given)
    #: a bare number as written ("101" of "Show - 101 - Title", "02 - Pilot"): in a
    #: season folder "101" may be season 1 episode 1 (parse.py decides by the folder)
    number: str | None = None
    #: the last number of a bare range as written ("102" of "Show - 101-102", "Show - 101
    #: & 102"): a double episode, S01E01-E02 unless the folder numbers absolutely
    number_end: str | None = None


_B = r"(?:^|(?<=[ ._\-\[(]))"  # a word boundary that treats separators as boundaries
_E = r"(?=$|[ ._\-\])\[(,])"
# S01E02, s01.e02, S01xE02, S01 E02, S003 E009, S2009E23; E02E03 / -E03 / -03 / & E03 / +E03 chains
_SXE = re.compile(
    _B + r"s(\d{1,4})(?:[ ._]?|[ ._]?-[ ._]?)(?:x?[ ._]?ep?[ ._]?|x)(\d{1,5})(?!\d)"
    r"((?:(?:[ ._]?[-&+][ ._]?|[ ._]?)(?:s\d{1,4})?[ ._]?x?e\d{1,4}(?!\d)|-\d{1,4}(?![\dpi]))*)",
    re.I,
)
# 1x02, 2009x02, 02x03x04x15, 02x03-04-15, 02x03-E15, 02x03 - 02x04 - 02x15, 02x03 - x04,
# 1x01 & 1x02, 1x01.1x02
_NXN = re.compile(
    _B + r"(\d{1,4})x(\d{1,3})(?![\dpi])"
    r"((?:x\d{1,3}(?!\d)|-e?\d{1,3}(?![\dpi])|[ ._]?[-&+][ ._]?(?:\d{1,4})?x\d{1,3}(?!\d)|[._]\d{1,2}x\d{2}(?!\d))*)",
    re.I,
)
_RESOLUTION = re.compile(r"(\d{3,4})x(\d{3,4})")


def _is_resolution(text: str) -> bool:
    """"1920x1080", "720x576": a picture size (width ≥ height, ratio ≤ 2.5), not "2016x231"."""
    m = _RESOLUTION.fullmatch(text)
    return m is not None and int(m.group(2)) >= 200 and 1 <= int(m.group(1)) / int(m.group(2)) <= 2.5
# Season 3 Episode 9, Season 3 Ep 9
_WORDS = re.compile(_B + r"season[ ._-]*(\d{1,4})[ ._-]*(?:episode|ep)[ ._-]*(\d{1,4})" + _E, re.I)
# Dutch releases: "Se.3 afl.3" (seizoen 3, aflevering 3; Sonarr's parser tests)
_DUTCH = re.compile(_B + r"se\.?[ ._]?(\d{1,2})[ ._]+afl\.?[ ._]?(\d{1,3})" + _E, re.I)
# dates: 2011.11.15, 2011-11-15, 2018_03_24_19_00_00, 2023 07 14
_DATE = re.compile(_B + r"((?:19|20)\d\d)([._ -])(\d\d)\2(\d\d)(?:[._ -]\d\d[._ -]\d\d(?:[._ -]\d\d)?)?" + _E)
# 03-24-2018, 03.24.2018 (Plex: MM-DD-YYYY)
_US_DATE = re.compile(_B + r"(\d\d)([._ -])(\d\d)\2((?:19|20)\d\d)" + _E)
# 140722 (YYMMDD, talk shows)
_SHORT_DATE = re.compile(_B + r"(\d\d)(\d\d)(\d\d)" + _E)
# anime: "S2 - 05" (a season, then the episode after " - ")
_ANIME_SEASON = re.compile(r"[ ._]s(\d{1,2}) - (\d{1,4})(?:v\d)?" + _E, re.I)
# anime: "Title - 136 [720p]", "Title - 01v2", "Title - 001-002" (two episodes in one file);
# "Friends - 101-102", "Friends - 101 & 102", "… - 101+102": a double episode (season_episode_range)
_DASH = re.compile(r" - (\d{1,4})(?:(?:-| ?[&+] ?)(\d{1,4}))?(?:v\d)?(?=$|[ .\[(]| - )")
# anime: "[VCB-Studio] Title [21][Ma10p_1080p]"
_BRACKET = re.compile(r"\[(\d{1,4})(?:v\d)?\]")
# Spanish releases: "[Cap.201]" is season 2, episode 1; "[Cap.1901]" season 19, episode 1
_CAP = re.compile(r"\[cap\.\s?(\d{1,2})(\d{2})\]", re.I)
# scene "Title.103.720p.HDTV-GRP", "Title_209_Words": season 1 episode 3 (Sonarr, Jellyfin)
_SCENE_SEE = re.compile(r"(?<=[._])([1-9]\d?)(\d{2})(?=$|[._-])")
# scene double episodes "Title.101.102", "Title.101-102.720p": the same season twice
_SCENE_RANGE = re.compile(r"(?<=[._])([1-9]\d?)(\d{2})[._-]\1(\d{2})(?=$|[._-])")
# "Episode 16", "Ep 16", "Foo_ep_02", "E07" (a Chinese drama release)
_EP_WORD = re.compile(_B + r"(?:episode|ep)[ ._-]*(\d{1,4})" + _E, re.I)
_E_ONLY = re.compile(_B + r"e(\d{1,4})(?:-e?(\d{1,4}))?" + _E, re.I)
# inside a show folder: "02 - blah", "2. Infestation", "16 Some Title", "02-03 - blah", "1-12"
_LEADING = re.compile(r"^(\d{1,4})(?:-(\d{1,4}))?(?=$|[ ._\-])(?!\.\d)")
# inside a show folder: "One Piece 1001", "The Simpsons 889", "Hunter X Hunter - 101", "Friends 101-102"
_SEASON_DASH = re.compile(r"^(\d)-(\d{2,3})(?=$|[ ._])")
_TRAILING = re.compile(r"[ ._](\d{1,4})(?:-(\d{1,4}))?(?:v\d)?(?=$|[ ._]*\[| - )")
_GROUP = re.compile(r"^\s*\[[^\]]*\]\s*")


def _chain_end(chain: str) -> int | None:
    found = re.findall(r"(?:x|e|-)(\d{1,4})", chain, re.I)
    return int(found[-1]) if found else None


def _valid_date(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def find_episode(stem: str, *, in_show: bool) -> EpisodeMatch | None:
    """The episode marker of file name ``stem`` (no extension). ``in_show``: the file is
    inside a season or show folder, so bare numbers ("02 - Pilot", "One Piece 1001")
    count as episode numbers. Returns None when the name has no episode form."""
    if m := _SXE.search(stem):
        end = _chain_end(m.group(3)) if m.group(3) else None
        return EpisodeMatch(stem[: m.start()], stem[m.end():], int(m.group(1)), int(m.group(2)),
                            end if end is not None and end > int(m.group(2)) else None)
    if (m := _WORDS.search(stem)) or (m := _DUTCH.search(stem)):
        return EpisodeMatch(stem[: m.start()], stem[m.end():], int(m.group(1)), int(m.group(2)))
    for m in _NXN.finditer(stem):
        if _is_resolution(m.group(0).split("-")[0].strip(" ._")):
            continue
        end = _chain_end(m.group(3)) if m.group(3) else None
        return EpisodeMatch(stem[: m.start()], stem[m.end():], int(m.group(1)), int(m.group(2)),
                            end if end is not None and end > int(m.group(2)) else None)
    if m := _DATE.search(stem):
        day = _valid_date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
        if day and m.start() > 0:
            return EpisodeMatch(stem[: m.start()], stem[m.end():], air_date=day)
    if m := _CAP.search(stem):
        return EpisodeMatch(stem[: m.start()], stem[m.end():], int(m.group(1)), int(m.group(2)))
    if (m := _US_DATE.search(stem)) and m.start() > 0:
        day = _valid_date(int(m.group(4)), int(m.group(1)), int(m.group(3)))
        if day:
            return EpisodeMatch(stem[: m.start()], stem[m.end():], air_date=day)
    if m := _ANIME_SEASON.search(stem):
        return EpisodeMatch(stem[: m.start()], stem[m.end():], int(m.group(1)), int(m.group(2)))
    if m := _EP_WORD.search(stem):
        return EpisodeMatch(stem[: m.start()], stem[m.end():], None, int(m.group(1)))
    if m := _SEASON_DASH.match(stem):  # "4-12 - The Woman": season 4, episode 12
        return EpisodeMatch("", stem[m.end():], int(m.group(1)), int(m.group(2)))
    if in_show and (leading := _leading(stem)) is not None:
        return leading
    body = _GROUP.sub("", stem)
    cut = len(stem) - len(body)
    if (m := _DASH.search(body)) and not _before_year(body, m, in_show):
        end = int(m.group(2)) if m.group(2) and int(m.group(2)) > int(m.group(1)) else None
        return EpisodeMatch(stem[: cut + m.start()], body[m.end():], None, int(m.group(1)), end, absolute=True,
                            number=m.group(1), number_end=m.group(2) if end is not None else None)
    if m := _E_ONLY.search(stem):
        end = int(m.group(2)) if m.group(2) else None
        return EpisodeMatch(stem[: m.start()], stem[m.end():], None, int(m.group(1)),
                            end if end is not None and end > int(m.group(1)) else None)
    if cut and (m := _BRACKET.search(body)) and not _is_year(m.group(1)):
        return EpisodeMatch(stem[: cut + m.start()], body[m.end():], None, int(m.group(1)), absolute=True)
    if (scene_range := _scene_range(stem, lone=not in_show)) is not None:
        return scene_range
    if not in_show:
        for m in _SCENE_SEE.finditer(stem):
            if _scene_episode(stem, m, lone=True):
                return EpisodeMatch(stem[: m.start()], stem[m.end():], int(m.group(1)), int(m.group(2)))
        if (m := _SHORT_DATE.search(stem)) and m.start() > 0:
            day = _valid_date(2000 + int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if day:
                return EpisodeMatch(stem[: m.start()], stem[m.end():], air_date=day)
        return None
    for m in _TRAILING.finditer(stem):
        if not _is_year(m.group(1)) and m.start() > 0:
            end = int(m.group(2)) if m.group(2) and int(m.group(2)) > int(m.group(1)) else None
            return EpisodeMatch(stem[: m.start()], stem[m.end():], None, int(m.group(1)), end, absolute=True,
                                number=m.group(1), number_end=m.group(2) if end is not None else None)
    for m in _SCENE_SEE.finditer(stem):  # "Show/Season 1/Show.103.HDTV"
        if _scene_episode(stem, m):
            return EpisodeMatch(stem[: m.start()], stem[m.end():], int(m.group(1)), int(m.group(2)))
    return None


def season_episode(number: str, season: int) -> int | None:
    """The episode of bare number ``number`` (its digits as written) read as season and
    episode in a folder of season ``season``: "101" in season 1 → 1, "1003" in season 10
    → 3; None when it has no such shape ("001", "220" or "100" in season 1, "1001" in
    season 21: absolute numbers). The shape of guessit's and Sonarr's standard "101"
    (one or two season digits, then episode 01-99); the folder's season keeps an
    anime's absolute "1001" in "Season 21" absolute (Jellyfin's episode tests)."""
    if len(number) not in (3, 4) or number[0] == "0" or season < 1 or number[:-2] != str(season):
        return None
    episode = int(number[-2:])
    return episode if episode >= 1 else None


def season_episode_range(first: str, last: str) -> tuple[int, int, int] | None:
    """``(season, episode, last episode)`` of a bare range read as one season's double
    episode outside a season folder ("101-102" → season 1, episodes 1 to 2), or None:
    both numbers of three digits ("1001-1002" stays One Piece's absolute numbers), the
    same season digit, episodes 01 to ``_MAX_SCENE_EPISODE`` rising ("365-366" stays
    Bleach's). The shape of the scene's and Plex's "101-102" (Sonarr's "S01E01-E02"
    written short); a lone "Show - 101" stays absolute (anime), a range of two
    episodes of one season is what a user of a TV show means."""
    if len(first) != 3 or len(last) != 3 or first[0] != last[0] or first[0] == "0":
        return None
    episode, end = int(first[1:]), int(last[1:])
    if not 1 <= episode < end <= _MAX_SCENE_EPISODE:
        return None
    return int(first[0]), episode, end


def _scene_range(stem: str, *, lone: bool) -> EpisodeMatch | None:
    """"Title.101.102", "Title.101-102.720p": season 1 episodes 1 to 2, on the terms of
    :func:`_scene_episode` (a title before, no space, no year after) with episodes
    rising, at most ``_MAX_SCENE_EPISODE`` in a lone file."""
    for m in _SCENE_RANGE.finditer(stem):
        episode, end = int(m.group(2)), int(m.group(3))
        if not 1 <= episode < end or (lone and end > _MAX_SCENE_EPISODE):
            continue
        if " " in stem or m.start() < 2 or _is_year(m.group(1) + m.group(2)) or _is_year(m.group(1) + m.group(3)):
            continue
        after = stem[m.end():]
        if _YEAR_ANYWHERE.search(after):
            continue
        if not after or _JUNK.match(after) or re.match(r"[._][A-Za-z]", after) or after[0] == "-":
            return EpisodeMatch(stem[: m.start()], after, int(m.group(1)), episode, end)
    return None


def _leading(stem: str) -> EpisodeMatch | None:
    """"02 - Pilot", "2. Infestation", "16 Some Title", "02-03 - Two parts" in a show."""
    m = _LEADING.match(stem)
    if m is None or (_is_year(m.group(1)) and not m.group(2)):
        return None
    first, second = int(m.group(1)), m.group(2)
    end = int(second) if second is not None and int(second) > first else None
    return EpisodeMatch("", stem[m.end():], None, first, end, number=m.group(1),
                        number_end=second if end is not None else None)


def _before_year(body: str, m: re.Match[str], in_show: bool) -> bool:
    """Whether " - N" is part of a film title ("Wolf of Wall Street - 2 (2013)") or a
    year ("Maximum Ride - 2016 - WEBDL") rather than an episode number."""
    if re.match(r"\s*\((?:19|20)\d\d\)", body[m.end():]):
        return True
    return not in_show and _is_year(m.group(1))


def _scene_episode(stem: str, m: re.Match[str], *, lone: bool = False) -> bool:
    """Whether "103" in a dotted or underscored release name is season 1 episode 3: a
    title before it, no space in the name, not a year, no year after it (then it is a
    film: "Cell.211.2009"), and nothing or release words after it. ``lone``: no show or
    season folder above the file; then a number that ends the name is a film's
    ("Fahrenheit.451", as Jellyfin and Plex read a lone file), not "Show.103", and so is
    one past episode 30 ("Fahrenheit.451.1080p.BluRay")."""
    number = m.group(1) + m.group(2)
    if " " in stem or m.start() < 2 or _is_year(number) or int(m.group(2)) == 0:
        return False
    if re.search(r"(?:^|[._-])[hx]\.$", stem[: m.start()], re.I):  # "DD5.1.H.264": a codec
        return False
    after = stem[m.end():]
    if lone and (not after.strip(" ._-") or int(m.group(2)) > _MAX_SCENE_EPISODE):
        return False
    if _YEAR_ANYWHERE.search(after):
        return False
    return not after or bool(_JUNK.match(after)) or bool(re.match(r"[._][A-Za-z]", after)) or after[0] == "-"


#: A lone "Title.NNN" with more episodes to its season than this is a film's number
#: ("Fahrenheit.451.1080p.BluRay", "Room.237.720p"); no lone scene episode of Sonarr's
#: tables passes 30 (longer seasons are written S05E607 or 1x115).
_MAX_SCENE_EPISODE = 30
_YEAR_ANYWHERE = re.compile(r"(?:^|[._ (\[-])(?:19|20)\d\d(?=$|[._ )\]-])")


def _is_year(text: str) -> bool:
    return len(text) == 4 and 1900 <= int(text) <= 2099


_JUNK = re.compile(
    r"(?:^|[ ._\-\[(])(?:\d{3,4}[pi]|4k|8k|uhd|hdr\d*|dv|sdr|web|web-?dl|webrip|web-?rip|hdtv|pdtv|sdtv"
    r"|dsr|bluray|blu-ray|bdrip|brrip|dvdrip|dvd|hdrip|remux|ntsc|pal|[xh]\.?26[45]|hevc|avc|xvid"
    r"|divx|av1|aac\d?|ac3|eac3|dts(?:-?hd)?|dd[p+]?\d?|truehd|atmos|flac|opus|mp3|\d\.\d|nf|amzn"
    r"|hulu|dsnp|hmax|atvp|proper|repack|internal|german|french|multi|dual|vostfr|subbed|dubbed"
    r"|ita|eng|spa|lat|complete|10bit|8bit|hi10p?)(?=$|[ ._\-\])\[(])",
    re.I,
)


def strip_release_words(text: str) -> str:
    """``text`` cut at the first release word (``720p``, ``WEB-DL``, ``x264``, a bracket
    group), separators made spaces: the episode title left after the marker."""
    text = re.sub(r"\[[^\]]*\]|\{[^}]*\}|\([^)]*\.(?:com|org|net|info|to|tv)\)", " ", text)
    if m := _JUNK.search(text):
        text = text[: m.start()]
    text = re.sub(r"-[A-Za-z0-9]+$", "", text) if re.search(r"[._]", text) else text
    text = text.replace("_", " ")
    if " " not in text.strip(" .-"):
        text = text.replace(".", " ")
    elif re.search(r"\w\.\w", text) and text.count(".") > text.count(" "):
        text = text.replace(".", " ")
    return re.sub(r"\s+", " ", text).strip(" -–.,()")
