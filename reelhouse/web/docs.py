"""``GET /docs``: the OpenAPI explorer (Swagger UI) from vendored files under
``/static/vendor/swagger-ui`` (swagger-ui-dist 5.35.0 from the npm registry, Apache-2.0)
— no CDN, and no inline script, so it runs under the app's Content-Security-Policy."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>reelhouse API</title>
  <link rel="icon" href="{static}/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{static}/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{openapi}"></div>
  <script src="{static}/vendor/swagger-ui/swagger-ui-bundle.js"></script>
  <script src="{static}/docs.js"></script>
</body>
</html>
"""


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    """The API explorer; it reads ``/openapi.json`` (try requests with the session cookie)."""
    static = str(request.url_for("static", path="")).rstrip("/")
    openapi = request.app.openapi_url or "/openapi.json"
    return HTMLResponse(_PAGE.format(static=static, openapi=openapi))
