"""Hostile QA of the HTML pages (no browser): names a user or a file controls are
escaped on every page, odd query values give a sane page or a clear 4xx (never a 500),
and a user without a source's grant never sees it through the grid's filters or
counts. A scanned MemorySource with hostile file names, a restricted user."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, MediaStream, Movie, Show, UserSource
from reelhouse.library.scanner import scan_source
from reelhouse.server import create_app
from reelhouse.sources.memory import MemorySource
from reelhouse.sources.registry import SourceSpec

EVIL = '"><script>alert(1)</script>'
FILES = [
    f"{EVIL} (2020)/{EVIL} (2020).mkv",
    "</script><img src=x onerror=alert(2)> (2019)/x.mkv",
    "javascript:alert(3) (2018)/javascript:alert(3) (2018).mkv",
    "Evil\u202egpj.exe (2017)/Evil\u202egpj.exe (2017).mkv",
    "L" * 240 + " (2016)/" + "L" * 200 + ".mkv",
    "Show'\" <b>bold</b> (2005)/Season 1/Show'\" <b>bold</b> S01E01 {{7*7}}.mkv",
]
HIDDEN = ["Secret Film (2001)/Secret Film (2001).mkv", "Shared Film (2003)/Shared Film (2003) - 2160p.mkv",
          "Shared Film (2003)/Shared Film (2003)-trailer.mkv",
          "Doctor Who (2005)/Featurettes/Secret Featurette.mkv"]
SHARED = "Shared Film (2003)/Shared Film (2003) - 1080p.mkv"  # on both sources
EPISODE = "Doctor Who (2005)/Season 1/Doctor Who S01E01.mkv"  # its featurette is hidden
#: What may never appear unescaped in a page.
RAW = re.compile(r"<script>alert|<img src=x|<b>bold</b>|=\"javascript:|href=\"javascript:")
PASSWORD = "a long password"


@dataclass
class Site:
    core: Core
    ann: TestClient  # restricted to the first source
    movies: list[int]
    shows: list[int]
    files: dict[str, int]
    hidden_source: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("hostile")
    (tmp / "hidden").mkdir()
    core = Core(load_settings(data_dir=tmp / "data"))
    shown = core.sources.create(SourceSpec(name=f"disk {EVIL}", kind="local", path=str(tmp))).id
    hidden = core.sources.create(SourceSpec(name="HiddenDisk", kind="local", path=str(tmp / "hidden"))).id
    scan_source(core.sessions, shown, MemorySource({p: p.encode() for p in [*FILES, SHARED, EPISODE]}))
    scan_source(core.sessions, hidden, MemorySource({p: p.encode() for p in HIDDEN}))
    core.users.add("ann", PASSWORD, restrict_sources=True, sources=[shown])
    core.users.add("bob", PASSWORD, restrict_sources=True)  # no source at all
    with core.sessions() as s:  # what an NFO or TMDB would bring
        for m in s.scalars(select(Movie)):
            m.overview, m.genres = f"{EVIL} plot", [EVIL, "Drama", "Science Fiction"]
            if m.title == "Secret Film":
                m.genres = ["Secret"]
        for hidden_file in s.scalars(select(MediaFile).where(MediaFile.source_id == hidden)):
            hidden_file.height = 2160
        for sh in s.scalars(select(Show)):
            sh.overview, sh.genres = EVIL, ["Drama"]
        first = s.scalars(select(MediaFile).where(MediaFile.source_id == shown)).first()
        assert first is not None
        s.add(MediaStream(media_file_id=first.id, index=2, type="subtitle", codec="subrip",
                          language=EVIL, title=EVIL))
        s.commit()
        files = {p: i for i, p in s.execute(select(MediaFile.id, MediaFile.path))}
        movies = list(s.scalars(select(Movie.id)))
        shows = list(s.scalars(select(Show.id)))
    with TestClient(create_app(core, close_core=True)) as ann:
        r = ann.post("/login", data={"username": "ann", "password": PASSWORD}, follow_redirects=False)
        assert r.status_code == 303
        yield Site(core, ann, movies, shows, files, hidden)


def _titles(html: str) -> list[str]:
    return re.findall(r'<h2 class="tile-title">([^<]*)</h2>', html)


def test_hostile_names_are_escaped_on_every_page(site: Site) -> None:
    visible = [i for p, i in site.files.items() if p not in HIDDEN]
    urls = ["/", "/?q=" + EVIL, "/?genre=" + EVIL, "/settings/sources", "/transfers", "/party",
            "/account", "/party?code=" + EVIL, "/settings/audit?action=" + EVIL,
            *[f"/movies/{m}" for m in site.movies], *[f"/shows/{s}" for s in site.shows],
            *[f"/play/{i}" for i in visible]]
    seen = 0
    for url in urls:
        r = site.ann.get(url)
        assert r.status_code < 500, url
        assert not RAW.search(r.text), (url, RAW.search(r.text))
        seen += "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
    assert seen >= 6  # the names are there, as text


def test_odd_query_values_are_never_a_500(site: Site) -> None:
    odd = ["/?page=-1", "/?page=99999999999", "/?per_page=0", "/?year=\u00b9", "/?year=\uff12\uff10\uff10\uff10",
           "/?year=" + "1" * 5000, "/?source=\u00b9", "/?source=\u0663", "/?source=" + "9" * 5000,
           "/?letter=%00", "/?letter=\u00e9", "/?letter=ab", "/?cursor=%ff%fe", "/?cursor=" + "A" * 5000,
           "/?q=%ff%fe", "/?q=%ed%a0%80", "/?q=" + "%ff" * 3000, "/?type=x&type=movie&type=show",
           "/?resolution=4k", "/?unwatched=yes", "/?genre=" + "g" * 5000, "/?sort=evil",
           "/movies/-1", "/movies/99999999999999999", "/play/abc", "/shows/1e3", "/party/%ff",
           "/party/" + "A" * 5000, "/party?code=%ff", "/settings/audit?action=%ff"]
    for url in odd:
        r = site.ann.get(url, follow_redirects=False)
        assert r.status_code < 500, url
        assert r.status_code in (200, 400, 403, 404, 422), (url, r.status_code)


def test_numbers_only_in_ascii_digits(site: Site) -> None:
    """"¹" and "٣" are digits to ``str.isdigit``: they are ignored like any bad value."""
    everything = _titles(site.ann.get("/").text)
    assert everything
    assert _titles(site.ann.get("/?year=\u00b9").text) == everything
    assert _titles(site.ann.get("/?source=\u0663").text) == everything


def test_a_hidden_source_never_shows_through_filters_or_counts(site: Site) -> None:
    """ann may see the first source only: the second's films, its name, its id and
    its 2160p file stay out of every filter, count and option list."""
    everything = site.ann.get("/").text
    assert "Secret Film" not in everything and "HiddenDisk" not in everything
    assert f'value="{site.hidden_source}"' not in everything
    total = int(re.search(r'<p class="count muted">(\d+) title', everything)[1])  # type: ignore[index]
    assert total == len(_titles(everything))
    for query in (f"source={site.hidden_source}", "q=Secret", "genre=Secret", "resolution=2160p",
                  "letter=S&q=Film", "year=2001", f"source={site.hidden_source}&type=movie"):
        html = site.ann.get("/?" + query).text
        assert "Secret Film" not in html and "HiddenDisk" not in html, query
        titles = _titles(html)
        assert all(t != "Secret Film" for t in titles), query
        if query.startswith("source=") or query in ("resolution=2160p", "genre=Secret", "year=2001"):
            assert titles == [] and "Nothing matches" in html, query
    shared = next(m for m, t in _movie_titles(site).items() if t == "Shared Film")
    page = site.ann.get(f"/movies/{shared}").text
    assert "1080p" in page and "2160p" not in page and "HiddenDisk" not in page and "trailer" not in page
    player = site.ann.get(f"/play/{site.files[SHARED]}").text
    assert "2160p" not in player and 'aria-label="Versions"' not in player
    api = site.ann.get(f"/api/library/movies/{shared}").json()
    assert [f["id"] for v in api["versions"] for f in v["files"]] == [site.files[SHARED]]
    assert api["extras"] == [] and "2160p" not in str(api)
    with site.core.sessions() as s:  # the featurette is the show's extra (a hidden one)
        who = s.scalar(select(MediaFile.show_id).where(MediaFile.id == site.files[HIDDEN[3]]))
        assert who == s.scalar(select(Show.id).where(Show.title == "Doctor Who"))
    show = site.ann.get(f"/shows/{who}").text
    assert "S01E01" in show and "Secret Featurette" not in show
    assert "Secret Featurette" not in site.ann.get(f"/api/library/shows/{who}").text
    hidden_file = site.files[HIDDEN[1]]
    assert site.ann.get(f"/play/{hidden_file}").status_code == 404
    secret = next(m for m, t in _movie_titles(site).items() if t == "Secret Film")
    assert site.ann.get(f"/movies/{secret}").status_code == 404
    assert "HiddenDisk" not in site.ann.get("/settings/sources").text


def test_no_grant_at_all_looks_like_an_empty_library(site: Site) -> None:
    """bob has no source: whatever he filters, the server's library is not hinted at."""
    bob = TestClient(site.ann.app)  # no lifespan: the fixture's client owns the Core
    bob.post("/login", data={"username": "bob", "password": PASSWORD})
    for query in ("", "?genre=Drama", "?q=Film", "?letter=S"):
        html = bob.get("/" + query).text
        assert "Your library is empty" in html and not _titles(html), query


