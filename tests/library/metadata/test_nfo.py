"""Kodi NFO parsing: a table of real-world shapes (Kodi, Jellyfin, tinyMediaManager,
Radarr/Sonarr exports, URL-only files), malformed and hostile XML."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelhouse.library.metadata.nfo import MAX_NFO_BYTES, NfoInfo, parse_nfo

MOVIE_KODI = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>
<movie>
    <title>Big Buck Bunny</title>
    <originaltitle>Big Buck Bunny</originaltitle>
    <ratings>
        <rating name="imdb" max="10"><value>6.4</value><votes>44000</votes></rating>
        <rating name="themoviedb" max="10" default="true"><value>6.3</value><votes>1243</votes></rating>
    </ratings>
    <userrating>0</userrating>
    <plot>A giant rabbit takes revenge on three rodents.</plot>
    <uniqueid type="imdb">tt1254207</uniqueid>
    <uniqueid type="tmdb" default="true">10378</uniqueid>
    <genre>Animation</genre>
    <genre>Comedy</genre>
    <premiered>2008-04-10</premiered>
</movie>
"""

MOVIE_OLD = b"""<movie>
  <title>Sintel</title><year>2010</year><rating>7,2</rating>
  <outline>A girl searches for her dragon.</outline>
  <id>tt1727587</id><tmdbid>45745</tmdbid>
  <genre>Animation / Fantasy</genre>
</movie>"""

TVSHOW = """<?xml version="1.0" encoding="utf-8"?>
<tvshow>
  <title>Dark</title>
  <originaltitle>Dark</originaltitle>
  <plot>Ein verschwundenes Kind stürzt vier Familien in Chaos.</plot>
  <uniqueid type="tvdb" default="true">334824</uniqueid>
  <uniqueid type="tmdb">70523</uniqueid>
  <uniqueid type="imdb">tt5753856</uniqueid>
  <genre>Drama</genre><genre>Mystery</genre>
  <premiered>2017-12-01</premiered>
  <rating>8.4</rating>
</tvshow>""".encode()

EPISODE = b"""<episodedetails>
  <title>Diversity Day</title><season>1</season><episode>2</episode>
  <plot>Michael's off-color remark.</plot><aired>2005-03-29</aired>
  <uniqueid type="tmdb">210078</uniqueid>
</episodedetails>"""

MULTI_EPISODE = EPISODE + b"""
<episodedetails><title>Health Care</title><season>1</season><episode>3</episode></episodedetails>"""

XML_THEN_URL = b"""<movie><title>The Thing</title><year>1982</year></movie>
https://www.themoviedb.org/movie/1091-the-thing"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<movie><title>&lol2;</title></movie>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE movie [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<movie><title>&xxe;</title></movie>"""

CASES: list[tuple[str, bytes, NfoInfo | None]] = [
    ("kodi movie", MOVIE_KODI, NfoInfo(
        kind="movie", title="Big Buck Bunny", original_title="Big Buck Bunny", year=2008,
        overview="A giant rabbit takes revenge on three rodents.", genres=["Animation", "Comedy"],
        rating=6.3, tmdb_id=10378, imdb_id="tt1254207")),
    ("old-style movie", MOVIE_OLD, NfoInfo(
        kind="movie", title="Sintel", year=2010, overview="A girl searches for her dragon.",
        genres=["Animation", "Fantasy"], rating=7.2, tmdb_id=45745, imdb_id="tt1727587")),
    ("tvshow utf-8", TVSHOW, NfoInfo(
        kind="tvshow", title="Dark", original_title="Dark",
        overview="Ein verschwundenes Kind stürzt vier Familien in Chaos.", genres=["Drama", "Mystery"],
        rating=8.4, tmdb_id=70523, imdb_id="tt5753856", year=2017)),
    ("episode", EPISODE, NfoInfo(
        kind="episode", title="Diversity Day", season=1, episode=2, overview="Michael's off-color remark.",
        year=2005, tmdb_id=210078)),
    ("multi-episode: the first", MULTI_EPISODE, NfoInfo(
        kind="episode", title="Diversity Day", season=1, episode=2, overview="Michael's off-color remark.",
        year=2005, tmdb_id=210078)),
    ("tmdb url only", b"https://www.themoviedb.org/movie/10378-big-buck-bunny\n", NfoInfo(tmdb_id=10378)),
    ("imdb url only", b"http://www.imdb.com/title/tt1254207/\r\n", NfoInfo(imdb_id="tt1254207")),
    ("xml then url", XML_THEN_URL, NfoInfo(kind="movie", title="The Thing", year=1982, tmdb_id=1091)),
    ("utf-8 bom", b'\xef\xbb\xbf<?xml version="1.0"?><movie><title>Up</title></movie>',
     NfoInfo(kind="movie", title="Up")),
    ("rating out of 100", b'<movie><ratings><rating name="x" max="100"><value>85</value></rating></ratings>'
     b"</movie>", NfoInfo(kind="movie", rating=8.5)),
    ("bad numbers ignored", b"<movie><title>X</title><year>soon</year><rating>n/a</rating>"
     b"<uniqueid type='tmdb'>abc</uniqueid><uniqueid type='imdb'>nope</uniqueid></movie>",
     NfoInfo(kind="movie", title="X")),
    ("empty elements", b"<movie><title>  </title><plot/></movie>", NfoInfo(kind="movie")),
]

BAD: list[tuple[str, bytes]] = [
    ("unclosed tag", b"<movie><title>Broken</movie>"),
    ("not xml at all", b"This release brought to you by SCENE GROUP\n\xff\xfe garbage"),
    ("empty", b""),
    ("other root", b"<musicvideo><title>Song</title></musicvideo>"),
    ("billion laughs", BILLION_LAUGHS),
    ("external entity", XXE),
]


@pytest.mark.parametrize(("name", "data", "expected"), CASES, ids=[c[0] for c in CASES])
def test_parse_table(name: str, data: bytes, expected: NfoInfo) -> None:
    assert parse_nfo(data, name) == expected


@pytest.mark.parametrize(("name", "data"), BAD, ids=[c[0] for c in BAD])
def test_malformed_is_ignored_with_a_log(name: str, data: bytes, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="reelhouse.library.metadata.nfo"):
        assert parse_nfo(data, f"Films/{name}.nfo") is None
    assert f"Films/{name}.nfo" in caplog.text


def test_malformed_xml_keeps_ids_it_names(caplog: pytest.LogCaptureFixture) -> None:
    data = b"<movie><title>Broken<uniqueid type='imdb'>tt0084787</uniqueid></movie>"
    with caplog.at_level(logging.WARNING):
        assert parse_nfo(data, "x.nfo") == NfoInfo(imdb_id="tt0084787")
    assert "malformed" in caplog.text


def test_huge_file_is_cut() -> None:
    data = b"<movie><title>Big</title><plot>" + b"x" * (MAX_NFO_BYTES * 2) + b"</plot></movie>"
    assert parse_nfo(data, "big.nfo") is None  # cut at the limit: malformed, ignored


@given(st.binary(max_size=400))
def test_never_raises_on_bytes(data: bytes) -> None:
    result = parse_nfo(data)
    assert result is None or isinstance(result, NfoInfo)


@given(st.text(max_size=200))
def test_never_raises_inside_xml(text: str) -> None:
    body = f"<movie><title>{text}</title><year>{text}</year><rating>{text}</rating></movie>"
    result = parse_nfo(body.encode("utf-8", errors="surrogatepass"))
    assert result is None or isinstance(result, NfoInfo)
