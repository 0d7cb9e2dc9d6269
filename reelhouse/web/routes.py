"""Web UI routes (placeholder until the UI lands)."""

from __future__ import annotations

from fastapi import FastAPI


def install_web(app: FastAPI) -> None:
    """Mount the UI pages and static files on ``app``."""
    return None
