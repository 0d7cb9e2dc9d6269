"""ORM rows → public schemas."""

from __future__ import annotations

import posixpath
from typing import Any

from reelhouse.api.schemas import (
    EpisodePublic,
    GridItemPublic,
    MediaFileDetail,
    MediaFilePublic,
    MediaStreamPublic,
    MoviePublic,
    SeasonPublic,
    ShowPublic,
    SourcePublic,
)
from reelhouse.db.models import MediaFile, MediaStream, Movie, Show, SourceRow
from reelhouse.library.queries import GridItem


def source_public(row: SourceRow, full: bool = True) -> SourcePublic:
    """A source for the API; ``full=False`` (non-admins) hides where it lives: host,
    port, user name, root folder and the server's error text."""
    return SourcePublic(
        id=row.id,
        name=row.name,
        kind=row.kind,
        path=row.path if full else "",
        host=row.host if full else None,
        port=row.port if full else None,
        username=row.username if full else None,
        has_password=bool(row.password_enc) if full else False,
        tls=row.tls,
        verify_tls=row.verify_tls,
        scan_interval=row.scan_interval,
        has_tls_cert=bool(row.tls_cert_pem),
        last_scan_at=row.last_scan_at,
        last_error=row.last_error if full else ("unavailable" if row.last_error else None),
    )


def media_file_public(mf: MediaFile) -> MediaFilePublic:
    return MediaFilePublic(
        id=mf.id,
        source_id=mf.source_id,
        source_name=mf.source.name,
        source_kind=mf.source.kind,
        path=mf.path,
        name=posixpath.basename(mf.path),
        size=mf.size,
        mtime=mf.mtime,
        kind=mf.kind,
        container=mf.container,
        duration=mf.duration,
        video_codec=mf.video_codec,
        audio_codec=mf.audio_codec,
        width=mf.width,
        height=mf.height,
        bitrate=mf.bitrate,
        probe_error=mf.probe_error,
        missing=mf.missing_since is not None,
        movie_id=mf.movie_id,
        episode_id=mf.episode_id,
        first_seen=mf.first_seen,
        last_seen=mf.last_seen,
    )


def media_stream_public(row: MediaStream) -> MediaStreamPublic:
    return MediaStreamPublic.model_validate(row)


def media_file_detail(mf: MediaFile) -> MediaFileDetail:
    """``mf`` with its streams (loads ``mf.streams`` if not loaded yet)."""
    return MediaFileDetail(
        **media_file_public(mf).model_dump(),
        probe_bytes=mf.probe_bytes,
        streams=[media_stream_public(r) for r in mf.streams],
    )


def _present(files: list[MediaFile]) -> list[MediaFilePublic]:
    return [media_file_public(f) for f in files if f.missing_since is None]


def image_url(image_id: int | None) -> str | None:
    """The API URL of a cached image (None for no image)."""
    return f"/api/images/{image_id}" if image_id is not None else None


def grid_item_public(item: GridItem) -> GridItemPublic:
    fields = {k: v for k, v in vars(item).items() if k != "poster_image_id"}
    return GridItemPublic(**fields, poster_url=image_url(item.poster_image_id))


def _meta(item: Movie | Show) -> dict[str, Any]:
    return {
        "overview": item.overview, "genres": list(item.genres or []), "rating": item.rating,
        "tmdb_id": item.tmdb_id, "imdb_id": item.imdb_id,
        "poster_url": image_url(item.poster_image_id), "backdrop_url": image_url(item.backdrop_image_id),
        "match_confidence": item.match_confidence, "needs_review": bool(item.needs_review),
        "locked": bool(item.locked),
    }


def movie_public(m: Movie) -> MoviePublic:
    return MoviePublic(id=m.id, title=m.title, year=m.year, files=_present(m.files), **_meta(m))


def show_public(show: Show) -> ShowPublic:
    return ShowPublic(
        id=show.id,
        title=show.title,
        year=show.year,
        seasons=[
            SeasonPublic(
                id=season.id,
                number=season.number,
                poster_url=image_url(season.poster_image_id),
                episodes=[
                    EpisodePublic(id=ep.id, number=ep.number, title=ep.title, files=_present(ep.files),
                                  last_number=ep.last_number, air_date=ep.air_date,
                                  overview=ep.overview, still_url=image_url(ep.still_image_id))
                    for ep in season.episodes
                    if any(f.missing_since is None for f in ep.files)
                ],
            )
            for season in show.seasons
            if any(f.missing_since is None for ep in season.episodes for f in ep.files)
        ],
        **_meta(show),
    )
