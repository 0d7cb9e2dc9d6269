"""The library page on a big library (issue 14), walked page by page through its own
"Next page" links as a user with a grant to one of two sources: 1,600 films and 300
shows with many equal titles and years (ties between a film and a show), files missing
from their source, hidden-source files and versions. For each filter every visible
title comes exactly once, in title order, the count says how many, and nothing of the
hidden source shows. Expectations are computed here from the rows, not by the app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show, SourceRow, User, UserSource, WatchProgress
from reelhouse.server import create_app

NOW = datetime(2026, 1, 1, tzinfo=UTC)
FILMS, SHOWS = 1600, 300
WORDS = ["The Alpha", "alpha", "Élan", "Zed", "007", "Ångström", "a", "Beta Male", "the", "Ω"]
PASSWORD = "a long password"
SHOWN, HIDDEN = 1, 2


@dataclass
class Title:
    kind: str
    id: int
    title: str
    year: int | None
    genres: list[str]
    files: list[tuple[int, int | None, bool, bool]] = field(default_factory=list)  # source, height, missing, watched


def _films() -> list[Title]:
    out = []
    for i in range(1, FILMS + 1):
        t = Title("movie", i, f"{WORDS[i % len(WORDS)]} {i % 23}", None if i % 11 == 0 else 2000 + i % 5,
                  ["Drama"] if i % 3 == 0 else ["Comedy", "Drama Queen"])
        t.files.append((HIDDEN if i % 9 == 0 else SHOWN, (2160, 1080, 720, 480, None)[i % 5],
                        i % 17 == 0, i % 4 == 0))
        if i % 6 == 0:  # another version on the hidden source
            t.files.append((HIDDEN, 2160, False, False))
        out.append(t)
    return out


def _shows() -> list[Title]:
    out = []
    for i in range(1, SHOWS + 1):  # the films' titles and years: ties between a film and a show
        t = Title("show", i, f"{WORDS[i % len(WORDS)]} {i % 23}", 2000 + i % 5, ["Drama"] if i % 2 else [])
        t.files.append((HIDDEN if i % 7 == 0 else SHOWN, 1080 if i % 2 else 720, i % 13 == 0, i % 5 == 0))
        out.append(t)
    return out


Big = tuple[TestClient, list[Title], dict[tuple[str, int], str]]  # client, titles, sort keys


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Big]:
    tmp = tmp_path_factory.mktemp("big")
    core = Core(load_settings(data_dir=tmp / "data"))
    ann = core.users.add("ann", PASSWORD, restrict_sources=True)
    films, shows = _films(), _shows()
    with core.sessions() as s:
        s.execute(insert(SourceRow), [
            {"id": SHOWN, "name": "disk", "kind": "local", "path": str(tmp), "tls": "none", "verify_tls": True,
             "created_at": NOW},
            {"id": HIDDEN, "name": "HiddenBox", "kind": "ftp", "host": "127.0.0.1", "port": 21, "path": "/",
             "tls": "none", "verify_tls": True, "created_at": NOW}])
        s.execute(insert(Movie), [{"id": t.id, "title": t.title, "year": t.year, "match_key": f"m{t.id}",
                                   "genres": t.genres, "needs_review": False, "locked": False, "created_at": NOW}
                                  for t in films])
        s.execute(insert(Show), [{"id": t.id, "title": t.title, "year": t.year, "match_key": f"s{t.id}",
                                  "genres": t.genres, "needs_review": False, "locked": False, "created_at": NOW}
                                 for t in shows])
        s.execute(insert(Season), [{"id": t.id, "show_id": t.id, "number": 1} for t in shows])
        s.execute(insert(Episode), [{"id": t.id, "season_id": t.id, "number": 1} for t in shows])
        rows, watched = [], []
        for t in films + shows:
            for n, (source, height, missing, seen) in enumerate(t.files):
                fid = len(rows) + 1
                rows.append({"id": fid, "source_id": source, "path": f"{t.kind}/{t.id}/{n}.mkv", "size": 1,
                             "kind": "movie" if t.kind == "movie" else "episode", "height": height,
                             "movie_id": t.id if t.kind == "movie" else None,
                             "episode_id": t.id if t.kind == "show" else None,
                             "show_id": t.id if t.kind == "show" else None,
                             "missing_since": NOW if missing else None, "first_seen": NOW, "last_seen": NOW})
                if seen:
                    watched.append({"user_id": ann.id, "media_file_id": fid, "position": 1.0, "watched": True,
                                    "updated_at": NOW})
        s.execute(insert(MediaFile), rows)
        s.execute(insert(WatchProgress), watched)
        s.commit()
    with core.sessions() as s:
        s.add(UserSource(user_id=ann.id, source_id=SHOWN))  # the sources exist now
        s.commit()
        sorts = {("movie", i): st for i, st in s.execute(select(Movie.id, Movie.sort_title))}
        sorts |= {("show", i): st for i, st in s.execute(select(Show.id, Show.sort_title))}
        assert s.scalar(select(User.restrict_sources).where(User.id == ann.id))
    with TestClient(create_app(core, close_core=True)) as client:
        assert client.post("/login", data={"username": "ann", "password": PASSWORD},
                           follow_redirects=False).status_code == 303
        yield client, films + shows, sorts


RES = {"2160p": (1800, 100_000), "1080p": (900, 1800), "720p": (600, 900), "sd": (1, 600)}


def _expected(titles: list[Title], sorts: dict[tuple[str, int], str], **f: str) -> list[tuple[str, int]]:
    out = []
    for t in titles:
        files = [x for x in t.files if x[0] == SHOWN and not x[2]]
        if "resolution" in f:
            low, high = RES[f["resolution"]]
            files = [x for x in files if x[1] is not None and low <= x[1] < high]
        if f.get("unwatched"):
            files = [x for x in files if not x[3]]
        if not files or f.get("type", t.kind) != t.kind or f.get("source", "local") != "local":
            continue
        if "genre" in f and f["genre"].lower() not in [g.lower() for g in t.genres]:
            continue
        if "year" in f and t.year != int(f["year"]):
            continue
        first = sorts[(t.kind, t.id)][:1]
        if "letter" in f and (first.upper() != f["letter"] if f["letter"] != "#" else "a" <= first <= "z"):
            continue
        out.append((t.kind, t.id))
    years = {(t.kind, t.id): t.year or 0 for t in titles}
    return sorted(out, key=lambda k: (sorts[k], years[k], k[0] != "movie", k[1]))


def _walk(client: TestClient, query: str) -> tuple[list[tuple[str, int]], int]:
    url, seen, total = "/?" + query, [], -1
    for _ in range(100):
        html = client.get(url).text
        assert "HiddenBox" not in html
        seen += [("movie" if k == "movies" else "show", int(i))
                 for k, i in re.findall(r'<a href="/(movies|shows)/(\d+)">', html)]
        count = re.search(r'<p class="count muted">(\d+) title', html)
        total = int(count[1]) if count else 0
        nxt = re.search(r'<a class="button next-page" href="([^"]+)"', html)
        if not nxt:
            return seen, total
        url = nxt[1].replace("&amp;", "&")
        assert all(f"{k}={v}" in url for k, v in (p.split("=") for p in query.split("&") if p))
    raise AssertionError("more than 100 pages")


@pytest.mark.parametrize("query", [
    "", "letter=A", "letter=%23", "letter=Z", "genre=drama", "year=2003", "resolution=1080p",
    "resolution=2160p", "unwatched=1", "type=show", "type=movie&letter=B&unwatched=1", "source=ftp",
    f"source={HIDDEN}", f"source={SHOWN}&resolution=720p", "genre=Drama&type=show&year=2001",
])
def test_every_visible_title_once_in_order(big: Big, query: str) -> None:
    client, titles, sorts = big
    f = dict(p.split("=") for p in query.replace("%23", "#").split("&") if p)
    if f.get("source") == str(SHOWN):
        f["source"] = "local"
    elif f.get("source") == str(HIDDEN):
        f["source"] = "ftp"
    want = _expected(titles, sorts, **f)
    got, total = _walk(client, query)
    assert len(got) == len(set(got)), "a title came twice"
    assert got == want
    assert total == len(want)
