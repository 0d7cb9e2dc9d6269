"""Metadata: cached images (resized), and manual correction of movies and shows —
search TMDB, pick a match, edit title/year (admins; the item is then locked, so scans
keep the choice), unlock, refresh from NFO/TMDB."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import FileResponse, Response

from reelhouse.api.deps import AdminUser, CoreDep, CurrentUser, RowId
from reelhouse.api.files import file_response
from reelhouse.api.schemas import ItemUpdate, MatchCandidatePublic, MatchPick, MoviePublic, ShowPublic
from reelhouse.library import queries
from reelhouse.library.metadata.service import ItemKind

__all__ = ["router"]

router = APIRouter(tags=["metadata"])

SearchQuery = Annotated[str | None, Query(max_length=200, description="title to search; default: the item's")]
SearchYear = Annotated[int | None, Query(ge=1870, le=2200)]


@router.get("/api/images/{image_id}", response_class=FileResponse,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}})
def image(image_id: RowId, core: CoreDep, user: CurrentUser, request: Request,
          w: Annotated[int | None, Query(description="width in pixels: 200, 400 or 800; none: original")] = None,
          ) -> Response:
    """A cached poster, backdrop or still; ``w`` picks a resized copy (JPEG, never
    upscaled). 400 for another width, 404 for an unknown id or a picture of titles the
    user may not see (source grants). ETag / Last-Modified: 304 for a
    matching If-None-Match / If-Modified-Since."""
    core.access.check_image(user, image_id)
    path, content_type = core.metadata.images.file(image_id, w)
    return file_response(request, path, content_type, "private, max-age=86400")


def _search(core: CoreDep, kind: ItemKind, item_id: int, query: str | None,
            year: int | None) -> list[MatchCandidatePublic]:
    return [MatchCandidatePublic(tmdb_id=m.candidate.tmdb_id, title=m.candidate.title,
                                 original_title=m.candidate.original_title, year=m.candidate.year,
                                 overview=m.candidate.overview, poster_url=m.poster_url,
                                 confidence=m.confidence)
            for m in core.metadata.search(kind, item_id, query, year)]


def _movie(core: CoreDep, movie_id: int) -> MoviePublic:
    with core.sessions() as s:
        return MoviePublic.model_validate(queries.get_movie(s, movie_id))


def _show(core: CoreDep, show_id: int) -> ShowPublic:
    with core.sessions() as s:
        return ShowPublic.model_validate(queries.get_show(s, show_id))


@router.get("/api/library/movies/{movie_id}/match", response_model=list[MatchCandidatePublic],
            tags=["library"])
def movie_match_search(movie_id: RowId, core: CoreDep, user: CurrentUser, query: SearchQuery = None,
                       year: SearchYear = None) -> list[MatchCandidatePublic]:
    """TMDB movies for ``query`` (default: the movie's title and year), best first.
    503 when TMDB is not configured or unreachable; 404 for a movie the user may not
    see (source grants)."""
    core.access.check_title(user, "movie", movie_id)
    return _search(core, "movie", movie_id, query, year)


@router.put("/api/library/movies/{movie_id}/match", response_model=MoviePublic, tags=["library"])
def movie_match_pick(movie_id: RowId, body: MatchPick, core: CoreDep, _: AdminUser) -> MoviePublic:
    """Match the movie to a TMDB id by hand (title, year, overview, genres, rating,
    poster, backdrop from TMDB); the movie is locked. 404 for an unknown TMDB id."""
    core.metadata.pick("movie", movie_id, body.tmdb_id)
    return _movie(core, movie_id)


@router.patch("/api/library/movies/{movie_id}", response_model=MoviePublic, tags=["library"])
def movie_update(movie_id: RowId, body: ItemUpdate, core: CoreDep, _: AdminUser) -> MoviePublic:
    """Set title and/or year by hand (``"year": null`` clears it); the movie is locked."""
    core.metadata.edit("movie", movie_id, body.title, body.year, clear_year="year" in body.model_fields_set)
    return _movie(core, movie_id)


@router.delete("/api/library/movies/{movie_id}/lock", response_model=MoviePublic, tags=["library"])
def movie_unlock(movie_id: RowId, core: CoreDep, _: AdminUser) -> MoviePublic:
    """Let scans update the movie's metadata again (when one of its files changes)."""
    core.metadata.unlock("movie", movie_id)
    return _movie(core, movie_id)


@router.post("/api/library/movies/{movie_id}/refresh", response_model=MoviePublic, tags=["library"])
def movie_refresh(movie_id: RowId, core: CoreDep, _: AdminUser) -> MoviePublic:
    """Read the movie's NFO and artwork and ask TMDB again (e.g. TMDB was down during
    the scan). 409 when the movie is locked."""
    core.metadata.refresh("movie", movie_id, core.sources.source)
    return _movie(core, movie_id)


@router.get("/api/library/shows/{show_id}/match", response_model=list[MatchCandidatePublic],
            tags=["library"])
def show_match_search(show_id: RowId, core: CoreDep, user: CurrentUser, query: SearchQuery = None,
                      year: SearchYear = None) -> list[MatchCandidatePublic]:
    """TMDB shows for ``query`` (default: the show's title and year), best first; 404
    for a show the user may not see."""
    core.access.check_title(user, "show", show_id)
    return _search(core, "show", show_id, query, year)


@router.put("/api/library/shows/{show_id}/match", response_model=ShowPublic, tags=["library"])
def show_match_pick(show_id: RowId, body: MatchPick, core: CoreDep, _: AdminUser) -> ShowPublic:
    """Match the show to a TMDB id by hand (its seasons and episodes follow); the show
    is locked."""
    core.metadata.pick("show", show_id, body.tmdb_id, core.sources.source)
    return _show(core, show_id)


@router.patch("/api/library/shows/{show_id}", response_model=ShowPublic, tags=["library"])
def show_update(show_id: RowId, body: ItemUpdate, core: CoreDep, _: AdminUser) -> ShowPublic:
    """Set title and/or year by hand; the show is locked."""
    core.metadata.edit("show", show_id, body.title, body.year, clear_year="year" in body.model_fields_set)
    return _show(core, show_id)


@router.post("/api/library/shows/{show_id}/refresh", response_model=ShowPublic, tags=["library"])
def show_refresh(show_id: RowId, core: CoreDep, _: AdminUser) -> ShowPublic:
    """Read the show's and its episodes' NFOs and artwork and ask TMDB again. 409 when
    the show is locked."""
    core.metadata.refresh("show", show_id, core.sources.source)
    return _show(core, show_id)


@router.delete("/api/library/shows/{show_id}/lock", response_model=ShowPublic, tags=["library"])
def show_unlock(show_id: RowId, core: CoreDep, _: AdminUser) -> ShowPublic:
    """Let scans update the show's metadata again."""
    core.metadata.unlock("show", show_id)
    return _show(core, show_id)
