"""Settings: ``REELHOUSE_*`` environment variables and an optional TOML file.

Precedence (highest first): keyword arguments, environment (``REELHOUSE_PORT=9000``),
the TOML file named by ``REELHOUSE_CONFIG`` (keys as the field names, e.g. ``port =
9000``), defaults. :func:`load_settings` turns validation failures into
:class:`~reelhouse.errors.ConfigError` whose message names the setting. This module
lists the settings; what the checked ones accept: :mod:`reelhouse.config_checks` (URLs:
:mod:`reelhouse.config_urls`); where they are read from: :mod:`reelhouse.config_sources`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from reelhouse.config_checks import X264_PRESETS as X264_PRESETS  # re-exported
from reelhouse.config_checks import (
    DatabaseUrl,
    HttpBaseUrl,
    LogLevel,
    ProxyAddresses,
    PublicUrls,
    RedisUrl,
    X264Preset,
)
from reelhouse.config_sources import ENV_PREFIX, EnvTomlSettings, config_file, settings_error
from reelhouse.errors import ConfigError
from reelhouse.keys import secret_bytes

__all__ = ["Settings", "load_settings"]

#: The longest lengths of time settings take, seconds. Past them a value is a typo, and
#: far past them it overflowed: a date past year 9999 (``datetime``), a socket timeout
#: past C's ``timeval``. Lifetimes (sessions, tokens, caches): ten years; waits on
#: a network peer (timeouts, back-offs): a day.
_TEN_YEARS = 10 * 365 * 86400
_DAY = 86400


class Settings(EnvTomlSettings):
    """All settings of a reelhouse process. Units are in the field names' docs."""

    # no inf or nan: a length of time or a rate of "inf" overflowed deep inside (dates,
    # socket timeouts) instead of being refused here
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", allow_inf_nan=False)

    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("reelhouse")),
        description="Folder for the database, keys, caches (a per-user data dir by default).",
    )
    database_url: DatabaseUrl = Field(
        default=None,
        repr=False,  # may carry a PostgreSQL password
        description="SQLAlchemy URL; default sqlite:///<data_dir>/reelhouse.db. "
        "postgresql+psycopg://user:pass@host/db works too.",
    )
    host: str = Field(default="127.0.0.1", description="Address the web server binds.")
    port: int = Field(default=8420, ge=0, le=65535, description="TCP port of the web server.")
    playback_token_ttl: int = Field(
        default=6 * 3600, ge=60, le=_TEN_YEARS, description="Lifetime of signed playback URLs, seconds."
    )
    session_ttl: int = Field(
        default=14 * 86400, ge=60, le=_TEN_YEARS,
        description="Absolute lifetime of a login session (cookie or bearer), seconds.",
    )
    session_idle_ttl: int = Field(
        default=3 * 86400, ge=60, le=_TEN_YEARS,
        description="A session unused this long ends (idle timeout), seconds.",
    )
    audit_retention_days: int = Field(
        default=365, ge=0, le=_TEN_YEARS // 86400,
        description="Audit events older than this are deleted, days (0: keep every event).",
    )
    public_urls: PublicUrls = Field(
        default_factory=list,
        description="The URLs users reach the server at (e.g. https://media.example.org): "
        "http:// or https://, a host, an optional port, no path; state changes with cookie "
        "auth and WebSockets must come from one of them or from the Host the request was "
        "sent to. In the environment: a JSON list or URLs separated by commas.",
    )
    secure_cookies: bool | None = Field(
        default=None,
        description="Mark the session cookie Secure; unset: on when a public URL is https.",
    )
    json_body_limit: int = Field(
        default=256 * 1024, ge=1024, description="Largest request body of a JSON or form route, bytes.",
    )
    upload_limit: int = Field(
        default=64 * 1024**3, ge=1024, description="Largest upload (admins only), bytes.",
    )
    head_limit: int = Field(
        default=64 * 1024, ge=8 * 1024, le=16 * 1024**2,
        description="Largest request head (request line + headers), bytes; past it a 431.",
    )
    head_timeout: float = Field(
        default=30.0, gt=0, le=3600,
        description="Seconds a client has to send a whole request head, and the longest pause "
        "inside a request body; past either a 408.",
    )
    login_free_failures: int = Field(
        default=5, ge=1, le=1000,
        description="Failed logins of one account from one address before each further one "
        "waits; an address (over all accounts) and an account (over all addresses) get four "
        "times as many.",
    )
    trusted_proxies: ProxyAddresses = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="Reverse proxies whose X-Forwarded-For (the client's address: login "
        "throttling, sessions, audit) and X-Forwarded-Proto are believed: IP addresses or "
        "networks (10.0.0.0/24), '*' for any peer; from other peers the headers are ignored. "
        "In the environment: a JSON list or addresses separated by commas.",
    )
    login_backoff_max: float = Field(
        default=900.0, ge=1.0, le=_DAY,
        description="Longest wait after repeated failed logins (the wait doubles from 1 s), seconds.",
    )
    ws_message_limit: int = Field(
        default=4096, ge=256, le=1024 * 1024,
        description="Largest WebSocket message a client may send, bytes (enforced by the server).",
    )
    ws_messages_per_second: float = Field(
        default=20.0, gt=0,
        description="WebSocket messages one user's sockets may send per second together (burst 2x).",
    )
    ws_connections_per_user: int = Field(
        default=16, ge=1, le=10_000,
        description="Party WebSockets one user may hold open at once (with Redis: on every node together).",
    )
    ftp_pool_size: int = Field(
        default=5, ge=1, le=64,
        description="Max FTP connections per source in one process; with redis_url, to one "
        "server and user from every process together (sources/ftp/slots.py).",
    )
    ftp_user_connections: int = Field(
        default=0, ge=0, le=64,
        description="Most pooled FTP connections of one source one user holds (streams); "
        "0: the pool size minus one, so another user always finds one. With redis_url, "
        "counted over every process (reelhouse/leased_shares.py).",
    )
    ftp_user_waiters: int = Field(
        default=8, ge=1, le=1000,
        description="Most requests of one user waiting for an FTP connection of one source; "
        "past it they get 503 at once. With redis_url, counted over every process for the "
        "source's server and login (reelhouse/leased_shares.py); while Redis is unreachable, "
        "each process lets its share wait (this / the processes alive before, at least 1: "
        "reelhouse/sources/ftp/slot_outage.py).",
    )
    stream_send_timeout: float = Field(
        default=30.0, gt=0, le=_DAY,
        description="A stream whose client takes no data for this long is ended and its FTP "
        "connection goes back to the pool, seconds.",
    )
    ftp_connect_timeout: float = Field(
        default=10.0, gt=0, le=_DAY, description="FTP connect/login timeout, seconds."
    )
    ftp_read_timeout: float = Field(
        default=30.0, gt=0, le=_DAY, description="FTP socket read timeout, seconds."
    )
    ftp_listing_limit: int = Field(
        default=64 * 1024 * 1024, ge=64 * 1024,
        description="Most bytes one FTP folder listing may have (a hostile server cannot "
        "stream an endless MLSD into memory).",
    )
    ftp_max_skip: int = Field(
        default=1024 * 1024 * 1024, ge=0,
        description="On an FTP server that refuses REST (resuming at a byte offset), most "
        "bytes one range read (a seek) reads from the start of the file and throws away; a "
        "seek further in is answered 416 (sources/ftp/reads.py).",
    )
    probe_budget_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=64 * 1024,
        description="Most bytes a probe may read from one file before it gives up.",
    )
    log_level: LogLevel = Field(default="INFO", description="Python logging level name.")
    redis_url: RedisUrl = Field(
        default=None,
        description="redis://host:port/db for scale-out (job queue, watch-party hub, limits "
        "counted over every process such as FTP connections); unset: in-process only.",
    )
    jobs_backend: Literal["sqlite", "redis"] = Field(
        default="sqlite",
        description="Job queue storage (huey): 'sqlite' (<data_dir>/jobs.db) or 'redis' (needs redis_url).",
    )
    jobs_in_process: bool = Field(
        default=True,
        description="Run background jobs inside the web server; false when `reelhouse worker` processes do.",
    )
    job_workers: int = Field(default=2, ge=1, le=32, description="Jobs run at once per process (threads).")
    read_processes: int | None = Field(
        default=None, ge=0, le=16,
        description="Processes that compute the big-library pages (grid, title lists, a show, media files, "
        "continue watching) beside the server's event loop, on another core (api/read_processes.py); "
        "0: threads of the server process. Unset: 2 with two cores or more, else 0 "
        "(benchmarks/README.md, 'Library pages in read processes', 'Read processes on PostgreSQL').",
    )
    probe_job_files: int = Field(
        default=200, ge=1, le=10_000,
        description="Files per probe job: phase 2 of a scan (probes, fingerprints, metadata) runs as "
        "jobs of this many files, shared by every worker.",
    )
    job_lease: float = Field(
        default=60.0, ge=1.0, le=3600.0,
        description="Seconds a running job stays a worker's without a heartbeat; past it another "
        "worker runs it again (see reelhouse/jobs/leases.py for why 60).",
    )
    scan_interval_minutes: int = Field(
        default=0, ge=0, le=_TEN_YEARS // 60,
        description="Rescan every source this often (minutes; 0: only on demand). A source's own interval wins.",
    )
    tmdb_api_key: str | None = Field(
        default=None, repr=False,
        description="TMDB API key (v3 key, or a v4 read access token); unset: no TMDB lookups.",
    )
    tmdb_base_url: HttpBaseUrl = Field(
        default="https://api.themoviedb.org/3", description="TMDB API base URL (tests point it at a fake)."
    )
    tmdb_image_base_url: HttpBaseUrl = Field(
        default="https://image.tmdb.org/t/p", description="TMDB image base URL (a size and path follow)."
    )
    tmdb_language: str = Field(default="en-US", description="Language of TMDB titles and overviews.")
    tmdb_timeout: float = Field(default=10.0, gt=0, le=_DAY, description="Timeout of one TMDB request, seconds.")
    tmdb_retries: int = Field(default=3, ge=0, le=10, description="Retries of a TMDB request on 429/5xx/timeouts.")
    tmdb_rate_limit: int = Field(
        default=40, ge=1, description="TMDB requests allowed per 10 s (token bucket)."
    )
    tmdb_cache_ttl: int = Field(
        default=7 * 86400, ge=0, le=_TEN_YEARS, description="How long a cached TMDB response is used, seconds."
    )
    match_threshold: float = Field(
        default=0.8, ge=0, le=1,
        description="TMDB matches with a lower confidence (0..1) are marked 'needs review'.",
    )
    transfer_concurrency: int = Field(
        default=3, ge=1, le=32, description="Transfers (uploads, downloads, ops) run at once."
    )
    transfer_retries: int = Field(
        default=3, ge=0, le=20, description="Retries of a failed transfer before it fails."
    )
    transfer_retry_delay: float = Field(
        default=2.0, ge=0, le=3600, description="First retry wait, seconds (doubles, plus jitter)."
    )
    transfer_max_open_per_user: int = Field(
        default=100, ge=1, le=100_000,
        description="Most transfers one user (not an admin) may have queued or running at once "
        "(then 409): one user's loop of downloads cannot fill the queue everybody shares.",
    )
    library_store: Path | None = Field(
        default=None,
        description="Folder for downloads and offline copies (default <data_dir>/library).",
    )
    store_min_free: int = Field(
        default=1024**3, ge=0,
        description="Bytes a download or offline copy leaves free on the disk of the library "
        "store (the database and caches often share it; any user may queue downloads): one "
        "that would go below fails as 'storage full' before filling the disk. 0: no reserve.",
    )
    hls_ffmpeg: str | None = Field(
        default=None, description="ffmpeg for HLS; default: ffmpeg on PATH, else imageio-ffmpeg's."
    )
    hls_segment_seconds: float = Field(
        default=4.0, ge=1.0, le=12.0, description="HLS segment length, seconds."
    )
    hls_max_encoders: int = Field(
        default=2, ge=1, le=64,
        description="Most ffmpeg encoders running at once; past it HLS answers 503 busy.",
    )
    hls_max_encoders_per_user: int = Field(
        default=0, ge=0, le=64,
        description="Most ffmpeg transcodes one user's viewers run at once (with Redis: on every node "
        "together); 0: no cap per user but each node's hls_max_encoders.",
    )
    hls_encoders_per_track: int = Field(
        default=4, ge=1, le=16,
        description="Most encoders of one file and track at once (viewers at different "
        "positions each get one).",
    )
    hls_idle_timeout: float = Field(
        default=60.0, gt=0, le=_DAY, description="An encoder nobody reads from stops after this, seconds."
    )
    hls_cache_bytes: int = Field(
        default=4 * 1024**3, ge=16 * 1024**2,
        description="Size limit of the on-disk HLS segment cache (least recently used out), bytes.",
    )
    hls_restart_gap: int = Field(
        default=2, ge=0, le=100,
        description="A request more than this many segments past a running encoder restarts "
        "it at the requested segment.",
    )
    hls_ahead_segments: int = Field(
        default=10, ge=1, le=1000,
        description="An encoder this many segments ahead of its viewers pauses until they catch up.",
    )
    hls_preset: X264Preset = Field(
        default="superfast",
        description="x264 preset of HLS transcodes (ultrafast … placebo; another name stops the "
        "start). superfast: about "
        "twice veryfast's speed on 2 cores (benchmarks/hls_seek.py), for seeks and real time.",
    )
    hls_threads: int = Field(
        default=0, ge=0, le=64, description="ffmpeg threads per encoder; 0 lets ffmpeg choose."
    )
    signing_key: SecretStr | None = Field(
        default=None,
        description="Key that signs sessions and playback tokens (32+ characters, e.g. "
        "`openssl rand -base64 32`). Every node of a cluster needs the same one. Unset: "
        "signing_key_file, else <data_dir>/signing.key (made on first use).",
    )
    signing_key_file: Path | None = Field(
        default=None, description="A file holding signing_key (a Docker/Kubernetes secret).",
    )
    fernet_key: SecretStr | None = Field(
        default=None,
        description="Key that encrypts stored FTP passwords (32+ characters; a Fernet key "
        "from Fernet.generate_key() is used as it is). Every node needs the same one. "
        "Unset: fernet_key_file, else <data_dir>/fernet.key (made on first use).",
    )
    fernet_key_file: Path | None = Field(
        default=None, description="A file holding fernet_key (a Docker/Kubernetes secret).",
    )
    node_name: str | None = Field(
        default=None, max_length=64,
        description="This process's name in a cluster, shown by /api/health (default: host:port).",
    )
    party_redis_url: RedisUrl = Field(
        default=None,
        description="Redis URL (redis://host:port/db) for watch parties served by several "
        "API processes; unset: redis_url, else one process, in memory.",
    )
    party_wait_timeout: float = Field(
        default=8.0, gt=0, le=600,
        description="Seconds a buffering participant may hold a watch party before it plays on.",
    )
    party_presence_ttl: float = Field(
        default=15.0, ge=1.0, le=600,
        description="Seconds after a server process dies (no clean shutdown) before the party "
        "members connected to it are shown as gone and its sockets stop counting against "
        "their users' limits, its FTP connections against their server's (several processes, Redis).",
    )
    party_max_open: int = Field(
        default=20, ge=1, le=10_000,
        description="Most watch parties one user may have started and still host that have not ended.",
    )
    jellyfin_syncplay: Literal["everyone", "admins", "nobody"] = Field(
        default="everyone",
        description="Who may use SyncPlay in Jellyfin apps (their groups are watch parties): "
        "'everyone', 'admins' only, or 'nobody' (the apps hide SyncPlay).",
    )

    @model_validator(mode="after")
    def _check_jobs(self) -> Settings:
        if self.jobs_backend == "redis" and not self.redis_url:
            raise ValueError("jobs_backend 'redis' needs redis_url")
        return self

    @property
    def db_url(self) -> str:
        """The effective database URL."""
        return self.database_url or f"sqlite:///{self.data_dir / 'reelhouse.db'}"

    @property
    def read_process_count(self) -> int:
        """The read processes to run (``read_processes``, or its default when unset: 2
        with two cores or more, 0 otherwise; measured in benchmarks/README.md, "Library
        pages in read processes" (SQLite) and "Read processes on PostgreSQL": spread
        closed-loop p99 57.5 ms with threads, 34.0-39.8 ms with 1-3 processes)."""
        if self.read_processes is not None:
            return self.read_processes
        return 2 if (os.cpu_count() or 1) >= 2 else 0

    @property
    def store_dir(self) -> Path:
        """The local library store (downloads, offline copies)."""
        return self.library_store or self.data_dir / "library"

    def ensure_data_dir(self) -> Path:
        """Create the data dir (mode 0700) if needed and return it; one that cannot be
        made (a file in the way, no permission) is a :class:`ConfigError` naming it."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ConfigError(f"data_dir (REELHOUSE_DATA_DIR) {self.data_dir}: "
                              f"{exc.strerror or exc}") from None
        return self.data_dir

    def ensure_store_dir(self) -> Path:
        """Create the library store (:attr:`store_dir`) if needed and return it; one that
        cannot be made, or that holds the data dir (the database and keys, which a
        download could then overwrite), is a :class:`ConfigError` naming ``library_store``."""
        store, data = self.store_dir.resolve(), self.data_dir.resolve()
        if data == store or data.is_relative_to(store):
            raise ConfigError(f"library_store (REELHOUSE_LIBRARY_STORE) {self.store_dir} holds the data dir "
                              f"{self.data_dir} (the database, the keys): a download could overwrite them; "
                              "give the store a folder of its own")
        try:
            self.store_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if self.library_store is None:  # the default store: the data dir is what was set
                raise ConfigError(f"data_dir (REELHOUSE_DATA_DIR) {self.data_dir}: cannot make "
                                  f"its library folder: {exc.strerror or exc}") from None
            raise ConfigError(f"library_store (REELHOUSE_LIBRARY_STORE) {self.store_dir}: "
                              f"{exc.strerror or exc}") from None
        return self.store_dir

    def secret(self, name: str, nbytes: int = 32) -> bytes:
        """``nbytes`` of the persistent secret ``name`` ("signing", "fernet" …): the
        setting ``<name>_key``, else the file ``<name>_key_file``, else
        ``<data_dir>/<name>.key`` (:func:`reelhouse.keys.secret_bytes`, which says how a
        key becomes bytes). Raises ConfigError for a short key or an unreadable file."""
        return secret_bytes(name, nbytes, getattr(self, f"{name}_key", None),
                            getattr(self, f"{name}_key_file", None), self.ensure_data_dir)


def load_settings(**overrides: Any) -> Settings:
    """Build and validate :class:`Settings`; raises :class:`ConfigError` naming the setting
    (or the file: :mod:`reelhouse.config_sources`)."""
    toml_path = config_file()
    try:
        return Settings(**overrides)
    except OSError as exc:  # the file exists but cannot be read (permissions)
        raise settings_error(exc, toml_path) from None
    except ValueError as exc:  # pydantic's ValidationError; a TOML syntax error
        raise settings_error(exc, toml_path) from exc
