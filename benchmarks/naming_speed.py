"""Naming speed and agreement: time per path of reelhouse's naming
(``parse_media_path``: own patterns for the common forms, guessit for the rest), of the
previous release's naming (guessit with corrections, file name only) and of guessit
alone (the peer), on a corpus of real-world forms; and the agreement of each with the
published naming tables (Jellyfin's tests, Plex/Jellyfin/Kodi extras) that
tests/library/test_naming_servers.py checks.

    .venv/bin/python benchmarks/naming_speed.py [--passes 3] [--previous REV] [--library 20000]

The corpus: every path of the published tables and of reelhouse's own tables, plus
generated release names in the common forms (``Show.S01E02.1080p.WEB.x264-GRP``,
``Show/Season 1/Show - 1x02 - Title``, ``Movie.2010.1080p.BluRay``, ``Movie (2010)``,
anime ``[Grp] Show - 12 [1080p]``). Times are the median of ``--passes`` passes over
the whole corpus, after one warm-up pass; guessit's instances are reused, as in a scan.
``fast_path_share``: the paths reelhouse names without calling guessit.

``library``: a first scan's naming of a real-looking library (``--library`` files, see
:func:`library`; caches cold, one ``parse_media_paths`` call), beside guessit alone on a
sample of it. ``residue_pool``: the corpus's guessit residue (``--pool`` copies) named
serially and by a 2-process pool, to show whether a pool pays here. Prints one JSON
object on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "library"))


def log(*parts: object) -> None:
    print("[bench]", *parts, file=sys.stderr, flush=True)


def corpus(seed: int = 15) -> list[str]:
    import test_naming_rules as rules
    import test_naming_servers as servers  # the published tables
    import test_naming_table as table

    paths = {p for _, p, _ in servers._cases()} | {p for p, _ in rules.TABLE} | {p for p, _ in table.TABLE}
    rng = random.Random(seed)
    shows = ["The Office", "Breaking Bad", "Doctor Who", "Dark", "The Expanse", "Severance", "Fargo"]
    films = ["The Matrix", "Heat", "Blade Runner 2049", "Parasite", "Dune Part Two", "Coco", "Alien"]
    tags = ["1080p.WEB.h264-GRP", "720p.HDTV.x264-KILLERS", "2160p.NF.WEB-DL.DDP5.1.x265", "1080p.BluRay.x264"]
    for _ in range(600):
        show, film = rng.choice(shows), rng.choice(films)
        s, e, y = rng.randint(1, 12), rng.randint(1, 24), rng.randint(1950, 2024)
        paths |= {
            f"{show}/Season {s}/{show.replace(' ', '.')}.S{s:02d}E{e:02d}.{rng.choice(tags)}.mkv",
            f"{show}/Season {s:02d}/{show} - {s}x{e:02d} - Episode {e}.mkv",
            f"{show.replace(' ', '.')}.S{s:02d}E{e:02d}E{e + 1:02d}.{rng.choice(tags)}.mkv",
            f"[SubsPlease] {show} - {e + 100} (1080p) [ABCD{e:04d}].mkv",
            f"{film} ({y})/{film} ({y}).mkv",
            f"{film.replace(' ', '.')}.{y}.{rng.choice(tags)}.mkv",
            f"Movies/{film} ({y})/{film} ({y}) - 1080p.mkv",
        }
    return sorted(paths)


_FILMS = [
    "The Shawshank Redemption", "The Godfather", "The Dark Knight", "12 Angry Men", "Pulp Fiction", "Fight Club",
    "Forrest Gump", "Inception", "The Matrix", "Goodfellas", "Se7en", "Seven Samurai", "It's a Wonderful Life",
    "The Silence of the Lambs", "City of God", "Saving Private Ryan", "Interstellar", "The Green Mile",
    "Spirited Away", "Parasite", "Terminator 2 Judgment Day", "Back to the Future", "The Usual Suspects",
    "Psycho", "The Lion King", "American History X", "Whiplash", "Gladiator", "The Departed", "The Prestige",
    "Casablanca", "Once Upon a Time in the West", "Rear Window", "Alien", "Apocalypse Now", "Memento",
    "Raiders of the Lost Ark", "Django Unchained", "WALL-E", "The Lives of Others", "The Shining", "Aliens",
    "Spider-Man Into the Spider-Verse", "Oldboy", "Joker", "Braveheart", "Amadeus", "Toy Story 3", "Coco",
    "Das Boot", "Princess Mononoke", "Good Will Hunting", "Your Name", "Requiem for a Dream", "3 Idiots",
    "2001 A Space Odyssey", "Reservoir Dogs", "Citizen Kane", "Vertigo", "Amelie", "A Clockwork Orange",
    "Full Metal Jacket", "Scarface", "Heat", "Taxi Driver", "Die Hard", "Snatch", "1917", "Downfall",
    "Batman Begins", "Some Like It Hot", "The Wolf of Wall Street", "Casino", "The Truman Show",
    "Pan's Labyrinth", "There Will Be Blood", "Shutter Island", "Jurassic Park", "No Country for Old Men",
    "The Thing", "Finding Nemo", "Chinatown", "V for Vendetta", "Trainspotting", "Fargo", "Blade Runner 2049",
    "Ben-Hur", "Mad Max Fury Road", "Jaws", "Rocky", "The Big Lebowski", "Logan", "Spotlight", "Network",
    "Dune", "Oppenheimer", "Everything Everywhere All at Once", "Arrival", "Sicario", "Drive", "Her",
]
_SHOWS = ["The Office", "Breaking Bad", "Doctor Who", "Dark", "The Expanse", "Severance", "Fargo", "The Wire",
          "Better Call Saul", "Stranger Things", "The Crown", "Succession", "Mad Men", "Lost", "Friends",
          "The Sopranos", "Chernobyl", "True Detective", "Westworld", "The Mandalorian", "Black Mirror"]
_ANIME = ["Frieren", "One Piece", "Jujutsu Kaisen", "Spy x Family", "Chainsaw Man", "Bocchi the Rock"]
_FILM_TAILS = [
    "1080p.BluRay.x264", "2160p.UHD.BluRay.x265.10bit.HDR.DTS-HD.MA.5.1", "720p.WEB-DL.DD5.1.H.264",
    "1080p.AMZN.WEB-DL.DDP5.1.H.264", "1080p.BluRay.REMUX.AVC.DTS-HD.MA.5.1", "BRRip.XviD.AC3", "DVDRip.XviD",
    "2160p.WEB-DL.DDP5.1.Atmos.DV.HEVC", "REMASTERED.1080p.BluRay.x264", "EXTENDED.1080p.BluRay.x264",
    "MULTi.1080p.BluRay.x264", "1080p.WEBRip.x264.AAC5.1", "PROPER.1080p.WEB.h264", "1080p.NF.WEB-DL.DDP5.1.x264",
]
_TV_TAILS = ["720p.HDTV.x264", "1080p.WEB.h264", "2160p.NF.WEB-DL.DDP5.1.x265", "1080p.AMZN.WEB-DL.DDP5.1.H.264"]


def library(n: int = 20_000, seed: int = 14) -> list[str]:
    """A library as users keep one: a third films (release names in "Title (Year)"
    folders or release folders, "Title (Year)" names, a few versions and trailers), two
    thirds episodes (season folders with "Show - S01E02 - Title" or release names, anime
    "[Group] Show - 12"). Titles mix the film list's words, so words and word pairs repeat
    as in a real library; release groups are random, so few whole names repeat."""
    rng = random.Random(seed)
    words = sorted({w for t in _FILMS for w in t.split()})
    out: list[str] = []

    def film() -> str:
        return rng.choice(_FILMS) if rng.random() < 0.3 else " ".join(rng.sample(words, rng.randint(1, 4)))

    def group() -> str:
        return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(rng.randint(3, 8)))

    while len(out) < n:
        r = rng.random()
        if r < 0.83:  # a film (a season adds ~9 files: a third of the files are films)
            t, y = film(), rng.randint(1930, 2025)
            rel = f"{t.replace(' ', '.')}.{y}.{rng.choice(_FILM_TAILS)}-{group()}"
            form = rng.random()
            if form < 0.40:
                out.append(f"Movies/{t} ({y})/{rel}.mkv")
            elif form < 0.65:
                out.append(f"Movies/{t} ({y})/{t} ({y}).mkv")
            elif form < 0.85:
                out.append(f"Movies/{rel}/{rel.lower()}.mkv")
            elif form < 0.95:
                out.append(f"Movies/{rel}.mkv")
            else:
                out.append(f"Movies/{t} ({y})/{t} ({y}) - {rng.choice(['1080p', '2160p', 'Directors Cut'])}.mkv")
                out.append(f"Movies/{t} ({y})/Trailers/{t} trailer.mkv")
        else:  # a show's season, a few episodes of it
            show, y, s = rng.choice(_SHOWS), rng.randint(1990, 2024), rng.randint(1, 8)
            anime = rng.choice(_ANIME)
            form = rng.random()
            for e in range(1, rng.randint(6, 13)):
                if form < 0.5:
                    out.append(f"TV/{show} ({y})/Season {s:02d}/{show} - S{s:02d}E{e:02d} - Episode {e}.mkv")
                elif form < 0.8:
                    out.append(f"TV/{show}/Season {s}/{show.replace(' ', '.')}.S{s:02d}E{e:02d}."
                               f"{rng.choice(_TV_TAILS)}-{group()}.mkv")
                else:
                    out.append(f"Anime/{anime}/[SubsPlease] {anime} - {e + 12 * s:02d} (1080p) [{group()}].mkv")
    return out[:n]


def _previous(rev: str) -> Callable[[str], Any]:
    """``parse_media_path`` of reelhouse at ``rev`` (the single-module naming)."""
    text = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:reelhouse/library/naming.py"],
                          capture_output=True, text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "previous_naming.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("previous_naming", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["previous_naming"] = module
    spec.loader.exec_module(module)
    return module.parse_media_path  # type: ignore[no-any-return]


def _time(fn: Callable[[str], Any], paths: list[str], passes: int) -> dict[str, float]:
    for p in paths:  # warm-up (guessit builds its rules once)
        fn(p)
    runs = []
    for _ in range(passes):
        t0 = time.perf_counter()
        for p in paths:
            fn(p)
        runs.append(time.perf_counter() - t0)
    per = statistics.median(runs) / len(paths)
    return {"us_per_path": round(per * 1e6, 1), "paths_per_s": round(1 / per)}


def _agreement(parse: Callable[[str], Any]) -> dict[str, Any]:
    """Agreement with the published tables, with ``parse`` standing in for
    parse_media_path (folder-only tables keep reelhouse's folder functions)."""
    import test_naming_servers as servers

    saved = servers.parse_media_path
    servers.parse_media_path = parse
    try:
        cases = []
        for table, case, ok in _safe(servers._cases):
            cases.append((table, case, ok))
    finally:
        servers.parse_media_path = saved
    by_table: dict[str, list[bool]] = {}
    for table, _, ok in cases:
        by_table.setdefault(table, []).append(ok)
    files = [ok for table, _, ok in cases if table not in ("season folder", "series folder")]
    return {"cases": len(cases), "agreement": round(sum(ok for _, _, ok in cases) / len(cases), 4),
            # without the folder-name tables (which use reelhouse's folder parser for all)
            "path_cases": len(files), "path_agreement": round(sum(files) / len(files), 4),
            "by_table": {t: round(sum(v) / len(v), 3) for t, v in sorted(by_table.items())}}


def _safe(gen: Callable[[], Any]) -> list[tuple[str, str, bool]]:
    out = []
    it = gen()
    while True:
        try:
            out.append(next(it))
        except StopIteration:
            return out
        except Exception:  # an old parser's crash or a field it lacks: a disagreement
            out.append(("error", "", False))


class _Adapt:
    """Fields of reelhouse's Parsed on top of an older or foreign parse result."""

    def __init__(self, kind: str, title: str | None, **fields: Any) -> None:
        self.kind, self.title = kind, title or ""
        for name in ("year", "season", "episode", "episode_end", "air_date", "extra"):
            setattr(self, name, fields.get(name))


def _guessit_parse() -> Callable[[str], Any]:
    from guessit.api import GuessItApi

    api = GuessItApi()

    def parse(path: str) -> Any:
        g = api.guessit(path.lstrip("/"))
        eps = g.get("episode")
        first = eps[0] if isinstance(eps, list) and eps else eps
        last = max(eps) if isinstance(eps, list) and eps else None
        date = g.get("date")
        kind = g.get("type", "movie")
        return _Adapt(kind if kind in ("movie", "episode") else "movie", str(g.get("title") or ""),
                      year=g.get("year") if isinstance(g.get("year"), int) else None,
                      season=g.get("season") if isinstance(g.get("season"), int) else
                      (1 if isinstance(first, int) else None),
                      episode=first if isinstance(first, int) else None,
                      episode_end=last if last != first else None,
                      air_date=date.isoformat() if date is not None and hasattr(date, "isoformat") else None,
                      extra="trailer" if "Trailer" in str(g.get("other", "")) else None)
    return parse


def _library_figures(size: int, peer_sample: int) -> dict[str, Any]:
    """A first scan's naming of a real-looking library (:func:`library`), caches cold:
    ``parse_media_paths`` over the whole listing once (wall and CPU time), and guessit
    alone on a sample of it (the peer: what naming cost before it had its own patterns)."""
    import reelhouse.library.naming.parse as parse_module
    import reelhouse.library.naming.release as release_module
    import reelhouse.library.naming.titles as titles_module
    from reelhouse.library.naming import parse_media_paths

    paths = library(size)
    parse_module._folders.cache_clear()
    titles_module.folder_title_year.cache_clear()
    release_module.release_tag.cache_clear()
    residue: list[str] = []

    def serial(fn: Callable[[str], Any], todo: list[str]) -> list[Any]:
        residue.extend(todo)
        return [fn(p) for p in todo]

    t0, c0 = time.perf_counter(), time.process_time()
    parsed = parse_media_paths(paths, serial)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peer = _guessit_parse()
    sample = random.Random(1).sample(paths, min(peer_sample, len(paths)))
    t0 = time.perf_counter()
    for p in sample:
        peer(p)
    peer_wall = (time.perf_counter() - t0) / len(sample)
    kinds: dict[str, int] = {}
    for r in parsed:
        kinds[r.kind] = kinds.get(r.kind, 0) + 1
    return {"paths": len(paths), "kinds": kinds, "us_per_path": round(wall / len(paths) * 1e6, 1),
            "cpu_us_per_path": round(cpu / len(paths) * 1e6, 1), "seconds": round(wall, 2),
            "guessit_share": round(len(residue) / len(paths), 4),
            "guessit_alone_us_per_path": round(peer_wall * 1e6, 1), "guessit_alone_sample": len(sample),
            "speedup_vs_guessit": round(peer_wall / (wall / len(paths)), 1),
            "projected_100k_seconds": round(wall / len(paths) * 100_000, 1)}


def _pool_figures(names: list[str], workers: int) -> dict[str, Any]:
    """Whether a process pool pays for the guessit residue on this machine: the names
    that reach guessit, serially vs a ``spawn`` pool of ``workers`` (start-up included)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from reelhouse.library.naming import parse_media_path

    t0 = time.perf_counter()
    serial = [parse_media_path(p) for p in names]
    serial_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pooled = list(pool.map(parse_media_path, names, chunksize=32))
    pool_s = time.perf_counter() - t0
    assert pooled == serial
    return {"names": len(names), "workers": workers, "serial_s": round(serial_s, 2), "pool_s": round(pool_s, 2),
            "pool_speedup": round(serial_s / pool_s, 2)}


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--passes", type=int, default=3)
    p.add_argument("--library", type=int, default=20_000, help="files of the real-looking library (0: skip)")
    p.add_argument("--peer-sample", type=int, default=500, help="library paths guessit alone names")
    p.add_argument("--pool", type=int, default=4, help="residue copies for the pool figure (0: skip)")
    p.add_argument("--previous", default="6f205c3", help="git revision of the previous naming module")
    args = p.parse_args()
    import reelhouse.library.naming.titles as titles_module
    from reelhouse.library.naming import parse_media_path

    paths = corpus()
    log(f"{len(paths)} paths")
    calls = [0]
    real_guess = titles_module._guess

    def counting(text: str, kind: str | None = None) -> Any:
        calls[0] += 1
        return real_guess(text, kind)

    log("the library (first scan, caches cold)")
    library_figures = _library_figures(args.library, args.peer_sample) if args.library else None
    titles_module._guess = counting
    guessed = 0
    residue = []
    for path in paths:
        before = calls[0]
        parse_media_path(path)
        if calls[0] != before:
            guessed += 1
            residue.append(path)
    titles_module._guess = real_guess
    log(f"the guessit residue ({len(residue)} paths) serially and in a pool")
    pool_figures = _pool_figures(residue * args.pool, 2) if args.pool and residue else None
    previous = _previous(args.previous)
    peer = _guessit_parse()
    log("timing reelhouse")
    ours = _time(parse_media_path, paths, args.passes)
    log("timing the previous naming")
    old = _time(previous, paths, args.passes)
    log("timing guessit")
    guess = _time(peer, paths, args.passes)
    log("agreement")
    print(json.dumps({
        "benchmark": "naming_speed",
        "load_average_1m": round(os.getloadavg()[0], 2),
        "paths": len(paths),
        "passes": args.passes,
        "reelhouse": {**ours, "fast_path_share": round(1 - guessed / len(paths), 3),
                      **_agreement(parse_media_path)},
        "previous": {**old, "revision": args.previous, **_agreement(previous)},
        "guessit": {**guess, **_agreement(peer)},
        "speedup_vs_previous": round(old["us_per_path"] / ours["us_per_path"], 2),
        "speedup_vs_guessit": round(guess["us_per_path"] / ours["us_per_path"], 2),
        "library": library_figures,
        "residue_pool": pool_figures,
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
