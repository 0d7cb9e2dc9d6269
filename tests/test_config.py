"""Tests for reelhouse.config: environment, TOML file, precedence, and errors that name
the setting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reelhouse.config import Settings, load_settings
from reelhouse.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No REELHOUSE_* setting from the outside world leaks into these tests."""
    for name in list(os.environ):
        if name.startswith("REELHOUSE_"):
            monkeypatch.delenv(name)


def test_defaults(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path)
    assert (s.host, s.port, s.ftp_pool_size, s.log_level) == ("127.0.0.1", 8420, 5, "INFO")
    assert s.db_url == f"sqlite:///{tmp_path / 'reelhouse.db'}"
    assert s.playback_token_ttl == 6 * 3600


@pytest.mark.parametrize(
    ("env", "value", "field"),
    [
        ("REELHOUSE_PORT", "abc", "port"),
        ("REELHOUSE_PORT", "70000", "port"),
        ("REELHOUSE_PORT", "-1", "port"),
        ("REELHOUSE_LOG_LEVEL", "loud", "log_level"),
        ("REELHOUSE_FTP_POOL_SIZE", "0", "ftp_pool_size"),
        ("REELHOUSE_FTP_POOL_SIZE", "1000", "ftp_pool_size"),
        ("REELHOUSE_FTP_CONNECT_TIMEOUT", "-3", "ftp_connect_timeout"),
        ("REELHOUSE_FTP_READ_TIMEOUT", "soon", "ftp_read_timeout"),
        ("REELHOUSE_PLAYBACK_TOKEN_TTL", "5", "playback_token_ttl"),
        ("REELHOUSE_SESSION_TTL", "1.5", "session_ttl"),
        ("REELHOUSE_PROBE_BUDGET_BYTES", "10", "probe_budget_bytes"),
        ("REELHOUSE_DATABASE_URL", "mysql://x/y", "database_url"),
    ],
)
def test_invalid_env_names_the_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                       env: str, value: str, field: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        load_settings(data_dir=tmp_path)
    assert field in str(info.value) and env in str(info.value)


def test_env_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REELHOUSE_PORT", "9000")
    monkeypatch.setenv("REELHOUSE_LOG_LEVEL", "debug")
    monkeypatch.setenv("REELHOUSE_FTP_POOL_SIZE", "2")
    monkeypatch.setenv("REELHOUSE_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("REELHOUSE_DATABASE_URL", "postgresql+psycopg://u:p@h/db")
    s = load_settings()
    assert (s.port, s.log_level, s.ftp_pool_size) == (9000, "DEBUG", 2)
    assert s.data_dir == tmp_path / "d"
    assert s.db_url == "postgresql+psycopg://u:p@h/db"


def test_keyword_arguments_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REELHOUSE_PORT", "9000")
    assert load_settings(data_dir=tmp_path, port=9100).port == 9100
    with pytest.raises(ConfigError, match="port"):
        load_settings(data_dir=tmp_path, port=-5)
    with pytest.raises(ConfigError, match="no_such_setting"):
        load_settings(data_dir=tmp_path, no_such_setting=1)


def test_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    toml = tmp_path / "reelhouse.toml"
    toml.write_text(f'port = 9300\nlog_level = "warning"\nftp_pool_size = 3\n'
                    f'data_dir = "{tmp_path / "from-toml"}"\n')
    monkeypatch.setenv("REELHOUSE_CONFIG", str(toml))
    s = load_settings()
    assert (s.port, s.log_level, s.ftp_pool_size) == (9300, "WARNING", 3)
    assert s.data_dir == tmp_path / "from-toml"
    monkeypatch.setenv("REELHOUSE_PORT", "9301")  # the environment beats the file
    assert load_settings().port == 9301
    assert load_settings(port=9302).port == 9302  # keywords beat both


def test_missing_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REELHOUSE_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="REELHOUSE_CONFIG"):
        load_settings(data_dir=tmp_path)
    monkeypatch.setenv("REELHOUSE_CONFIG", str(tmp_path))  # a folder is not a file
    with pytest.raises(ConfigError, match="REELHOUSE_CONFIG") as info:
        load_settings(data_dir=tmp_path)
    # it exists: "no such file" sent the user looking for a typo in the path
    assert "is a folder" in str(info.value) and "no such file" not in str(info.value)
    assert str(tmp_path) in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_toml_file_is_a_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A settings file the server's user may not read was a PermissionError traceback."""
    toml = tmp_path / "reelhouse.toml"
    toml.write_text("port = 9000\n")
    toml.chmod(0)
    monkeypatch.setenv("REELHOUSE_CONFIG", str(toml))
    with pytest.raises(ConfigError, match="REELHOUSE_CONFIG: cannot read") as info:
        load_settings(data_dir=tmp_path)
    assert str(toml) in str(info.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("port = ", "settings file"),  # TOML syntax error
        ('port = "abc"', "port"),
        ('log_level = "loud"', "log_level"),
        ("unknown_key = 1", "unknown_key"),
        ("ftp_pool_size = 0", "ftp_pool_size"),
    ],
)
def test_bad_toml_is_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str,
                                  needle: str) -> None:
    toml = tmp_path / "bad.toml"
    toml.write_text(text + "\n")
    monkeypatch.setenv("REELHOUSE_CONFIG", str(toml))
    with pytest.raises(ConfigError) as info:
        load_settings(data_dir=tmp_path)
    assert needle in str(info.value)
    assert str(toml) in str(info.value)  # the file is named: the user knows where to look


