"""Odd file and folder names and the titles a user expects of them: a dash or plus
glued to a title word is the title's ("-rf Film", "Film+"), a dash standing alone
between spaces is a separator ("- Film -"); brackets, braces, emoji, right-to-left
text, trailing dots or spaces and backslashes. Pure: no I/O."""

from __future__ import annotations

from library.naming_cases import Case, assert_parsed, by_path

from reelhouse.library.naming import parse_media_path

M, E, X = "movie", "episode", "extra"

TABLE: list[Case] = [
    # a dash glued to the first word is part of the title, by every route that names a film
    ("-rf Film (2019).mkv", dict(kind=M, title="-rf Film", year=2019)),
    ("Films/-rf Film (2019)/-rf Film (2019).mkv", dict(kind=M, title="-rf Film", year=2019)),
    ("-rf Film (2019)/film.mkv", dict(kind=M, title="-rf Film", year=2019)),
    ("-rf.Film.2019.1080p.BluRay.x264-GRP.mkv", dict(kind=M, title="-rf Film", year=2019)),
    ("-rf Film.mkv", dict(kind=M, title="-rf Film")),
    ("-rf Film 1080p.mkv", dict(kind=M, title="-rf Film")),  # guessit's route
    ("--help (2019).mkv", dict(kind=M, title="--help", year=2019)),
    ("-1 (2019).mkv", dict(kind=M, title="-1", year=2019)),
    ("-rf Film (2019) - 1080p.mkv", dict(kind=M, title="-rf Film", year=2019, version="1080p")),
    ("-rf Show/Season 1/-rf Show S01E01.mkv", dict(kind=E, title="-rf Show", season=1, episode=1)),
    ("-rf Show/Season 1/S01E02.mkv", dict(kind=E, title="-rf Show", season=1, episode=2)),
    ("-rf.Show.S01E03.720p.mkv", dict(kind=E, title="-rf Show", season=1, episode=3)),
    ("-rf Film (2019)/-rf Film (2019)-trailer.mkv", dict(kind=X, title="-rf Film", year=2019, extra="trailer")),
    # a dash between spaces is a separator, at either end
    ("- Film - (2019)/- Film - (2019).mkv", dict(kind=M, title="Film", year=2019)),
    ("- Film -/- Film -.mkv", dict(kind=M, title="Film")),
    ("- Film - (2019).mkv", dict(kind=M, title="Film", year=2019)),
    ("- Show -/Season 1/S01E01.mkv", dict(kind=E, title="Show", season=1, episode=1)),
    ("Film - (2019).mkv", dict(kind=M, title="Film", year=2019)),
    ("Film-.mkv", dict(kind=M, title="Film")),
    # dashes on both sides are a decoration, not the title's
    ("-Film-.mkv", dict(kind=M, title="Film")),
    ("--Film--.mkv", dict(kind=M, title="Film")),
    ("-Film- (2019).mkv", dict(kind=M, title="Film", year=2019)),
    ("-Film-/-Film-.mkv", dict(kind=M, title="Film")),
    # a plus glued to the last word is the title's ("Film+", "C++")
    ("Film+ (2019).mkv", dict(kind=M, title="Film+", year=2019)),
    ("Film+.2019.1080p.mkv", dict(kind=M, title="Film+", year=2019)),
    ("C++ (2020)/C++.2020.1080p.WEB-DL.mkv", dict(kind=M, title="C++", year=2020)),
    ("+1 (2013).mkv", dict(kind=M, title="+1", year=2013)),
    # brackets and braces that are the title stay; tags go
    ("[REC] (2007).mkv", dict(kind=M, title="[REC]", year=2007)),
    ("[REC] 2 (2009)/[REC] 2 (2009).mkv", dict(kind=M, title="[REC] 2", year=2009)),
    ("Film (2019) [1080p].mkv", dict(kind=M, title="Film", year=2019)),
    # a release group before a titled name is no title ("[REC]" alone, or with a number, is)
    ("[Judas] Your Name (2016) [1080p].mkv", dict(kind=M, title="Your Name", year=2016)),
    ("[YTS.MX] Parasite (2019).mkv", dict(kind=M, title="Parasite", year=2019)),
    ("[SubsPlease] Suzume (2022) (1080p) [ABCD1234].mkv", dict(kind=M, title="Suzume", year=2022)),
    ("[Judas][Dual] Kimi no Na wa (2016).mkv", dict(kind=M, title="Kimi no Na wa", year=2016)),
    ("Anime/[Judas] Kimi no Na wa (2016)/[Judas] Kimi no Na wa (2016) [1080p].mkv",
     dict(kind=M, title="Kimi no Na wa", year=2016)),
    ("Film [2019]/Film [2019].mkv", dict(kind=M, title="Film", year=2019)),
    # fullwidth brackets, as CJK names are written: the same year and tags
    ("千と千尋の神隠し（2001）.mkv", dict(kind=M, title="千と千尋の神隠し", year=2001)),
    ("映画/千と千尋の神隠し（2001）/千と千尋の神隠し（2001）.mkv", dict(kind=M, title="千と千尋の神隠し", year=2001)),
    ("【字幕】千と千尋の神隠し (2001).mkv", dict(kind=M, title="千と千尋の神隠し", year=2001)),
    ("Film（2019）［1080p］.mkv", dict(kind=M, title="Film", year=2019)),
    # emoji and right-to-left titles; invisible direction marks are no part of a title
    ("👻 (2020).mkv", dict(kind=M, title="👻", year=2020)),
    ("Films/🎬 Film (2020)/🎬 Film (2020).mkv", dict(kind=M, title="🎬 Film", year=2020)),
    ("שלום (2019)/שלום (2019).mkv", dict(kind=M, title="שלום", year=2019)),
    ("فيلم (2020).mkv", dict(kind=M, title="فيلم", year=2020)),
    ("\u200fשלום\u200f (2019).mkv", dict(kind=M, title="שלום", year=2019)),
    ("Film\u200e (2019).mkv", dict(kind=M, title="Film", year=2019)),
    # trailing dots and spaces (Windows cannot write them, FTP servers can) are no title
    ("Film (2020)..mkv", dict(kind=M, title="Film", year=2020)),
    ("Film (2020) .mkv", dict(kind=M, title="Film", year=2020)),
    ("Film. (2020)/Film. (2020).mkv", dict(kind=M, title="Film", year=2020)),
    ("Film ./Film .mkv", dict(kind=M, title="Film")),
    # Windows-reserved names are titles like any other on a server
    ("CON (2019).mkv", dict(kind=M, title="CON", year=2019)),
    ("Films/NUL.mkv", dict(kind=M, title="NUL")),
    # a number in brackets before a release name is the title's, a numbering is not
    ("(500).Days.of.Summer.2009.1080p.BluRay.x264-GRP.mkv", dict(kind=M, title="(500) Days of Summer", year=2009)),
    ("(500) Days of Summer 2009 1080p BluRay x264.mkv", dict(kind=M, title="(500) Days of Summer", year=2009)),
    ("(01) Film 2009 1080p BluRay x264.mkv", dict(kind=M, title="Film", year=2009)),
    # a backslash is a name character on Unix (FTP servers), not a folder separator:
    # "Foo\\Bar (2001).mkv" was the film "Bar"
    ("Foo\\Bar (2001).mkv", dict(kind=M, title="Foo\\Bar", year=2001)),
    ("Films/Foo\\Bar (2001)/Foo\\Bar (2001).mkv", dict(kind=M, title="Foo\\Bar", year=2001)),
    ("Foo\\Bar.2001.1080p.BluRay.x264-GRP.mkv", dict(kind=M, title="Foo\\Bar", year=2001)),
    ("AC\\DC Live 2012 something x264 [group].mkv", dict(kind=M, title="AC\\DC Live", year=2012)),  # guessit's route
    ("Foo\\Bar.mkv", dict(kind=M, title="Foo\\Bar")),
    ("Shows/Foo\\Bar/Season 1/S01E02.mkv", dict(kind=E, title="Foo\\Bar", season=1, episode=2)),
    ("Foo\\Bar.S01E03.720p.mkv", dict(kind=E, title="Foo\\Bar", season=1, episode=3)),
    ("Foo\\Bar (2001)/Foo\\Bar (2001)-trailer.mkv", dict(kind=X, title="Foo\\Bar", year=2001, extra="trailer")),
    # scene releases: the release folder names the film; its files are lower case, the
    # group first and the title shortened ("sparks-thematrix-1080p" was the film "sparks-thematrix")
    ("The.Matrix.1999.1080p.BluRay.x264-SPARKS/sparks-thematrix-1080p.mkv",
     dict(kind=M, title="The Matrix", year=1999)),
    ("Movies/Inception.2010.720p.BluRay.x264-REWARD/reward-inception-720p.mkv",
     dict(kind=M, title="Inception", year=2010)),
    ("The.Matrix.1999.1080p.BluRay.x264-GRP/the.matrix.1999.1080p.bluray.x264-grp.mkv",
     dict(kind=M, title="The Matrix", year=1999)),
    ("Some.Movie.2012.DVDRip.XviD-GRP/CD2/grp-somemovie-cd2.avi", dict(kind=M, title="Some Movie", year=2012, part=2)),
    ("Show.S01E01.720p.HDTV.x264-KILLERS/killers-show-s01e01.mkv", dict(kind=E, title="Show", season=1, episode=1)),
    ("Show.S01.720p.HDTV.x264-KILLERS/killers-show-s01e02.mkv", dict(kind=E, title="Show", season=1, episode=2)),
    ("The.Show.S01.720p.HDTV.x264-GRP/the.show.s01e03.720p.mkv", dict(kind=E, title="The Show", season=1, episode=3)),
    # ... but a film of another name in a release folder keeps its own
    ("Pixar.Shorts.2018.1080p.BluRay-GRP/For.the.Birds.mkv", dict(kind=M, title="For the Birds")),
    ("Movies/Heat (1995)/heat.mkv", dict(kind=M, title="Heat", year=1995)),
    ("grp-film.mkv", dict(kind=M, title="grp-film")),
    ("The Spider-Man/man-of-steel.mkv", dict(kind=M, title="man-of-steel")),
    # anime name a later season in the title
    ("Anime/[Erai-raws] Oshi no Ko 2nd Season - 03 [1080p].mkv", dict(kind=E, title="Oshi no Ko", season=2, episode=3)),
    ("[Group] Show Season 2 - 03 [1080p].mkv", dict(kind=E, title="Show", season=2, episode=3)),
    ("[Group] Show 3rd Season - 12 [1080p].mkv", dict(kind=E, title="Show", season=3, episode=12)),
    # UTF-8 names read as latin-1 (an FTP server without UTF8 in FEAT: vsftpd's default)
    # give their UTF-8 titles; true latin-1 names keep theirs
    ("Films/AmÃ©lie (2001)/AmÃ©lie (2001).mkv", dict(kind=M, title="Amélie", year=2001)),
    ("PokeÌ\x81mon (1998).mkv", dict(kind=M, title="Pokémon", year=1998)),
    ("Shows/CrÃ¨me/Season 1/S01E02.mkv", dict(kind=E, title="Crème", season=1, episode=2)),
    ("CafÃ©/Season 1/Ã‰pisode.S01E03.mkv", dict(kind=E, title="Café", season=1, episode=3)),  # each name alone
    ("Café Society (2016).mkv", dict(kind=M, title="Café Society", year=2016)),
    ("Ã la carte (2001).mkv", dict(kind=M, title="Ã la carte", year=2001)),  # "Ã " is not UTF-8
]


@by_path(TABLE)
def test_odd_names(path: str, expected: dict[str, object]) -> None:
    assert_parsed(path, expected)


def test_the_table_has_no_duplicates() -> None:
    assert len({p for p, _ in TABLE}) == len(TABLE)


def test_whitespace_only_title_does_not_raise() -> None:
    """Found by test_parse_never_fails: guessit's title of "\\r.mkv" is whitespace, and
    the glued-dash rule took its first word."""
    for name in ("\r.mkv", " .mkv", "\t\n.mp4"):
        assert parse_media_path(name).kind == "other"
