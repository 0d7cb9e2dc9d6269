"""ReelhouseError → HTTP status, in one table. Every error body is ``{"detail": msg}``;
a source or capacity failure adds ``"reason"`` (:func:`reason_for`), so a player can tell
"wait and try again" from "the source is down" without parsing English.

Why a request for a source's bytes failed, as a client reads it (RFC 9110 §15.6):

======================  ======  ===========  ==========================================
reason                  status  Retry-After  when
======================  ======  ===========  ==========================================
``queue_full``          503     5            the user's requests waiting for the source
                                             are at ``ftp_user_waiters``
``source_busy``         503     10           every connection of the source stayed in
                                             use for the pool's wait, or the server
                                             refused more (FTP 421)
``encoder_limit``       503     5            the server's (or the user's) transcodes are
                                             at their limit (``hls_max_encoders``)
``source_down``         502                  the source's server refused or dropped the
                                             connection, or its name does not resolve
                                             (§15.6.3: the upstream failed)
``source_timeout``      504                  the source's server did not answer in time
                                             (§15.6.5)
``source_unavailable``  503                  any other failure of the source
``seek_too_far``        416                  the source cannot start a read there at a
                                             bounded cost: an FTP server without REST,
                                             past ``ftp_max_skip`` (§15.5.17)
======================  ======  ===========  ==========================================
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from reelhouse import errors as e

__all__ = ["CLIENT_GONE", "STATUS", "error_body", "error_headers", "install_error_handlers", "public_message",
           "reason_for", "status_for"]

log = logging.getLogger(__name__)

#: Most specific class first.
STATUS: list[tuple[type[e.ReelhouseError], int]] = [
    (e.RangeNotSatisfiable, 416),
    (e.InvalidInput, 400),
    (e.NotFound, 404),
    (e.PermissionDenied, 403),
    (e.SourceLoginRefused, 502),  # the source's login, not the user's: never 401
    (e.AuthenticationFailed, 401),
    (e.PreconditionFailed, 412),
    (e.Conflict, 409),
    (e.StorageFull, 507),
    (e.SourceBusy, 503),  # QueueFull too
    (e.ServiceBusy, 503),
    (e.TooManyRequests, 429),
    (e.TranscodeFailed, 502),
    (e.SourceUnreachable, 502),  # RFC 9110 §15.6.3
    (e.SourceTimeout, 504),  # RFC 9110 §15.6.5
    (e.SourceUnavailable, 503),
    (e.ProbeFailed, 422),
    (e.Cancelled, 409),
    (e.ConfigError, 500),
]


def status_for(exc: e.ReelhouseError) -> int:
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return 500


def _scrubbed(request: Request, message: str) -> str:
    """``message`` without the server's secrets (a source's reply may echo a password:
    reelhouse.redaction.Redactor), where the app has a Core."""
    core = getattr(request.app.state, "core", None)
    redactor = getattr(core, "redactor", None)
    return redactor(message) if callable(redactor) else message


#: What a user (not an admin) reads for a source that cannot be reached.
SOURCE_UNAVAILABLE = "the source is unavailable right now; try again later"
#: … for a source whose server is down (a user never reads its host or port).
SOURCE_DOWN = "the source's server cannot be reached (it is down or refuses connections); try again later"
#: … for a source whose server did not answer in time.
SOURCE_TIMEOUT = "the source's server did not answer in time; try again later"
#: … for a source whose connections are all in use.
SOURCE_BUSY = "the source is busy: all its connections are in use; try again in a few seconds"

#: (class, reason) for :func:`reason_for`, most specific first.
_REASONS: list[tuple[type[e.ReelhouseError], str]] = [
    (e.SeekRefused, "seek_too_far"),
    (e.QueueFull, "queue_full"),
    (e.SourceBusy, "source_busy"),
    (e.ServiceBusy, "encoder_limit"),
    (e.SourceUnreachable, "source_down"),
    (e.SourceTimeout, "source_timeout"),
    (e.SourceUnavailable, "source_unavailable"),
]


def reason_for(exc: e.ReelhouseError) -> str | None:
    """The ``reason`` of an error answer (see the module's table), None for errors
    that are not a source's or a capacity limit's."""
    for cls, reason in _REASONS:
        if isinstance(exc, cls):
            return reason
    return None


def error_body(message: str, exc: e.ReelhouseError) -> dict[str, str]:
    """``{"detail": message}``, with ``"reason"`` when :func:`reason_for` has one."""
    reason = reason_for(exc)
    return {"detail": message} if reason is None else {"detail": message, "reason": reason}


def error_headers(exc: e.ReelhouseError) -> dict[str, str]:
    """Headers an error answer carries: Content-Range of a 416 (RFC 9110 §15.5.17),
    Retry-After of a 503/429 (RFC 9110 §10.2.3)."""
    headers: dict[str, str] = {}
    if isinstance(exc, e.RangeNotSatisfiable):
        headers = {"content-range": f"bytes */{exc.size}", "accept-ranges": "bytes"}
    if isinstance(exc, e.ServiceBusy):
        headers["retry-after"] = "5"
    if isinstance(exc, e.SourceBusy):
        headers["retry-after"] = str(exc.retry_after)
    if isinstance(exc, e.TooManyRequests):
        headers["retry-after"] = str(exc.retry_after)
    return headers


def public_message(request: Request, exc: e.ReelhouseError) -> str:
    """The message an error answer shows: a source's failure names the server (host,
    port, its reply), which only an admin reads (``GET /api/sources`` hides a source's
    host from users, too); a user reads what kind of failure it was."""
    if isinstance(exc, e.SourceUnavailable | e.SourceLoginRefused) and not _admin(request):
        if isinstance(exc, e.SourceBusy):
            return exc.message if exc.public else SOURCE_BUSY
        if isinstance(exc, e.SourceUnreachable):
            return SOURCE_DOWN
        if isinstance(exc, e.SourceTimeout):
            return SOURCE_TIMEOUT
        return SOURCE_UNAVAILABLE
    return exc.message


def _admin(request: Request) -> bool:
    """Whether the request was made by an admin (its identity is resolved by then;
    a playback-token request, which has none, counts as a user's)."""
    identity = getattr(request.state, "identity", None)
    return bool(identity is not None and identity.user.is_admin)


#: The answer to a request whose client left before its body was whole (nobody reads it).
CLIENT_GONE = "the connection closed before the request body was complete"


def _not_json(request: Request, exc: RequestValidationError) -> str | None:
    """The 415 message when a JSON route's body came with another declared type
    (FastAPI parses JSON only when ``Content-Type`` says so, and then reports the body as
    "not a valid dictionary"); ``None`` otherwise. RFC 9110 §15.5.16."""
    declared = request.headers.get("content-type")
    if not declared:
        return None
    media = declared.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return None
    whole_body = [err for err in exc.errors() if tuple(err.get("loc", ())) == ("body",)]
    if not whole_body or any(err.get("type") not in ("model_attributes_type", "dict_type", "list_type")
                             for err in whole_body):
        return None
    return f"this request takes a JSON body (Content-Type: application/json), not {media!r}"


_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
#: The first element of a validation error's ``loc``: where the value came from.
_PLACES = ("body", "query", "path", "header", "cookie")


def _field(loc: object) -> str:
    """The field a validation error names ("port", "items.0.name"), without the place
    it came from: only the first element is a place, so a field called ``path`` or
    ``query`` keeps its name (``("body", "path")`` → "path"; it was dropped, which left
    "String should have at most 4096 characters" naming no field)."""
    parts = list(loc) if isinstance(loc, list | tuple) else []
    if parts and parts[0] in _PLACES:
        parts = parts[1:]
    return ".".join(str(p) for p in parts)


def _not_form(request: Request) -> str | None:
    """The 415 message when a form route's body came as another type (a script's
    ``json=``), which FastAPI reports as every form field "Field required"; ``None``
    otherwise. A route with a file takes ``multipart/form-data`` (RFC 7578). RFC 9110
    §15.5.16."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    infos = [getattr(p, "field_info", None) for p in getattr(dependant, "body_params", None) or ()]
    if not any(isinstance(i, params.Form) for i in infos):
        return None
    declared = request.headers.get("content-type", "")
    media = declared.split(";", 1)[0].strip().lower()
    if media in _FORMS:
        return None
    wanted = "multipart/form-data" if any(isinstance(i, params.File) for i in infos) else " or ".join(_FORMS)
    sent = f"{media!r}" if media else "a body without a Content-Type"
    return f"this request takes a form ({wanted}), not {sent}"


def install_error_handlers(app: FastAPI) -> None:
    """Register handlers so no request ends in a traceback."""

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # A client that goes away mid-upload (a closed laptop, a dropped link) is an
        # everyday event: a 400 for the log and the metrics, not a 500 and a traceback.
        log.debug("%s %s: %s", request.method, request.url.path, CLIENT_GONE)
        return JSONResponse({"detail": CLIENT_GONE}, status_code=400)

    @app.exception_handler(e.ReelhouseError)
    async def _domain(request: Request, exc: e.ReelhouseError) -> JSONResponse:
        code = status_for(exc)
        headers = error_headers(exc)
        if code == 401:
            headers["www-authenticate"] = "Bearer"
        return JSONResponse(error_body(_scrubbed(request, public_message(request, exc)), exc),
                            status_code=code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        wrong_type = _not_json(request, exc) or _not_form(request)
        if wrong_type is not None:
            return JSONResponse({"detail": wrong_type}, status_code=415)
        problems = []
        for err in exc.errors():
            loc = _field(err.get("loc", ()))
            msg = err.get("msg")
            if err.get("type") == "extra_forbidden":
                msg = "unknown field"
            elif "Expected UploadFile" in str(msg):  # a text form field where a file goes
                msg = "send a file (a multipart part with a file name), not a text field"
            problems.append(f"{loc}: {msg}" if loc else str(msg))
        return JSONResponse({"detail": "; ".join(problems) or "invalid request"}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error"}, status_code=500)