def test_secret_is_persistent_and_private(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path / "data")
    key = s.secret("signing")
    assert len(key) == 32 and s.secret("signing") == key
    assert s.secret("other", 16) != key and len(s.secret("other", 16)) == 16
    assert (tmp_path / "data" / "signing.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700

def test_repr_has_no_secrets(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://user:hunter2@db/x")
    text = repr(s)
    assert "data_dir" in text
    assert "hunter2" not in text


@pytest.mark.parametrize("name", ["redis_url", "party_redis_url"])
@pytest.mark.parametrize("url", ["127.0.0.1:6379", "http://:s3cret-pw@x/0", "redis://:s3cret-pw@127.0.0.1:99999/0"])
def test_a_bad_redis_url_is_a_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                           name: str, url: str) -> None:
    """A Redis URL without its scheme or with a port past 65535 passed the settings and
    every command then died with redis-py's ValueError traceback when the Core was
    made; it is a settings error naming the setting (and not the password)."""
    monkeypatch.setenv(f"REELHOUSE_{name.upper()}", url)
    with pytest.raises(ConfigError) as info:
        load_settings(data_dir=tmp_path)
    assert name in str(info.value) and "s3cret" not in str(info.value)
    monkeypatch.setenv(f"REELHOUSE_{name.upper()}", "redis://127.0.0.1:6379/0")
    assert getattr(load_settings(data_dir=tmp_path), name) == "redis://127.0.0.1:6379/0"


def test_a_library_store_that_cannot_be_made_is_a_config_error(tmp_path: Path) -> None:
    """A ``library_store`` under a file (or in /proc) was a FileNotFoundError traceback
    from every command; a database URL with a broken IPv6 host a ValueError one. Both
    are settings errors naming the setting (and not the database password)."""
    from reelhouse.core import Core

    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="library_store"):
        Core(load_settings(data_dir=tmp_path / "data", library_store=tmp_path / "file/store"), consume_jobs=False)
    with pytest.raises(ConfigError, match="database_url") as info:
        load_settings(data_dir=tmp_path, database_url="postgresql+psycopg://u:s3cret-pw@[::1/x")
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize(("url", "problem"), [
    ("media.example.org", "http:// or https://"),  # no scheme
    ("ftp://media.example.org", "http:// or https://"),
    ("https://media.example.org/reelhouse", "without a path"),
    ("https://media.example.org/?x=1", "without a path"),
    ("https://media example.org", "space"),
    ("https://media.example.org:99999", "port"),
    ("https://user:pw@media.example.org", "host name"),
    ("https://", "host name"),
    ("", "empty"),
])
def test_a_bad_public_url_is_a_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                            url: str, problem: str) -> None:
    """A public URL without its scheme, with a path or a space passed the settings and
    was then ignored: every cookie-authenticated change from that address was refused
    as cross-site (403) with nothing pointing at the setting. It is a settings error
    at start naming the key and the URL, from the TOML file and from the environment."""
    toml = tmp_path / "reelhouse.toml"
    toml.write_text(f"public_urls = [{url!r}]\n".replace("'", '"'))
    monkeypatch.setenv("REELHOUSE_CONFIG", str(toml))
    with pytest.raises(ConfigError) as info:
        load_settings(data_dir=tmp_path)
    assert "public_urls" in str(info.value) and problem in str(info.value), str(info.value)
    monkeypatch.delenv("REELHOUSE_CONFIG")
    monkeypatch.setenv("REELHOUSE_PUBLIC_URLS", f"https://ok.example.org, {url}" if url else "[\"\"]")
    with pytest.raises(ConfigError) as info:
        load_settings(data_dir=tmp_path)
    assert "public_urls (REELHOUSE_PUBLIC_URLS)" in str(info.value) and problem in str(info.value), str(info.value)


