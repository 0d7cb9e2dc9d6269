"""The services of one reelhouse process, built from settings: the database (migrated),
users, sources, token signer and job runner. The API and the CLI both start here."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import urlsplit

from sqlalchemy import Engine

from reelhouse import redaction
from reelhouse.auth.access import SourceAccess
from reelhouse.auth.apikeys import ApiKeyService
from reelhouse.auth.audit import AuditLog
from reelhouse.auth.devices import DeviceCookies
from reelhouse.auth.identity import Authenticator
from reelhouse.auth.rates import RateLimits
from reelhouse.auth.revocations import RevocationBus
from reelhouse.auth.sessions import SessionService
from reelhouse.auth.throttle import LoginThrottle
from reelhouse.auth.tokens import TokenSigner
from reelhouse.auth.users import UserService
from reelhouse.config import Settings
from reelhouse.db.engine import (
    READ_POOL_OVERFLOW,
    READ_POOL_SIZE,
    make_engine,
    make_read_engine,
    make_sessionmaker,
)
from reelhouse.db.migrate import upgrade
from reelhouse.db.models import SourceRow
from reelhouse.errors import ReelhouseError
from reelhouse.jobs.queue import make_huey
from reelhouse.jobs.runner import JobRunner
from reelhouse.jobs.tasks import JobContext, TaskSpec
from reelhouse.leased_slots import LeasedSlots
from reelhouse.library.metadata.service import MetadataService
from reelhouse.library.progress import ProgressService
from reelhouse.party.service import NEW_PARTIES, NEW_PARTIES_WINDOW, PartyService
from reelhouse.playback.hls.service import HlsService
from reelhouse.playback.service import PlaybackService
from reelhouse.playback.targets import StreamTargets
from reelhouse.redaction import Redactor
from reelhouse.sources.base import Source
from reelhouse.sources.jellyfin import jellyfin_source
from reelhouse.sources.registry import SourceService
from reelhouse.transfers.offline import OfflineCopies
from reelhouse.transfers.queue import TransferQueue
from reelhouse.transfers.sync import SyncService

__all__ = ["Core"]


def _jellyfin(row: SourceRow, password: str, settings: Settings) -> Source:
    """A Jellyfin server's films and episodes (sources/jellyfin.py)."""
    return jellyfin_source(row.path, row.username or "", password, device_id=f"reelhouse-source-{row.id}",
                           timeout=settings.ftp_read_timeout)


