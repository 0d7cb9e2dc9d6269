"""Hostile QA of the HTML pages (no browser): names a user or a file controls are
escaped on every page, odd query values give a sane page or a clear 4xx (never a 500),
and a user without a source's grant never sees it through the grid's filters or
counts. A scanned MemorySource with hostile file names, a restricted user."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, MediaStream, Movie, Show
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
HIDDEN = ["Secret Film (2001)/Secret Film (2001).mkv"]
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
    scan_source(core.sessions, shown, MemorySource({p: p.encode() for p in FILES}))
    scan_source(core.sessions, hidden, MemorySource({p: p.encode() for p in HIDDEN}))
    core.users.add("ann", PASSWORD, restrict_sources=True, sources=[shown])
    with core.sessions() as s:  # what an NFO or TMDB would bring
        for m in s.scalars(select(Movie)):
            m.overview, m.genres = f"{EVIL} plot", [EVIL, "Drama", "Science Fiction"]
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