def test_good_public_urls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Origins with a port, an IPv6 host, a trailing slash; in the environment a JSON
    list or URLs separated by commas (a plain URL was "error parsing value")."""
    good = ["https://media.example.org/", "http://192.168.1.5:8420", "http://[::1]:8420", "HTTPS://Media.Example.org"]
    assert load_settings(data_dir=tmp_path, public_urls=good).public_urls == [
        "https://media.example.org", "http://192.168.1.5:8420", "http://[::1]:8420", "HTTPS://Media.Example.org"]
    monkeypatch.setenv("REELHOUSE_PUBLIC_URLS", "https://a.example.org")
    assert load_settings(data_dir=tmp_path).public_urls == ["https://a.example.org"]
    monkeypatch.setenv("REELHOUSE_PUBLIC_URLS", "https://a.example.org, http://b.example.org:8420")
    assert load_settings(data_dir=tmp_path).public_urls == ["https://a.example.org", "http://b.example.org:8420"]
    monkeypatch.setenv("REELHOUSE_PUBLIC_URLS", '["https://a.example.org"]')
    assert load_settings(data_dir=tmp_path).public_urls == ["https://a.example.org"]
    monkeypatch.setenv("REELHOUSE_PUBLIC_URLS", '["https://a.example.org"')
    with pytest.raises(ConfigError, match=r"public_urls.*JSON list"):
        load_settings(data_dir=tmp_path)


#: The settings that are lengths of time (seconds, minutes, days), by their names' ends.
DURATIONS = [name for name, f in Settings.model_fields.items() if f.annotation in (int, float)
             and name.endswith(("ttl", "timeout", "delay", "days", "minutes", "seconds", "backoff_max", "lease"))]


def _upper(name: str) -> float:
    bounds = [m.le for m in Settings.model_fields[name].metadata if hasattr(m, "le")]
    assert bounds, f"{name} has no upper bound"
    return float(bounds[0])


@pytest.mark.parametrize("name", DURATIONS)
@pytest.mark.parametrize("value", ["inf", "nan", "100000000000000"])
def test_a_duration_past_any_use_is_a_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                   name: str, value: str) -> None:
    """Found by a careless-admin probe: ``session_ttl=1e14`` made every login a 500,
    ``session_idle_ttl=1e14`` every request; ``audit_retention_days`` and
    ``tmdb_cache_ttl`` that large stopped the server at start with an OverflowError
    traceback; ``ftp_read_timeout=inf`` failed every FTP operation ("timeout doesn't fit
    into C timeval"). Each is now a ConfigError naming the setting (an int setting
    refuses inf and nan as not a whole number)."""
    env = f"REELHOUSE_{name.upper()}"
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        load_settings(data_dir=tmp_path)
    assert name in str(info.value) and env in str(info.value)


def test_every_duration_at_its_upper_bound_works(tmp_path: Path) -> None:
    """The longest lengths of time a setting takes still log in, audit, play and
    schedule a transfer's last retry (no date past year 9999, no socket timeout past
    what the C library takes)."""
    from datetime import timedelta

    from fastapi.testclient import TestClient

    from reelhouse.core import Core
    from reelhouse.db.models import utcnow
    from reelhouse.server import create_app
    from reelhouse.transfers.runner import backoff

    longest = {name: (int if Settings.model_fields[name].annotation is int else float)(_upper(name))
               for name in DURATIONS}
    media = tmp_path / "media"
    media.mkdir()
    (media / "Sintel.2010.mkv").write_bytes(b"x" * 1000)
    core = Core(load_settings(data_dir=tmp_path / "data", **longest))
    try:
        core.users.add("admin", "admin-password", is_admin=True)
        with TestClient(create_app(core)) as c:
            r = c.post("/api/auth/login", json={"username": "admin", "password": "admin-password"})
            assert r.status_code == 200, r.text
            c.headers["authorization"] = f"Bearer {r.json()['token']}"
            sid = c.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(media)}).json()["id"]
            core.jobs.run_scan_now(sid)
            fid = c.get("/api/library/media-files").json()["items"][0]["id"]
            url = c.post(f"/api/library/media-files/{fid}/playback", json={}).json()["url"]
            assert c.get(url, headers={"range": "bytes=0-9"}).content == b"x" * 10
            assert c.get("/api/audit").status_code == 200
        for attempt in range(1, core.settings.transfer_retries + 2):
            utcnow() + timedelta(seconds=2 * core.settings.transfer_retry_delay * 2 ** (attempt - 1))
            backoff(attempt, core.settings.transfer_retry_delay)
    finally:
        core.close()


@pytest.mark.parametrize("where", ["data", ".", "data/.."])
def test_a_library_store_holding_the_data_dir_is_a_config_error(tmp_path: Path, where: str) -> None:
    """``library_store`` set to the data dir (or a folder above it: "everything in
    /data") put the database and the keys in the store, where a download's
    ``local_path`` (``reelhouse.db``, ``signing.key``) or a source's folder (one named
    ``hls``) could overwrite them. A store inside the data dir, like the default, is fine."""
    from reelhouse.core import Core

    with pytest.raises(ConfigError, match="library_store") as info:
        Core(load_settings(data_dir=tmp_path / "data", library_store=tmp_path / where), consume_jobs=False)
    assert "data dir" in str(info.value)
    Core(load_settings(data_dir=tmp_path / "data", library_store=tmp_path / "data/films"), consume_jobs=False).close()
    Core(load_settings(data_dir=tmp_path / "data", library_store=tmp_path / "films"), consume_jobs=False).close()


@pytest.mark.parametrize(("env", "value", "field", "problem"), [
    ("REELHOUSE_HLS_PRESET", "superfst", "hls_preset", "ultrafast, superfast, veryfast"),
    ("REELHOUSE_HLS_PRESET", "", "hls_preset", "x264's presets"),
    ("REELHOUSE_TMDB_BASE_URL", "api.themoviedb.org/3", "tmdb_base_url", "http:// or https://"),
    ("REELHOUSE_TMDB_BASE_URL", "https://", "tmdb_base_url", "with a host"),
    ("REELHOUSE_TMDB_IMAGE_BASE_URL", "image.tmdb.org/t/p", "tmdb_image_base_url", "http:// or https://"),
    ("REELHOUSE_TMDB_IMAGE_BASE_URL", "https://image.tmdb.org:99999/t/p", "tmdb_image_base_url", "port"),
])
def test_a_value_that_fails_later_stops_the_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                  env: str, value: str, field: str, problem: str) -> None:
    """An x264 preset that is not one, or a TMDB URL without a scheme or host, passed
    the settings: every HLS transcode was then a 502 "x264 [error]: invalid preset", every
    TMDB lookup an error in each scan. Each is a settings error at start naming the key
    (found by an outside-in hunt)."""
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        load_settings(data_dir=tmp_path)
    assert field in str(info.value) and env in str(info.value) and problem in str(info.value), str(info.value)


def test_good_presets_and_tmdb_urls(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path, hls_preset="VeryFast", tmdb_base_url="http://127.0.0.1:8080/3/",
                      tmdb_image_base_url="https://image.tmdb.org/t/p")
    assert (s.hls_preset, s.tmdb_base_url) == ("veryfast", "http://127.0.0.1:8080/3")
    assert load_settings(data_dir=tmp_path).hls_preset == "superfast"


def test_a_data_dir_whose_store_cannot_be_made_names_the_data_dir(tmp_path: Path) -> None:
    """With no ``library_store`` set, a data dir where its ``library`` folder cannot be
    made (read-only, a file in the way) named ``library_store (REELHOUSE_LIBRARY_STORE)``,
    a setting the user never set; it names the data dir (found by an outside-in hunt on a
    read-only mount)."""
    from reelhouse.core import Core

    data = tmp_path / "data"
    data.mkdir()
    (data / "library").write_text("x")
    with pytest.raises(ConfigError) as info:
        Core(load_settings(data_dir=data), consume_jobs=False)
    assert str(info.value) == (f"data_dir (REELHOUSE_DATA_DIR) {data}: cannot make its library folder: "
                               "File exists")


def test_trusted_proxies(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Addresses and networks, from the environment separated by commas or as a JSON
    list; a host name (not an address) is a settings error naming the key and the entry."""
    assert load_settings(data_dir=tmp_path).trusted_proxies == ["127.0.0.1", "::1"]
    monkeypatch.setenv("REELHOUSE_TRUSTED_PROXIES", "10.0.0.5, 10.1.0.0/16,fd00::/8")
    assert load_settings(data_dir=tmp_path).trusted_proxies == ["10.0.0.5", "10.1.0.0/16", "fd00::/8"]
    monkeypatch.setenv("REELHOUSE_TRUSTED_PROXIES", '["*"]')
    assert load_settings(data_dir=tmp_path).trusted_proxies == ["*"]
    monkeypatch.setenv("REELHOUSE_TRUSTED_PROXIES", "")
    assert load_settings(data_dir=tmp_path).trusted_proxies == []
    monkeypatch.setenv("REELHOUSE_TRUSTED_PROXIES", "10.0.0.5, nginx.lan")
    with pytest.raises(ConfigError, match=r"trusted_proxies.*'nginx.lan' is not an IP address"):
        load_settings(data_dir=tmp_path)
