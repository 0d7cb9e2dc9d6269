"""``install_web(app)``: the browser UI — static files under ``/static`` and the HTML
pages (login, library, details, player, sources settings), none of them in the OpenAPI
schema. Pages other than ``/login`` redirect (303) to ``/login?next=…`` when nobody is
logged in."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from reelhouse.web import account_pages, docs, login, pages, party_pages
from reelhouse.web.guard import LoginRequired, login_required_handler
from reelhouse.web.templating import make_templates

__all__ = ["STATIC_DIR", "install_web"]

STATIC_DIR = Path(__file__).parent / "static"


def install_web(app: FastAPI) -> None:
    """Mount the UI pages and static files on ``app``."""
    app.state.web_templates = make_templates()
    app.add_exception_handler(LoginRequired, login_required_handler)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(login.router)
    app.include_router(docs.router)
    app.include_router(account_pages.router)
    app.include_router(pages.router)
    app.include_router(party_pages.router)