class Core:
    """Everything a request or a command needs; close it when done."""

    def __init__(self, settings: Settings, consume_jobs: bool = True) -> None:
        """``consume_jobs=False``: queue jobs but never run them here (``reelhouse
        worker`` builds its own consumer; the CLI's one-shot commands run only the
        jobs they start, and touch no other)."""
        self.settings = settings
        settings.ensure_data_dir()
        settings.ensure_store_dir()
        logging.getLogger("reelhouse").setLevel(settings.log_level)
        redaction.install()  # no TMDB key or token in httpx's and uvicorn's log lines
        self.engine = make_engine(settings.db_url)
        upgrade(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        #: Sessions for the API's hot read pages (grid, show, media files, continue
        #: watching): on PostgreSQL an engine of their own (db/engine.py,
        #: ``make_read_engine``): in autocommit, so a request's reads cost no BEGIN and
        #: ROLLBACK round trips (each statement reads a snapshot of its own), read-only,
        #: and with plans made once per connection; SQLite (pysqlite) opens no
        #: transaction for a SELECT anyway.
        self.read_engine: Engine | None = (None if self.engine.dialect.name == "sqlite" else
                                           make_read_engine(settings.db_url, READ_POOL_SIZE, READ_POOL_OVERFLOW))
        self.read_sessions = self.sessions if self.read_engine is None else make_sessionmaker(self.read_engine)
        self.auth_sessions = SessionService(self.sessions, absolute_ttl=settings.session_ttl,
                                            idle_ttl=settings.session_idle_ttl)
        self.users = UserService(self.sessions, self.auth_sessions)
        self.api_keys = ApiKeyService(self.sessions, on_revoke=self.auth_sessions.changed)
        self.access = SourceAccess(self.sessions, self.users)
        self.audit = AuditLog(self.sessions, settings.audit_retention_days)
        # per (address, account), and four times looser per address and per account (auth/throttle.py)
        self.login_throttle = LoginThrottle(settings.login_free_failures, settings.login_backoff_max,
                                            redis_url=settings.redis_url,
                                            shared_free=4 * settings.login_free_failures)
        #: misses of watch-party invite codes (api/party_lookup.py); keys of its own
        self.party_code_throttle = LoginThrottle(10, 300.0, redis_url=settings.redis_url,
                                                 what="unknown party codes")
        #: limits of accepted requests (the party queue's edits), with Redis over every node
        self.rates = RateLimits(settings.redis_url or settings.party_redis_url)
        #: with Redis, FTP connections to a server are counted over every process
        #: (sources/ftp/slots.py); leases of a killed process run out after party_presence_ttl
        self.ftp_slots = LeasedSlots(settings.redis_url, settings.party_presence_ttl) if settings.redis_url else None
        self.sources = SourceService(settings, self.sessions, self.ftp_slots)
        self.sources.register_kind("jellyfin", _jellyfin)
        self.signer = TokenSigner(settings.secret("signing"), settings.playback_token_ttl)
        self.auth = Authenticator(self.auth_sessions, self.api_keys, self.signer)
        #: browsers that logged in to an account before skip its lockout (auth/devices.py)
        self.device_cookies = DeviceCookies(settings.secret("signing"))
        self.auth.file_access = self.access.may_play  # playback URLs follow source grants
        #: with Redis, a revocation here reaches every node at once (auth/revocations.py)
        shared_redis = settings.redis_url or settings.party_redis_url
        self.revocations = (RevocationBus(shared_redis, self._revoked_elsewhere, listen=consume_jobs)
                            if shared_redis else None)
        if self.revocations is not None:
            self.auth_sessions.on_change(self.revocations.changed)
        self.stream_targets = StreamTargets(self.sessions)
        self.progress = ProgressService(self.sessions, self.read_sessions)
        self.parties = PartyService(self.sessions, wait_timeout=settings.party_wait_timeout,
                                    max_open=settings.party_max_open, admit_new=self._admit_new_party)
        self.metadata = MetadataService(settings, self.sessions)
        self.hls = HlsService(settings, self.sources, self.stream_targets)
        self.jobs = JobRunner(
            self.sessions, self.sources, settings.probe_budget_bytes, make_huey(settings),
            lease=settings.job_lease, scan_interval_minutes=settings.scan_interval_minutes,
            on_scan_done=self.stream_targets.clear, enrich=self.metadata.enrich_file,
            probe_job_files=settings.probe_job_files,
        )
        # every kind of background work registers with the one job system
        self.transfers = TransferQueue(self.sessions, self.sources, settings, self.jobs)
        self.offline = OfflineCopies(self.sessions, self.transfers, settings.store_dir)
        # a deleted user's offline claims go, the downloads others still want are handed
        # to them, then the user's transfers end
        self.users.on_removing(self.offline.user_removing)
        self.users.on_removing(self.transfers.cancel_owned)
        self.users.on_removing(self.parties.user_removing)  # and they leave their parties
        self.users.on_disabled(self.offline.user_disabled)  # and a disabled one's, but their claims stay
        self.users.on_disabled(
            lambda user_id: self.transfers.cancel_owned(user_id, "cancelled: its user was disabled"))
        self.sources.on_removing(self.transfers.cancel_of_source)  # a removed source's too
        self.sources.on_removing(self.jobs.cancel_of_source)  # and its scans, syncs, probes
        self.playback = PlaybackService(settings.playback_token_ttl, self.auth, self.stream_targets,
                                        self.sources, self.offline, self.hls)
        # a removed source's files are gone: no cached target, no stream still open from it
        self.sources.on_removed(lambda source_id: self.stream_targets.clear())
        self.sources.on_removed(self.playback.stop_source)
        self.sources.on_removed(self.offline.source_removed)  # its copies' files
        self.syncs = SyncService(self.sessions, self.sources, self.jobs, settings.probe_budget_bytes,
                                 enrich=self.metadata.enrich_file, after_scan=self.stream_targets.clear,
                                 files_updated=self.offline.refresh_stale, phase2=self.jobs.probes.phase2)
        self.jobs.register(TaskSpec("hls_prepare", self._hls_prepare))
        #: takes this server's secrets out of stored error texts and of its log lines
        self.redactor = Redactor(self._secrets)
        self.jobs.scrub = self.redactor
        self.redactor.install()
        if consume_jobs and settings.jobs_in_process:
            self.jobs.start(self.job_threads())

    def job_threads(self) -> int:
        """Jobs this process runs at once: ``job_workers`` (scans, syncs, prepares)
        plus ``transfer_concurrency`` (transfers), as before they shared one queue."""
        return self.settings.job_workers + self.settings.transfer_concurrency

    def _secrets(self) -> Iterator[str | None]:
        """What may never be shown or logged: the TMDB key, the passwords of the
        database and Redis URLs, and every source's stored password."""
        yield self.settings.tmdb_api_key
        for url in (self.settings.database_url, self.settings.redis_url, self.settings.party_redis_url):
            yield urlsplit(url).password if url else None
        for row in self.sources.list():
            if row.password_enc:
                try:
                    yield self.sources.password(row)
                except ReelhouseError:  # undecryptable: nothing of it can leak either
                    continue

    def _revoked_elsewhere(self) -> None:
        """Another process revoked a session, key or user: drop what this one trusts."""
        self.auth_sessions.drop_cached()
        self.auth.forget()

    def _admit_new_party(self, user_id: int) -> bool:
        """Count a new watch party of ``user_id`` (party/service.py NEW_PARTIES)."""
        return self.rates.hit("party-creates", NEW_PARTIES, NEW_PARTIES_WINDOW, str(user_id))

    def _hls_prepare(self, ctx: JobContext) -> dict[str, int]:
        """The ``hls_prepare`` job: every rendition of ``payload["file_id"]`` ahead of time."""
        return self.hls.prepare(int(ctx.payload["file_id"]), ctx.progress, ctx.should_stop)

    def close(self) -> None:
        self.redactor.uninstall()
        if self.revocations is not None:
            self.revocations.close()
        self.jobs.close()
        self.hls.close()
        self.metadata.close()
        self.sources.close()
        if self.ftp_slots is not None:
            self.ftp_slots.close()  # every slot still held goes back: the process ends
        self.login_throttle.close()
        self.party_code_throttle.close()
        self.rates.close()
        if self.read_engine is not None:
            self.read_engine.dispose()
        self.engine.dispose()
