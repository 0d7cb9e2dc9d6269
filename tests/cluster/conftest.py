"""The two-node tests' fixture: a PostgreSQL schema of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cluster.support import PG_URL

from helpers import postgres_schema


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh schema of ``$REELHOUSE_TEST_POSTGRES_URL`` (named after the test's module),
    dropped after the test; the URL that puts it first on the search path."""
    with postgres_schema(PG_URL, f"rh_{request.module.__name__.rsplit('.', 1)[-1][5:]}") as url:
        yield url
