"""Query and body arguments the way Jellyfin clients send them (pure, no I/O).

Names are matched case-insensitively (``ParentId``, ``parentId``, ``parentid``);
booleans arrive as ``True``/``true``/``1``; lists comma-separated or as repeated keys;
enum values in any case. Unknown names are ignored, as the Jellyfin server does
(ASP.NET model binding). A value that cannot be read (``Limit=abc``) is InvalidInput.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from reelhouse.errors import InvalidInput

__all__ = ["Args", "body_args"]

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


class Args:
    """Case-insensitive access to query arguments (``items``: (name, value) pairs)."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in items:
            self._values.setdefault(name.lower(), []).append(value)

    def has(self, name: str) -> bool:
        return bool(self.text(name))

    def text(self, name: str, max_length: int = 1024) -> str | None:
        """The last non-empty value of ``name``, or None; over ``max_length`` characters
        is InvalidInput."""
        values = [v for v in self._values.get(name.lower(), []) if v != ""]
        if not values:
            return None
        if len(values[-1]) > max_length:
            raise InvalidInput(f"{name} is too long (at most {max_length} characters)")
        return values[-1]

    def number(self, name: str, default: int | None = None, lo: int = 0, hi: int = 2**62, *,
               decimal: bool = False) -> int | None:
        """An integer in ``lo..hi``; with ``decimal``, any number in that range too
        (``1.5e6``; its integer part is returned). InvalidInput otherwise."""
        text = self.text(name, 32)
        if text is None:
            return default
        try:
            value = float(text) if decimal else int(text)
        except ValueError as exc:
            raise InvalidInput(f"{name} must be {'a number' if decimal else 'an integer'}, not {text!r}") from exc
        if not lo <= value <= hi:  # also NaN
            raise InvalidInput(f"{name} must be between {lo} and {hi}")
        return int(value)

    def flag(self, name: str, default: bool | None = None) -> bool | None:
        text = self.text(name, 8)
        if text is None:
            return default
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise InvalidInput(f"{name} must be true or false, not {text!r}")

    def date(self, name: str) -> datetime | None:
        """An ISO 8601 date/time (``2024-05-01T12:00:00.0000000Z``, ``2024-05-01``), UTC
        when it names no zone (as Jellyfin reads it: ``ToUniversalTime``); anything
        else is InvalidInput."""
        text = self.text(name, 40)
        if text is None:
            return None
        try:
            value = datetime.fromisoformat(text[:19])
        except ValueError as exc:
            raise InvalidInput(f"{name} must be an ISO 8601 date, not {text!r}") from exc
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value

    def values(self, name: str, max_items: int = 200) -> list[str]:
        """Comma-separated and/or repeated values, stripped, empty ones dropped."""
        out = [part.strip() for value in self._values.get(name.lower(), [])
               for part in value.split(",") if part.strip()]
        if len(out) > max_items:
            raise InvalidInput(f"{name} has too many values (at most {max_items})")
        return out

    def lower_set(self, name: str) -> set[str]:
        """A list argument as a set of lowercase names (enums in any case)."""
        return {v.lower() for v in self.values(name)}


def body_args(body: Any) -> Args:
    """A JSON object body as :class:`Args` (keys case-insensitive; scalar values as text;
    lists joined with commas). Anything but an object is InvalidInput."""
    if body is None:
        return Args([])
    if not isinstance(body, Mapping):
        raise InvalidInput("the request body must be a JSON object")
    items: list[tuple[str, str]] = []
    for key, value in body.items():
        if isinstance(value, bool):
            items.append((str(key), "true" if value else "false"))
        elif isinstance(value, int | float | str):
            items.append((str(key), str(value)))
        elif isinstance(value, list) and all(isinstance(v, str | int) for v in value):
            items.append((str(key), ",".join(str(v) for v in value)))
    return Args(items)
