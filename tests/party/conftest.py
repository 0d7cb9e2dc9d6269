"""Fixtures of the party tests: a media file row and two more users (sam, alex)."""

from __future__ import annotations

import pytest
from party.support import USERS, add_media_file

from reelhouse.core import Core


@pytest.fixture
def media_id(core: Core) -> int:
    for name, password in USERS.items():
        core.users.add(name, password)
    return add_media_file(core)
