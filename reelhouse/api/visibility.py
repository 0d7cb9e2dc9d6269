"""Trim library answers to the sources a user may see (per-user source grants,
:mod:`reelhouse.auth.access`). ``allowed`` None means everything."""

from __future__ import annotations

from reelhouse.api.schemas import GridItemPublic, MediaFilePublic, MoviePublic, ShowPublic

__all__ = ["visible_files", "visible_grid", "visible_movie", "visible_show"]


def visible_files(files: list[MediaFilePublic], allowed: set[int] | None) -> list[MediaFilePublic]:
    return files if allowed is None else [f for f in files if f.source_id in allowed]


def visible_grid(items: list[GridItemPublic], allowed: set[int] | None) -> list[GridItemPublic]:
    if allowed is None:
        return items
    return [i for i in items if set(i.source_ids) & allowed]


def visible_movie(movie: MoviePublic, allowed: set[int] | None) -> MoviePublic | None:
    """The movie with only visible files, versions (each with its visible files) and
    extras, or None when no file of its own is left."""
    if allowed is None:
        return movie
    files = visible_files(movie.files, allowed)
    versions = [v.model_copy(update={"files": kept}) for v in movie.versions
                if (kept := visible_files(v.files, allowed))]
    return movie.model_copy(update={"files": files, "versions": versions,
                                    "extras": visible_files(movie.extras, allowed)}) if files else None


def visible_show(show: ShowPublic, allowed: set[int] | None) -> ShowPublic | None:
    """The show with only episodes that have a visible file, or None."""
    if allowed is None:
        return show
    seasons = []
    for season in show.seasons:
        episodes = [e.model_copy(update={"files": visible_files(e.files, allowed)})
                    for e in season.episodes]
        episodes = [e for e in episodes if e.files]
        if episodes:
            seasons.append(season.model_copy(update={"episodes": episodes}))
    return show.model_copy(update={"seasons": seasons, "extras": visible_files(show.extras, allowed)}) \
        if seasons else None
