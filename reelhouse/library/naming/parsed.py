"""What a path names (:class:`Parsed`), and which names are media files by their
extension. Pure: no I/O."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from reelhouse.db.limits import fit_text

__all__ = ["IMDB_MAX", "MEDIA_EXTENSIONS", "TITLE_MAX", "VERSION_MAX", "Parsed", "split_stem"]

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
