"""Keys for several nodes (issue 14): the signing and password-encryption keys come from
settings or a secrets file, not one node's data dir, so a node accepts another's tokens
and reads the FTP passwords another stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.errors import AuthenticationFailed, ConfigError
from reelhouse.sources.registry import SourceSpec


def _nodes(tmp_path: Path, **keys: object) -> tuple[Core, Core]:
    db = f"sqlite:///{tmp_path / 'shared.db'}"
    a = Core(load_settings(data_dir=tmp_path / "a", database_url=db, **keys))
    b = Core(load_settings(data_dir=tmp_path / "b", database_url=db, **keys))
    return a, b


def test_nodes_with_shared_keys_accept_each_others_tokens_and_passwords(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "signing").write_text("a signing key of the cluster, 32+ characters long\n")
    a, b = _nodes(tmp_path, signing_key_file=secrets / "signing", fernet_key=Fernet.generate_key().decode())
    try:
        user = a.users.add("alice", "alice-password")
        assert b.signer.check_playback(a.signer.playback(user.id, 7, "s:1"), 7).user_id == user.id
        row = a.sources.create(SourceSpec(name="ftp", kind="ftp", host="ftp.example", password="s3cret"))
        assert b.sources.password(b.sources.get(row.id)) == "s3cret"
        assert not (tmp_path / "a" / "signing.key").exists()  # nothing of one node's own
        assert not (tmp_path / "b" / "fernet.key").exists()
    finally:
        a.close()
        b.close()


def test_nodes_with_their_own_keys_do_not(tmp_path: Path) -> None:
    a, b = _nodes(tmp_path)
    try:
        token = a.signer.playback(1, 7, "s:1")
        with pytest.raises(AuthenticationFailed):
            b.signer.check_playback(token, 7)
    finally:
        a.close()
        b.close()


def test_bad_keys_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 32 characters"):
        load_settings(data_dir=tmp_path, signing_key="short").secret("signing")
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(data_dir=tmp_path, fernet_key_file=tmp_path / "nope").secret("fernet")
