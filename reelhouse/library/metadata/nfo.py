"""Kodi NFO sidecars → :class:`NfoInfo`. Pure: bytes in, data out, no I/O.

Formats (https://kodi.wiki/view/NFO_files): ``<movie>``, ``<tvshow>`` and
``<episodedetails>`` documents with ``title``, ``originaltitle``, ``year`` (or
``premiered``/``aired``), ``plot``/``outline``, repeated ``genre``, ``rating`` (or
``ratings/rating/value``), ``uniqueid type="tmdb|imdb"`` (or the older ``tmdbid``,
``imdbid``, ``id``), and ``season``/``episode`` for episodes. Kodi also accepts an NFO
that holds only a URL (``https://www.themoviedb.org/movie/10378``,
``https://www.imdb.com/title/tt1254207/``), or XML followed by such a URL; a file with
several ``<episodedetails>`` (a multi-episode file) is read for its first one.

Parsed with defusedxml: entity expansion and external entities are refused. A file
that is neither XML nor a URL NFO gives ``None`` and a warning in the log, never an
exception.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from reelhouse.db.limits import storable_int

__all__ = ["MAX_NFO_BYTES", "NfoInfo", "parse_nfo"]

log = logging.getLogger(__name__)

#: NFO files are a few KiB; anything larger is read only up to this many bytes.
MAX_NFO_BYTES = 1024 * 1024

_KINDS = {"movie": "movie", "tvshow": "tvshow", "episodedetails": "episode"}
_IMDB = re.compile(r"\b(tt\d{7,9})\b")
_TMDB_URL = re.compile(r"themoviedb\.org/(movie|tv)/(\d+)")
_YEAR = re.compile(r"^\s*(\d{4})")
_DECL = re.compile(rb"^\s*<\?xml[^>]*\?>", re.S)


@dataclass(frozen=True)
class NfoInfo:
    """What an NFO says. ``kind``: "movie" | "tvshow" | "episode" | None (a URL-only NFO).
    ``rating`` is on TMDB's 0–10 scale; absent fields are None (genres: empty)."""

    kind: str | None = None
    title: str | None = None
    original_title: str | None = None
    year: int | None = None
    overview: str | None = None
    genres: list[str] = field(default_factory=list)
    rating: float | None = None
    tmdb_id: int | None = None
    imdb_id: str | None = None
    season: int | None = None
    episode: int | None = None


def _text(root: Element, *tags: str) -> str | None:
    for tag in tags:
        node = root.find(tag)
        if node is not None and node.text and node.text.strip():
            return node.text.strip()
    return None


def _int(value: str | None, what: str, low: int = 0) -> int | None:
    """A whole number ``low`` .. 2**31-1 (what an ``Integer`` column holds), else None."""
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return storable_int(number, f"NFO {what}", low)


def _rating(root: Element) -> float | None:
    candidates: list[tuple[int, str]] = []
    for node in root.findall("ratings/rating"):
        value = node.findtext("value")
        if value:
            preferred = node.get("default") == "true" or node.get("name") == "themoviedb"
            scale = _float(node.get("max")) or 10.0
            number = _float(value)
            if number is not None and scale > 0:
                candidates.append((0 if preferred else 1, f"{number * 10.0 / scale}"))
    simple = _text(root, "rating")
    if simple:
        candidates.append((2, simple))
    for _, value in sorted(candidates):
        number = _float(value)
        if number is not None and 0 <= number <= 10:
            return round(number, 2)
    return None


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip().replace(",", "."))
    except ValueError:
        return None
    return number if number == number else None  # NaN is no rating


def _ids(root: Element) -> tuple[int | None, str | None]:
    tmdb: int | None = None
    imdb: str | None = None
    for node in root.findall("uniqueid"):
        kind = (node.get("type") or "").lower()
        value = (node.text or "").strip()
        if kind == "tmdb" and tmdb is None:
            tmdb = _int(value, "tmdb uniqueid", 1)
        elif kind == "imdb" and imdb is None and _IMDB.fullmatch(value):
            imdb = value
    tmdb = tmdb or _int(_text(root, "tmdbid"), "tmdbid", 1)
    for candidate in (_text(root, "imdbid"), _text(root, "imdb_id"), _text(root, "id")):
        if imdb is None and candidate and _IMDB.fullmatch(candidate):
            imdb = candidate
    return tmdb, imdb


