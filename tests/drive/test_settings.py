"""The drive's --config file: INI and TOML, defaults, one-line errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from drive.support import run_cli

from reelhouse.drive.settings import DriveSettings, load_file
from reelhouse.errors import ConfigError

INI = """
[ftp]
host = seedbox.example
port = 2121
username = me
password = s3cret
passive_mode = true

[mount]
mount_point = /mnt/films
volume_label = Films
read_only = yes
view = files

[cache]
enabled = true
directory_ttl_seconds = 30
metadata_ttl_seconds = 60
data_cache_mb = 256

[connection]
timeout_seconds = 30
retry_attempts = 3
retry_delay_seconds = 1
keepalive_interval_seconds = 60

[logging]
level = info
file = /tmp/drive.log
console = false
"""

TOML = """
[ftp]
host = "seedbox.example"
port = 2121
[cache]
directory_ttl_seconds = 5.5
[mount]
read_only = true
"""


def test_ini_and_toml(tmp_path: Path) -> None:
    (tmp_path / "drive.ini").write_text(INI)
    s = load_file(tmp_path / "drive.ini")
    assert (s.host, s.port, s.username, s.password, s.read_only) == ("seedbox.example", 2121, "me", "s3cret", True)
    assert (s.data_cache_mb, s.log_level, s.log_console, s.volume_label) == (256, "info", False, "Films")
    (tmp_path / "drive.toml").write_text(TOML)
    t = load_file(tmp_path / "drive.toml")
    assert (t.host, t.port, t.directory_ttl_seconds, t.metadata_ttl_seconds) == ("seedbox.example", 2121, 5.5, 60.0)
    assert t.override(port=21, host=None).port == 21 and t.override(host=None).host == "seedbox.example"
    assert DriveSettings().directory_ttl_seconds == 30.0


def _refused(path: Path, text: str) -> str:
    """The message of the ConfigError that loading ``path``, holding ``text``, raises."""
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_file(path)
    return info.value.message


@pytest.mark.parametrize(("text", "message"), [
    ("[ftp]\nhots = x\n", "ftp.hots: unknown key"),
    ("[ftp]\nport = 99999\n", "ftp.port: must be a whole number from 1 to 65535, got '99999'"),
    ("[cache]\ndirectory_ttl_seconds = soon\n", "cache.directory_ttl_seconds: must be a finite number >= 0"),
    ("[cache]\ndirectory_ttl_seconds = nan\n", "cache.directory_ttl_seconds: must be a finite number >= 0"),
    ("[connection]\ntimeout_seconds = inf\n", "connection.timeout_seconds: must be a finite number >= 0.1"),
    ("[mount]\nview = tree\n", "mount.view: must be one of files, library"),
    ("[mount]\nread_only = maybe\n", "mount.read_only: must be true or false"),
    ("[ftp]\npassive_mode = false\n", "ftp.passive_mode: active mode"),
    ("[disk]\nx = 1\n", "unknown section 'disk'"),
    ("[connection]\nretry_attempts = 0\n", "connection.retry_attempts"),
])
def test_bad_keys_and_values_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    error = _refused(tmp_path / "drive.ini", text)
    assert message in error and "\n" not in error


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "d.toml").write_text("[ftp\nhost=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_file(tmp_path / "d.toml")
    with pytest.raises(ConfigError, match="cannot read"):
        load_file(tmp_path / "missing.ini")


def test_toml_values_of_the_wrong_type_are_refused(tmp_path: Path) -> None:
    for text, message in (("[ftp]\nhost = 5\n", "ftp.host: must be a host name or address"),
                          ('[ftp]\nhost = ""\n', "ftp.host: must be a host name or address"),
                          ('[ftp]\nhost = "a b"\n', "ftp.host: must be a host name or address")):
        (tmp_path / "d.toml").write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_file(tmp_path / "d.toml")


def test_toml_nan_and_inf_are_refused(tmp_path: Path) -> None:
    # TOML has nan and inf floats: a TTL of nan compares false with everything
    for value in ("nan", "inf", "-inf"):
        (tmp_path / "d.toml").write_text(f"[cache]\nmetadata_ttl_seconds = {value}\n")
        with pytest.raises(ConfigError, match=r"cache\.metadata_ttl_seconds: must be a finite number"):
            load_file(tmp_path / "d.toml")


@pytest.mark.parametrize(("text", "message"), [
    ('host = "ftp.example"\n[mount]\nview = "files"\n', "host: a key outside any section (it belongs under [ftp])"),
    ("bogus = 1\n", "bogus: a key outside any section (sections: ftp, mount"),
    ("mount = 1\n", "mount: must be a section, not a value"),
])
def test_a_toml_key_above_every_section_names_its_section(tmp_path: Path, text: str, message: str) -> None:
    """A key written before any ``[section]`` is not called an unknown section."""
    error = _refused(tmp_path / "drive.toml", text)
    assert error.startswith(message) and "\n" not in error


@pytest.mark.parametrize(("text", "message"), [
    ("[DEFAULT]\nretry_attempts = 5\n[ftp]\nhost = x\n",
     "DEFAULT.retry_attempts: the [DEFAULT] section is not read (put the key under [connection])"),
    ("[DEFAULT]\nhost = x\n", "DEFAULT.host: the [DEFAULT] section is not read (put the key under [ftp])"),
    ("[ftp]\nhost = x\n[DEFAULT]\nbogus = 1\n",
     "DEFAULT.bogus: the [DEFAULT] section is not read (sections: ftp, mount"),
])
def test_an_ini_default_section_is_named_as_such(tmp_path: Path, drive_env: dict[str, str], text: str,
                                                 message: str) -> None:
    """configparser copies [DEFAULT] keys into every section: a key there was reported as
    ``ftp.<key>`` (or, with no other section, silently dropped)."""
    path = tmp_path / "drive.ini"
    error = _refused(path, text)
    assert error.startswith(message) and "\n" not in error
    (tmp_path / "mp").mkdir()
    done = run_cli(drive_env, "drive", "mount", str(tmp_path / "mp"), "--config", str(path), timeout=30)
    assert done.returncode != 0 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
