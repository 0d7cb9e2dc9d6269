"""The pages behind the login: library grid, movie and show details, the player and
the sources settings, transfers. Each reads through :mod:`reelhouse.library.queries` and renders
a template; a domain error becomes an HTML error page with the matching status."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from reelhouse.api.deps import playback_token_for
from reelhouse.api.errors import error_headers, status_for
from reelhouse.api.schemas import MediaFilePublic, MediaStreamPublic, MoviePublic, ShowPublic, SourcePublic
from reelhouse.api.visibility import visible_movie, visible_show
from reelhouse.core import Core
from reelhouse.db.limits import INT_MAX
from reelhouse.db.models import MediaFile, User
from reelhouse.errors import NotFound, ReelhouseError
from reelhouse.library import queries, views
from reelhouse.library.grid import RESOLUTIONS, GridFilter, grid_page
from reelhouse.library.letters import LETTERS, grid_letters
from reelhouse.library.streams import streams_by_file
from reelhouse.playback.direct import content_type_for
from reelhouse.web.format import episode_code, extra_label
from reelhouse.web.guard import PageUser
from reelhouse.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_TYPES = ("movie", "show")
#: Titles on one page of the library grid.
PAGE_SIZE = 60
_KINDS = ("ftp", "local")


def _core(request: Request) -> Core:
    core: Core = request.app.state.core
    return core


def _error(request: Request, user: User, exc: ReelhouseError) -> Response:
    """The error page of ``exc``: its status and headers (a 429's ``Retry-After``)."""
    status = status_for(exc)
    heading = {404: "Not found", 403: "Not allowed", 429: "Too many tries", 503: "Source unavailable"}.get(
        status, "Something went wrong")
    page = render(request, "error.html", status_code=status, user=user, heading=heading,
                  message=_core(request).redactor(exc.message))
    page.headers.update(error_headers(exc))
    return page


def _row_id(value: int, what: str) -> None:
    """NotFound (the HTML 404 page) for an id no row can have: the paths take digits
    only (``{id:int}``), and ids are 32-bit on PostgreSQL (:mod:`reelhouse.db.limits`)."""
    if value > INT_MAX:
        raise NotFound(f"no {what} with id {value}")


def _visible_sources(core: Core, user: User) -> list[SourcePublic]:
    """The sources ``user`` may see, as they may see them (non-admins: not where)."""
    return [SourcePublic.model_validate(r).for_user(user.is_admin) for r in core.sources.list()
            if core.access.may_see_source(user, r.id)]


def _streams(s: Session, file_ids: list[int]) -> dict[int, list[MediaStreamPublic]]:
    """The stream rows of each file, for the stream tables of a detail page."""
    return {fid: [MediaStreamPublic.model_validate(r) for r in rows]
            for fid, rows in streams_by_file(s, file_ids).items()}


def _decimal(value: str) -> bool:
    """Only ASCII digits: ``str.isdigit`` also takes "¹" or "２", which ``int`` refuses or reads."""
    return value.isascii() and value.isdigit()


def _source_filter(value: str) -> tuple[int | None, str | None]:
    """The ``source`` query value → (source id, source kind): ``"3"``, ``"ftp"``, ``"local"``."""
    if _decimal(value) and len(value) < 10:
        return int(value), None
    if value in _KINDS:
        return None, value
    return None, None


@router.get("/", name="library_page")
def library_page(
    request: Request, user: PageUser, q: str = "", type: str = "", source: str = "",
    genre: str = "", year: str = "", resolution: str = "", unwatched: str = "", letter: str = "",
    cursor: str = "",
) -> Response:
    """The grid, a page (``PAGE_SIZE`` titles) at a time in title order: every movie and
    show with a file, filtered by the query parameters ``q`` (title substring), ``type``
    (movie | show), ``source`` (id | ftp | local), ``genre``, ``year``, ``resolution``
    (2160p | 1080p | 720p | sd), ``unwatched`` (1) and ``letter`` (A-Z jump, ``#``);
    ``cursor`` is the next page's (the "Next page" link). Bad values are ignored."""
    core = _core(request)
    kind = type if type in _TYPES else None
    source_id, source_kind = _source_filter(source)
    query = q.strip()[:200]
    f = GridFilter(
        kind=kind, q=query or None, source_id=source_id, source_kind=source_kind,
        genre=genre.strip()[:100] or None,
        year=int(year) if _decimal(year) and len(year) == 4 and 1800 <= int(year) <= 3000 else None,
        resolution=resolution if resolution in RESOLUTIONS else None,
        unwatched_by=user.id if unwatched == "1" else None,
        letter=letter.upper() if letter == "#" or (len(letter) == 1 and letter.isascii()
                                                   and letter.isalpha()) else None,
    )
    filtered = f != GridFilter()
    allowed = core.access.allowed(user)
    if allowed is not None:  # per-user source grants
        f = dataclasses.replace(f, source_ids=frozenset(allowed))
    with core.sessions() as s:
        try:
            page = grid_page(s, f, PAGE_SIZE, cursor[:2000] or None)
        except ReelhouseError:  # a stale or edited cursor: the first page
            page = grid_page(s, f, PAGE_SIZE)
        # "empty" or "nothing matches": of the titles this user may see (not a hint of others')
        empty_library = not page.items and (
            not filtered or grid_page(s, GridFilter(source_ids=f.source_ids), 1).total == 0)
        unplayable = queries.unplayable_titles(s, page.items, f.source_ids)
        present = grid_letters(s, f)  # the bar's letters with a title (the others are disabled)
    params = {"q": query, "type": kind or "", "source": source if (source_id or source_kind) else "",
              "genre": f.genre or "", "year": str(f.year or ""), "resolution": f.resolution or "",
              "unwatched": "1" if f.unwatched_by else "", "letter": f.letter or ""}

    def link(**change: str) -> str:
        merged = {k: v for k, v in {**params, **change}.items() if v}
        return "/?" + urlencode(merged) if merged else "/"

    context: dict[str, Any] = dict(params)
    return render(
        request, "library.html", user=user, nav="library", items=page.items, total=page.total,
        next_url=link(cursor=page.next_cursor) if page.next_cursor else None,
        first_url=link() if cursor else None,
        # (letter, its link or None: no title under it; the current letter stays a link, to leave it)
        letters=[(c, link(letter=c if c != f.letter else "") if c in present or c == f.letter else None)
                 for c in LETTERS],
        sources=_visible_sources(core, user),
        filtered=filtered, empty_library=empty_library, resolutions=list(RESOLUTIONS), unplayable=unplayable,
        resume=core.progress.continue_watching(user.id, sources=core.access.allowed(user)), **context,
    )


@router.get("/movies/{movie_id:int}", name="movie_page")
def movie_page(request: Request, movie_id: int, user: PageUser) -> Response:
    """A movie with each of its files and their technical details."""
    try:
        _row_id(movie_id, "movie")
        with _core(request).sessions() as s:
            found = visible_movie(MoviePublic.model_validate(queries.get_movie(s, movie_id)),
                                  _core(request).access.allowed(user))
            if found is None:
                raise NotFound(f"no movie with id {movie_id}")
            movie = found
            streams = _streams(s, [f.id for f in movie.files])
    except ReelhouseError as exc:
        return _error(request, user, exc)
    offline = _core(request).offline
    return render(request, "movie.html", user=user, nav="library", movie=movie, streams=streams,
                  offline=offline.states([f.id for f in movie.files], user.id))


def _chosen_season(numbers: list[int], season: str) -> int | None:
    """The season number the show page shows: ``season`` (the query value) when the show
    has it, else its first season past the specials (season 0), else its first."""
    if _decimal(season) and len(season) < 10 and int(season) in numbers:
        return int(season)
    return next((n for n in numbers if n > 0), numbers[0] if numbers else None)


@router.get("/shows/{show_id:int}", name="show_page")
def show_page(request: Request, show_id: int, user: PageUser, season: str = "") -> Response:
    """A show, one season at a time (``season``: its number; bad or unknown values show
    the first season): a link to each season, then the chosen season's episodes (S01E01)
    and the files of each. All seasons at once made a 1 MB page of 2,700 controls for a
    show of 30 seasons of 30 episodes, season 30 some 900 episodes down."""
    try:
        _row_id(show_id, "show")
        with _core(request).sessions() as s:
            shown = visible_show(ShowPublic.model_validate(views.show_detail(s, show_id)),
                                 _core(request).access.allowed(user))
            if shown is None:
                raise NotFound(f"no show with id {show_id}")
            show = shown
            chosen = _chosen_season([x.number for x in show.seasons], season)
            current = [x for x in show.seasons if x.number == chosen][:1]
            ids = [f.id for x in current for ep in x.episodes for f in ep.files]
            streams = _streams(s, ids)
    except ReelhouseError as exc:
        return _error(request, user, exc)
    every = [f.id for x in show.seasons for ep in x.episodes for f in ep.files]
    offline = _core(request).offline.states(every, user.id)  # the user's own claims only
    kept = {x.id for x in show.seasons for ep in x.episodes for f in ep.files if f.id in offline}
    return render(request, "show.html", user=user, nav="library", show=show, streams=streams,
                  offline=offline, kept_seasons=kept, current=current, chosen=chosen)


def _headline(mf: MediaFile) -> tuple[str, str, str, str]:
    """(title, subtitle, back URL, back label) for the player page of ``mf``."""
    extra = f"{extra_label(mf.extra_type)} · {mf.path.rsplit('/', 1)[-1]}" if mf.kind == "extra" else ""
    if mf.movie is not None:
        title = mf.movie.title + (f" ({mf.movie.year})" if mf.movie.year else "")
        return title, extra, f"/movies/{mf.movie.id}", mf.movie.title
    if mf.show is not None:
        return mf.show.title, extra, f"/shows/{mf.show.id}", mf.show.title
    if mf.episode is not None:
        season = mf.episode.season
        show = season.show
        code = episode_code(season.number, mf.episode.number)
        subtitle = code + (f" · {mf.episode.title}" if mf.episode.title else "")
        return show.title, subtitle, f"/shows/{show.id}?season={season.number}", show.title
    name = mf.path.rsplit("/", 1)[-1]
    return name, "", "/", "the library"


@router.get("/play/{file_id:int}", name="play_page")
def play_page(request: Request, file_id: int, user: PageUser) -> Response:
    """The player: a ``<video>`` on a fresh signed stream URL (no cookie needed, so the
    same URL works in mpv or VLC), with the file's technical details."""
    core = _core(request)
    try:
        _row_id(file_id, "media file")
        with core.sessions() as s:
            core.access.check_file(user, file_id)
            mf = queries.get_media_file(s, file_id)
            info = MediaFilePublic.model_validate(mf)
            streams = _streams(s, [file_id]).get(file_id, [])
            title, subtitle, back_url, back_label = _headline(mf)
            movie = (visible_movie(MoviePublic.model_validate(mf.movie), core.access.allowed(user))
                     if mf.movie is not None and mf.kind != "extra" else None)
            versions = movie.versions if movie is not None else []
    except ReelhouseError as exc:
        return _error(request, user, exc)
    token = playback_token_for(request, core, file_id)
    stream_url = str(request.url_for("stream", file_id=file_id).include_query_params(token=token))
    hls_url = str(request.url_for("hls_master", file_id=file_id).include_query_params(token=token))
    return render(
        request, "play.html", user=user, nav="library", file=info, streams=streams, title=title,
        subtitle=subtitle, back_url=back_url, back_label=back_label, stream_url=stream_url,
        hls_url=hls_url, versions=versions,
        content_type=content_type_for(info.path, info.container),
        offline=core.offline.states([file_id], user.id).get(file_id),
        token_minutes=max(1, core.settings.playback_token_ttl // 60),
    )


@router.get("/settings/sources", name="sources_page")
def sources_page(request: Request, user: PageUser) -> Response:
    """Configured sources with edit / test / scan / remove (the buttons call the API)."""
    core = _core(request)
    sources = _visible_sources(core, user)
    syncs = {s.id: core.syncs.history(s.id, limit=5) for s in sources} if user.is_admin else {}
    return render(request, "sources.html", user=user, nav="sources", sources=sources,
                  can_edit=user.is_admin, syncs=syncs)


@router.get("/transfers", name="transfers_page")
def transfers_page(request: Request, user: PageUser) -> Response:
    """The transfer queue (live progress through the API), a browser upload form, the
    offline copies the user keeps and, for an admin, every copy with who keeps it."""
    core = _core(request)
    return render(request, "transfers.html", user=user, nav="transfers",
                  sources=_visible_sources(core, user) if user.is_admin else [],
                  copies=core.offline.mine(user.id),
                  every_copy=core.offline.every_copy() if user.is_admin else [],
                  store=str(core.settings.store_dir) if user.is_admin else "the library store")
