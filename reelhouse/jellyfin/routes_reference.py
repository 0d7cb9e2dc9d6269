"""Reference lists the apps' menus and settings pages read: ``Years`` and
``Years/{year}`` (Kodi's JellyCon builds its "Years" and "Decades" menus from them),
``Localization/Cultures`` and ``Countries`` (jellyfin-web's playback and subtitle
settings pages load them before they show anything), ``Localization/ParentalRatings``
and ``Options``.

Years are those of the titles the user may see, scoped like the genres
(``ParentId``, ``IncludeItemTypes``: :func:`.routes_genres.scope`), as ``Year`` items
(id: kind ``year``, the year as its row), sorted ascending or by ``SortOrder``, paged
by ``StartIndex``/``Limit``. Cultures are the ISO 639-1 languages with their ISO 639-2
codes (the bibliographic one first, as Jellyfin lists ``ger`` before ``deu``), countries
the ISO 3166-1 ones, both from babelfish's tables (guessit's dependency).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import babelfish  # type: ignore[import-untyped]
from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from reelhouse.core import Core
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.deps import ArgsDep, Caller, CallerDep, CoreDep, check_user_path
from reelhouse.jellyfin.genres import visible_years
from reelhouse.jellyfin.params import Args
from reelhouse.jellyfin.query import MAX_LIMIT
from reelhouse.jellyfin.routes_genres import scope

__all__ = ["router", "year_dto"]

router = APIRouter()


def year_dto(year: int, server_id: str) -> dict[str, Any]:
    """A ``BaseItemDto`` of type ``Year``."""
    return {"Name": str(year), "ServerId": server_id, "Id": ids.encode("year", year), "Type": "Year",
            "SortName": f"{year:04d}", "ProductionYear": year, "IsFolder": True, "LocationType": "FileSystem",
            "MediaType": "Unknown", "ImageTags": {}, "BackdropImageTags": [], "ImageBlurHashes": {}}


def _years(core: Core, request: Request, caller: Caller, args: Args) -> dict[str, Any]:
    kinds, show_id = scope(core, caller, args)
    start = args.number("startindex", 0) or 0
    limit = args.number("limit", None, 0, MAX_LIMIT)
    found: list[int] = []
    if kinds:
        allowed = core.access.allowed(caller.user)
        with core.sessions() as s:
            found = visible_years(s, None if allowed is None else frozenset(allowed), kinds, show_id)
    if (args.values("sortorder") or ["Ascending"])[0].lower() == "descending":
        found.reverse()
    chosen = found[start:] if limit is None else found[start:start + limit]
    sid = request.app.state.server_id
    return {"Items": [year_dto(y, sid) for y in chosen], "TotalRecordCount": len(found), "StartIndex": start}


@router.get("/years")
async def years(request: Request, caller: CallerDep, core: CoreDep, args: ArgsDep) -> dict[str, Any]:
    """The years of the visible titles (see the module doc)."""
    return await run_in_threadpool(_years, core, request, caller, args)


@router.get("/years/{year}")
def year(request: Request, caller: CallerDep, args: ArgsDep,
         year: int = Path(ge=1, le=9999)) -> dict[str, Any]:
    """One year as an item (Jellyfin answers any year, titles or not)."""
    if args.has("userid"):
        check_user_path(caller, args.text("userid", 64) or "")
    return year_dto(year, request.app.state.server_id)


@cache
def _cultures() -> list[dict[str, Any]]:
    out = []
    for lang in babelfish.LANGUAGE_MATRIX:
        if not lang.alpha2:
            continue
        codes = [c for c in dict.fromkeys((lang.alpha3b or lang.alpha3, lang.alpha3t or lang.alpha3, lang.alpha3)) if c]
        out.append({"Name": lang.name, "DisplayName": lang.name, "TwoLetterISOLanguageName": lang.alpha2,
                    "ThreeLetterISOLanguageName": codes[0], "ThreeLetterISOLanguageNames": codes})
    return sorted(out, key=lambda c: c["DisplayName"])


@cache
def _countries() -> list[dict[str, Any]]:
    out = [{"Name": c.alpha2, "DisplayName": c.name.title(), "TwoLetterISORegionName": c.alpha2}
           for c in babelfish.COUNTRY_MATRIX]
    return sorted(out, key=lambda c: c["DisplayName"])


@router.get("/localization/cultures")
def cultures(caller: CallerDep) -> list[dict[str, Any]]:
    """Languages (``CultureDto``) for the preferred audio and subtitle language menus."""
    return _cultures()


@router.get("/localization/countries")
def countries(caller: CallerDep) -> list[dict[str, Any]]:
    """Countries (``CountryInfo``)."""
    return _countries()


@router.get("/localization/parentalratings")
def parental_ratings(caller: CallerDep) -> list[dict[str, Any]]:
    """Parental ratings: reelhouse stores none for its titles."""
    return []


@router.get("/localization/options")
def localization_options(caller: CallerDep) -> list[dict[str, str]]:
    """The languages the server speaks (its messages are in English)."""
    return [{"Name": "English", "Value": "en-US"}]
