"""The big-library pages written to JSON by orjson from plain rows (issue 14: CPU per
request of a computed page).

pydantic validating a show page's ~80 files of 26 fields, then writing them, was about
a sixth of that page's CPU. For a user who sees every source, the grid, the show page,
the media-file pages and continue watching are shaped here into the objects their
``…Public`` schemas would write — the same keys in the same order, the same derived
fields (``name``, ``missing``, ``poster_url``, ``percent``) and the same JSON types
(floats as floats, UTC datetimes with ``Z``) — and written by ``orjson.dumps``. The
bytes are the schemas' own (pydantic-core writes the same compact JSON, UTF-8 and
escapes): ``tests/api/test_library_json.py`` compares the two on real and generated
rows and checks that every schema field is written. A user with source grants goes
the pydantic way (:mod:`reelhouse.api.visibility` trims the models).

The routes keep ``response_model=`` for the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from starlette.responses import Response

from reelhouse.api.schemas.library import files_unplayable_reason
from reelhouse.library.progress import ResumeItem
from reelhouse.library.queries import GridItem

__all__ = ["grid_item", "json_bytes", "orjson_response", "resume_item", "show_public", "title_public"]

_OPTIONS = orjson.OPT_UTC_Z  # an aware UTC datetime as "…Z", as pydantic writes it


def json_bytes(value: Any) -> bytes:
    """``value`` (dicts, lists, str, int, float, bool, None, datetimes) as compact
    UTF-8 JSON, as pydantic-core writes it."""
    return orjson.dumps(value, option=_OPTIONS)


def orjson_response(value: Any) -> Response:
    """``value`` in a 200 ``application/json`` response (see :func:`json_bytes`)."""
    return Response(json_bytes(value), media_type="application/json")


def _image(image_id: int | None) -> str | None:
    return None if image_id is None else f"/api/images/{image_id}"


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def grid_item(item: GridItem, unplayable_reason: str | None = None) -> dict[str, Any]:
    """A grid tile as ``GridItemPublic`` writes it; ``unplayable_reason`` is why its
    files cannot be played (:func:`reelhouse.library.queries.unplayable_reasons`), None
    for a playable title."""
    return {"type": item.type, "id": item.id, "title": item.title, "year": item.year,
            "source_kinds": item.source_kinds, "source_ids": item.source_ids, "file_count": item.file_count,
            "poster_url": _image(item.poster_image_id), "needs_review": bool(item.needs_review),
            "playable": unplayable_reason is None, "unplayable_reason": unplayable_reason}


def title_public(row: Mapping[str, Any]) -> dict[str, Any]:
    """A title row of :mod:`reelhouse.library.views` (the ``_TITLE_COLUMNS``) as
    ``TitlePublic``'s fields write it."""
    genres = row["genres"]
    return {"id": row["id"], "title": row["title"], "year": row["year"], "overview": row["overview"],
            "genres": [] if genres is None else genres, "rating": _float(row["rating"]),
            "tmdb_id": row["tmdb_id"], "imdb_id": row["imdb_id"], "poster_url": _image(row["poster_image_id"]),
            "backdrop_url": _image(row["backdrop_image_id"]),
            "match_confidence": _float(row["match_confidence"]), "needs_review": bool(row["needs_review"]),
            "locked": bool(row["locked"])}


def _present(files: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in files if not f["missing"]]


def show_public(detail: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`reelhouse.library.views.show_detail`'s answer as ``ShowPublic`` writes it:
    seasons with an episode that has a present file, such episodes, present files, the
    present extras by (type, path)."""
    out = title_public(detail)
    seasons = []
    for season in detail["seasons"]:
        episodes = []
        for ep in season["episodes"]:
            files = _present(ep["files"])
            if files:
                episodes.append({"id": ep["id"], "number": ep["number"], "title": ep["title"],
                                 "last_number": ep["last_number"], "air_date": ep["air_date"], "files": files,
                                 "overview": ep["overview"], "still_url": _image(ep["still_image_id"])})
        if episodes:
            seasons.append({"id": season["id"], "number": season["number"], "episodes": episodes,
                            "poster_url": _image(season["poster_image_id"])})
    out["seasons"] = seasons
    out["extras"] = sorted((f for f in _present(detail["extras"]) if f["kind"] == "extra"),
                           key=lambda f: (f["extra_type"] or "", f["path"]))
    reason = files_unplayable_reason([f for season in seasons for ep in season["episodes"] for f in ep["files"]])
    out["playable"] = reason is None
    out["unplayable_reason"] = reason
    return out


def resume_item(item: ResumeItem) -> dict[str, Any]:
    """A continue-watching tile as ``ResumePublic`` writes it."""
    return {"media_file_id": item.media_file_id, "title": item.title, "subtitle": item.subtitle,
            "position": float(item.position), "duration": _float(item.duration), "percent": item.percent}