def _movie_titles(site: Site) -> dict[int, str]:
    with site.core.sessions() as s:
        return {i: t for i, t in s.execute(select(Movie.id, Movie.title))}


def test_parties_page_forgets_a_party_once_its_source_is_taken_away(site: Site) -> None:
    """cat joined a party on the shared film; an admin then takes the source from
    her: /party no longer names that film (nor links to the party)."""
    cat = site.core.users.add("cat", PASSWORD, restrict_sources=True, sources=[1])
    c = TestClient(site.ann.app)  # no lifespan: the fixture's client owns the Core
    c.post("/login", data={"username": "cat", "password": PASSWORD})
    code = c.post("/api/parties", json={"media_file_id": site.files[SHARED]},
                  headers={"origin": "http://testserver"}).json()["code"]
    assert "Shared Film" in c.get("/party").text
    with site.core.sessions() as s:
        s.execute(delete(UserSource).where(UserSource.user_id == cat.id))
        s.commit()
    mine = c.get("/party").text
    assert "Shared Film" not in mine and f"/party/{code}" not in mine
    assert c.get(f"/party/{code}").status_code == 404


def test_too_many_party_codes_is_a_429_page_that_says_when(tmp_path: Path) -> None:
    core = Core(load_settings(data_dir=tmp_path / "data"))
    core.users.add("dan", PASSWORD)
    # the throttle's clock stands still: the 1 s wait after the 10th miss could pass
    # between two requests on a loaded machine, and the 12th would be tried (a 404)
    core.party_code_throttle._clock = lambda: 1000.0
    with TestClient(create_app(core, close_core=True)) as c:
        c.post("/login", data={"username": "dan", "password": PASSWORD})
        statuses = [c.get("/party/ZZZZZ" + ch).status_code for ch in "ABCDEFGHJKLM"]
        assert statuses[:10] == [404] * 10 and statuses[-1] == 429
        r = c.get("/party/ZZZZZN")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert "Too many tries" in r.text and "text/html" in r.headers["content-type"]


def test_ids_no_row_can_have_are_the_not_found_page(site: Site) -> None:
    """Past the 32-bit range of the database's ids: the HTML 404 page, not a JSON 422."""
    for path in ("/movies/", "/shows/", "/play/"):
        for ident in ("2147483648", "99999999999999999999999"):
            r = site.ann.get(path + ident)
            assert r.status_code == 404 and "text/html" in r.headers["content-type"], path + ident
            assert "Not found" in r.text
