"""The Jinja2 environment of the UI (autoescape on, formatting filters) and ``render``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from reelhouse.web.format import FILTERS

__all__ = ["TEMPLATE_DIR", "make_templates", "render"]

TEMPLATE_DIR = Path(__file__).parent / "templates"


def make_templates() -> Jinja2Templates:
    """Templates from ``reelhouse/web/templates`` with every value HTML-escaped."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(FILTERS)
    return Jinja2Templates(env=env)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render template ``name`` with ``context`` (plus ``request``); ``user`` defaults to None."""
    templates: Jinja2Templates = request.app.state.web_templates
    context.setdefault("user", None)
    context.setdefault("nav", "")
    session = request.cookies.get("reelhouse_session")
    # the session's CSRF token for forms (reelhouse/api/security.py); "" when logged out
    context.setdefault("csrf_token", request.app.state.core.signer.csrf_token(session) if session else "")
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers.setdefault("cache-control", "no-store")
    return response