def _from_element(root: Element) -> NfoInfo:
    kind = _KINDS[root.tag]
    tmdb, imdb = _ids(root)
    year = _int(_text(root, "year"), "year")
    if year is None:
        dated = _text(root, "premiered", "aired", "releasedate")
        match = _YEAR.match(dated or "")
        year = int(match.group(1)) if match else None
    genres: list[str] = []
    for node in root.findall("genre"):
        for name in (node.text or "").split(" / "):  # old Kodi wrote "Drama / Comedy"
            if name.strip() and name.strip() not in genres:
                genres.append(name.strip())
    return NfoInfo(
        kind=kind,
        title=_text(root, "title"),
        original_title=_text(root, "originaltitle"),
        year=year if year and 1870 <= year <= 2200 else None,
        overview=_text(root, "plot", "outline"),
        genres=genres,
        rating=_rating(root),
        tmdb_id=tmdb,
        imdb_id=imdb,
        season=_int(_text(root, "season"), "season") if kind == "episode" else None,
        episode=_int(_text(root, "episode"), "episode") if kind == "episode" else None,
    )


def _from_urls(text: str) -> NfoInfo | None:
    tmdb = _TMDB_URL.search(text)
    imdb = _IMDB.search(text)
    if not tmdb and not imdb:
        return None
    tmdb_id = storable_int(int(tmdb.group(2)), "NFO TMDB URL id", 1) if tmdb else None
    return NfoInfo(tmdb_id=tmdb_id, imdb_id=imdb.group(1) if imdb else None)


def _parse_xml(data: bytes) -> Element | None:
    """The first movie/tvshow/episodedetails element, or None. Raises ParseError or
    DefusedXmlException for malformed or dangerous XML."""
    try:
        root: Any = fromstring(data)
    except ParseError:
        # several root elements (multi-episode NFO) or XML followed by a URL: wrap them
        body = _DECL.sub(b"", data, count=1)
        root = fromstring(b"<nfo>" + body + b"</nfo>")
    if root.tag in _KINDS:
        return root  # type: ignore[no-any-return]
    for child in root:
        if child.tag in _KINDS:
            return child  # type: ignore[no-any-return]
    return None


def parse_nfo(data: bytes, name: str = "<nfo>") -> NfoInfo | None:
    """Parse an NFO file's bytes (at most :data:`MAX_NFO_BYTES` are looked at).

    Returns None, with a warning naming ``name``, for malformed XML, XML with entities
    (refused by defusedxml), or a document that is none of the three Kodi kinds and
    holds no TMDB/IMDb URL.
    """
    data = data[:MAX_NFO_BYTES]
    text = data.decode("utf-8", errors="replace")
    if "<" not in text:
        info = _from_urls(text)
        if info is None:
            log.warning("ignoring NFO %s: neither XML nor a TMDB/IMDb URL", name)
        return info
    try:
        root = _parse_xml(data)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        info = _from_urls(text)
        log.warning("NFO %s: malformed XML (%s); %s", name, exc,
                    "using only the TMDB/IMDb ids in it" if info else "ignored")
        return info
    if root is None:
        info = _from_urls(text)
        if info is None:
            log.warning("ignoring NFO %s: not a Kodi movie, tvshow or episodedetails NFO", name)
        return info
    info = _from_element(root)
    if info.tmdb_id is None and info.imdb_id is None:
        urls = _from_urls(text)  # XML followed by a URL
        if urls is not None:
            info = NfoInfo(**{**info.__dict__, "tmdb_id": urls.tmdb_id, "imdb_id": urls.imdb_id})
    return info
