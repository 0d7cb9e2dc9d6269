"""ORM rows → public schemas."""

from __future__ import annotations

import posixpath

from reelhouse.api.schemas import (
    EpisodePublic,
    MediaFilePublic,
    MoviePublic,
    SeasonPublic,
    ShowPublic,
    SourcePublic,
)
from reelhouse.db.models import MediaFile, Movie, Show, SourceRow


def source_public(row: SourceRow) -> SourcePublic:
    return SourcePublic(
        id=row.id,
        name=row.name,
        kind=row.kind,
        path=row.path,
        host=row.host,
        port=row.port,
        username=row.username,
        has_password=bool(row.password_enc),
        tls=row.tls,
        verify_tls=row.verify_tls,
        has_tls_cert=bool(row.tls_cert_pem),
        last_scan_at=row.last_scan_at,
        last_error=row.last_error,
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


def _present(files: list[MediaFile]) -> list[MediaFilePublic]:
    return [media_file_public(f) for f in files if f.missing_since is None]


def movie_public(m: Movie) -> MoviePublic:
    return MoviePublic(id=m.id, title=m.title, year=m.year, files=_present(m.files))


def show_public(show: Show) -> ShowPublic:
    return ShowPublic(
        id=show.id,
        title=show.title,
        year=show.year,
        seasons=[
            SeasonPublic(
                id=season.id,
                number=season.number,
                episodes=[
                    EpisodePublic(id=ep.id, number=ep.number, title=ep.title, files=_present(ep.files))
                    for ep in season.episodes
                    if any(f.missing_since is None for f in ep.files)
                ],
            )
            for season in show.seasons
            if any(f.missing_since is None for ep in season.episodes for f in ep.files)
        ],
    )
