"""What the naming tests' tables share (test_naming_*.py): a table of ``(path,
expected)`` rows as pytest parameters named by their paths, and the two checks of a
row: every field of :class:`~reelhouse.library.naming.Parsed`, or only those it names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from reelhouse.library.naming import Parsed, parse_media_path

#: one row: a path and the Parsed fields expected of it
Case = tuple[str, dict[str, object]]


def by_path(table: Sequence[tuple[str, Any]]) -> pytest.MarkDecorator:
    """``table``'s rows as the ``path`` and ``expected`` arguments of a test, one test a
    row, named by its path."""
    return pytest.mark.parametrize(("path", "expected"), table, ids=[p for p, _ in table])


def assert_parsed(path: str, expected: dict[str, object]) -> None:
    """``path`` parses to exactly ``expected`` (the fields it does not name: defaults)."""
    assert parse_media_path(path) == Parsed(**expected)  # type: ignore[arg-type]


def assert_fields(path: str, expected: dict[str, object]) -> None:
    """``path`` parses to ``expected`` in the fields it names (the others: anything)."""
    parsed = parse_media_path(path)
    assert {k: getattr(parsed, k) for k in expected} == expected, parsed
