"""The password hashes a server stores are argon2id at RFC 9106's low-memory parameters
(argon2-cffi's default: t=3, 64 MiB, p=4); the tests hash with cheaper ones
(tests/conftest.py's ``_quick_set_up``), which this test takes away first."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.profiles import RFC_9106_LOW_MEMORY

from reelhouse.auth import users

from helpers import ADMIN, ADMIN_PASSWORD, admin_core


def test_a_stored_hash_is_argon2id_at_rfc_9106_low_memory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.undo()  # the production hasher, not the tests' cheap one
    assert users._hasher.type is RFC_9106_LOW_MEMORY.type
    with admin_core(tmp_path / "data") as core:
        user = core.users.list()[0]
        assert user.name == ADMIN
        assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY).verify(user.password_hash, ADMIN_PASSWORD)
        assert not users._hasher.check_needs_rehash(user.password_hash)
        assert core.users.authenticate(ADMIN, ADMIN_PASSWORD).password_hash == user.password_hash
