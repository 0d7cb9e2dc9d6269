"""The watch-party pages: ``/party`` (join by code, my parties) and ``/party/{code}``
(the shared player, participants, invite link). The page talks to the party over its
WebSocket (``static/party.js``); the server renders only what is known at load time."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from reelhouse.api.deps import client_address, playback_token_for
from reelhouse.api.party_lookup import find_party, may_see_party
from reelhouse.core import Core
from reelhouse.errors import NotFound, ReelhouseError
from reelhouse.library import queries
from reelhouse.party.codes import code_problem, normalize_code
from reelhouse.playback.direct import content_type_for
from reelhouse.web.guard import PageUser
from reelhouse.web.pages import _error, _headline
from reelhouse.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _core(request: Request) -> Core:
    core: Core = request.app.state.core
    return core


@router.get("/party", name="parties_page")
def parties_page(request: Request, user: PageUser, code: str = "") -> Response:
    """Join a party by typing its code (``?code=kq7 art`` → ``/party/KQ7ART``) and the
    parties you are in."""
    error = None
    if code:
        clean = normalize_code(code[:32])
        if clean is not None:
            return RedirectResponse(f"/party/{clean}", status_code=303)
        error = code_problem(code[:32])
    core = _core(request)
    mine = []
    for info in core.parties.list_for(user.id):
        if not may_see_party(core, user, info):
            continue  # a source of its files was taken from this user since they joined
        with core.sessions() as s:
            try:
                title = _headline(queries.get_media_file(s, info.media_file_id))[0]
            except ReelhouseError:
                title = "?"
        mine.append({"code": info.code, "title": title, "state": info.party.state,
                     "members": len(info.party.participants)})
    return render(request, "parties.html", user=user, nav="parties", mine=mine, error=error,
                  code=code[:32], status_code=400 if error else 200)


@router.get("/party/{code}", name="party_page")
def party_page(request: Request, code: str, user: PageUser) -> Response:
    """The party: player on a fresh signed stream URL of the party's file (the player
    takes any URL, so an HLS playlist can stand in), participants and invite."""
    core = _core(request)
    try:
        info = find_party(core, code[:32], user, client_address(request))
        with core.sessions() as s:
            mf = queries.get_media_file(s, info.media_file_id)
            title, subtitle, back_url, back_label = _headline(mf)
            path, container = mf.path, mf.container
    except NotFound:
        return _error(request, user, NotFound("No party has this code. Check it with whoever invited you."))
    except ReelhouseError as exc:
        return _error(request, user, exc)
    token = playback_token_for(request, core, info.media_file_id)
    stream_url = str(request.url_for("stream", file_id=info.media_file_id).include_query_params(token=token))
    invite_url = str(request.url_for("party_page", code=info.code))
    return render(request, "party.html", user=user, nav="parties", code=info.code, title=title,
                  subtitle=subtitle, back_url=back_url, back_label=back_label, stream_url=stream_url,
                  content_type=content_type_for(path, container), invite_url=invite_url,
                  ended=info.party.state == "ended", duration=info.party.duration)
