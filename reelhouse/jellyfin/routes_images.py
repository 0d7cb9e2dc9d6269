"""``Items/{id}/Images/{type}`` (and ``/{index}``): Primary (poster; an episode's
still, else its season's or series' poster), Backdrop and Thumb (the backdrop), from
reelhouse's image cache; ``maxWidth``, ``maxHeight``, ``fillWidth``, ``fillHeight``
pick the smallest cached width that is large enough (:func:`_width`). 404 where there is no such image.

Who may fetch: a caller with a token (header or ``api_key``), or anybody with the
image's ``tag`` from the item's ``ImageTags`` (``<img>`` tags cannot send headers;
Jellyfin's own clients put the tag in every image URL). The tag is an HMAC of the
image id (:func:`ids.image_tag`), so item ids, which are guessable, give nothing
alone: without a token or the right tag the answer is 401, whether or not the item
exists. A caller with a token gets 404 for a picture of titles their source grants
hide (:meth:`~reelhouse.auth.access.SourceAccess.check_image`)."""

from __future__ import annotations

import hmac
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from reelhouse.api.files import file_response
from reelhouse.core import Core
from reelhouse.db.models import Episode, Image, Movie, Season, Show
from reelhouse.errors import AuthenticationFailed, InvalidInput, NotFound
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.deps import Caller, caller_of
from reelhouse.jellyfin.params import Args
from reelhouse.library.metadata.images import WIDTHS

__all__ = ["router"]

router = APIRouter()


def _image_id(core: Core, ref: ids.Ref, kind: str) -> int | None:
    poster = kind == "primary"
    with core.sessions() as s:
        if ref.kind in ("movie", "show"):
            row = s.get(Movie, ref.id) if ref.kind == "movie" else s.get(Show, ref.id)
            if row is None:
                raise NotFound("no such item")
            return row.poster_image_id if poster else row.backdrop_image_id
        if ref.kind == "season":
            season = s.execute(select(Season.poster_image_id, Show.poster_image_id, Show.backdrop_image_id)
                              .join(Show, Show.id == Season.show_id).where(Season.id == ref.id)).first()
            if season is None:
                raise NotFound("no such item")
            return (season[0] or season[1]) if poster else season[2]
        if ref.kind == "episode":
            found = s.execute(select(Episode.still_image_id, Season.poster_image_id, Show.poster_image_id,
                                     Show.backdrop_image_id)
                              .join(Season, Season.id == Episode.season_id)
                              .join(Show, Show.id == Season.show_id).where(Episode.id == ref.id)).first()
            if found is None:
                raise NotFound("no such item")
            if poster:
                return found[0] or found[1] or found[2]
            return found[0] if kind == "thumb" and found[0] else found[3]
    return None


def _width(args: Args, size: tuple[int, int] | None) -> int | None:
    """The cached width to serve: the smallest of :data:`WIDTHS` at least as wide as
    asked, or None (the original). ``maxWidth``/``width`` ask for that width;
    ``maxHeight``/``height`` (Android TV's cards) for the width that gives that height
    at the image's ``size`` (width, height in pixels); ``fillWidth``/``fillHeight``
    (jellyfin-web's cards) for the width that covers both (the larger)."""
    def number(name: str) -> int | None:
        return args.number(name, None, 1, 100_000)

    def across(height: int | None) -> int | None:
        return None if height is None or size is None else -(-height * size[0] // max(size[1], 1))

    fills = [w for w in (number("fillwidth"), across(number("fillheight"))) if w]
    bounds = [w for w in (number("maxwidth"), number("width"), across(number("maxheight")),
                          across(number("height"))) if w]
    want = max(fills) if fills else min(bounds) if bounds else None
    if want is None:
        return None
    return next((w for w in WIDTHS if w >= want), None)


def _file(request: Request, item_id: str, image_type: str, args: Args) -> tuple[str, str]:
    """The cached file of the image and its type; raises AuthenticationFailed (neither
    a token nor the image's tag), InvalidInput, NotFound (for callers with a token)."""
    core: Core = request.app.state.core
    try:
        caller: Caller | None = caller_of(request)
    except AuthenticationFailed:
        caller = None
    authorized = caller is not None
    try:
        ref = ids.decode(item_id, "movie", "show", "season", "episode", "view")
        kind = image_type.lower()
        if kind not in ("primary", "backdrop", "thumb"):
            raise NotFound(f"no {image_type} image")
        image = _image_id(core, ref, kind) if ref.kind != "view" else None
        if not image:
            raise NotFound(f"this item has no {image_type} image")
    except (InvalidInput, NotFound):
        if not authorized:
            raise AuthenticationFailed("an image needs a token or its tag") from None
        raise
    if caller is not None:  # a title the user may not see is not there (source grants)
        try:
            core.access.check_image(caller.user, image)
        except NotFound:
            raise NotFound("no such item") from None
    tag = args.text("tag") or ""
    if not authorized and not hmac.compare_digest(tag, ids.image_tag(request.app.state.image_key, image)):
        raise AuthenticationFailed("an image needs a token or its tag")
    with core.sessions() as s:
        row = s.get(Image, image)
        size = (row.width, row.height) if row is not None and row.width and row.height else None
    path, content_type = core.metadata.images.file(image, _width(args, size))
    return str(path), content_type


@router.get("/items/{item_id}/images/{image_type}")
@router.get("/items/{item_id}/images/{image_type}/{index}")
async def image(item_id: str, image_type: str, request: Request) -> Response:
    """The image, for a caller with a token or with the image's tag (see the module doc)."""
    args = Args(request.query_params.multi_items())
    path, content_type = await run_in_threadpool(_file, request, item_id, image_type[:16], args)
    return file_response(request, Path(path), content_type, "private, max-age=86400")
