"""JSON answers for the hot read routes (issue 14): the value is validated by its
schema once and written to bytes by pydantic-core, and the route returns the
:class:`~starlette.responses.Response` itself, so FastAPI neither validates it a
second time (in another thread-pool hop) nor encodes it with ``json.dumps``. The
route keeps ``response_model=`` for the OpenAPI schema; the bytes are the ones
FastAPI would have written (same model, field order and JSON modes)."""

from __future__ import annotations

import threading
from typing import Any

from pydantic import TypeAdapter
from starlette.responses import Response

__all__ = ["json_response"]

_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}
_LOCK = threading.Lock()


def _adapter(schema: Any) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(schema)
    if adapter is None:
        with _LOCK:
            adapter = _ADAPTERS.setdefault(schema, TypeAdapter(schema))
    return adapter


def json_response(schema: Any, value: Any, status_code: int = 200) -> Response:
    """``value`` (dicts, ORM rows or dataclasses with the schema's attributes, or
    instances of it) as ``schema`` (a pydantic model or a type such as
    ``Page[GridItemPublic]``), in a JSON response."""
    adapter = _adapter(schema)
    body = adapter.dump_json(adapter.validate_python(value, from_attributes=True))
    return Response(body, status_code=status_code, media_type="application/json")
