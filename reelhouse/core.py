"""The services of one reelhouse process, built from settings: the database (migrated),
users, sources, token signer and job runner. The API and the CLI both start here."""

from __future__ import annotations

import logging

from reelhouse.auth.tokens import TokenSigner
from reelhouse.auth.users import UserService
from reelhouse.config import Settings
from reelhouse.db.engine import make_engine, make_sessionmaker
from reelhouse.db.migrate import upgrade
from reelhouse.db.models import SourceRow
from reelhouse.jobs.queue import make_huey
from reelhouse.jobs.runner import JobRunner
from reelhouse.library.metadata.service import MetadataService
from reelhouse.library.progress import ProgressService
from reelhouse.party.service import PartyService
from reelhouse.playback.hls.service import HlsService
from reelhouse.playback.service import PlaybackService
from reelhouse.playback.targets import StreamTargets
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
        worker`` builds its own consumer; the CLI's one-shot commands need none)."""
        self.settings = settings
        settings.ensure_data_dir()
        logging.getLogger("reelhouse").setLevel(settings.log_level)
        self.engine = make_engine(settings.db_url)
        upgrade(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        self.users = UserService(self.sessions)
        self.sources = SourceService(settings, self.sessions)
        self.sources.register_kind("jellyfin", _jellyfin)
        self.signer = TokenSigner(
            settings.secret("signing"), settings.session_ttl, settings.playback_token_ttl
        )
        self.stream_targets = StreamTargets(self.sessions)
        self.progress = ProgressService(self.sessions)
        self.parties = PartyService(self.sessions, wait_timeout=settings.party_wait_timeout)
        self.metadata = MetadataService(settings, self.sessions)
        self.hls = HlsService(settings, self.sources, self.stream_targets)
        self.jobs = JobRunner(
            self.sessions, self.sources, settings.probe_budget_bytes, make_huey(settings),
            workers=settings.job_workers, consume=consume_jobs and settings.jobs_in_process,
            scan_interval_minutes=settings.scan_interval_minutes, on_scan_done=self.stream_targets.clear,
            enrich=self.metadata.enrich_file,
        )
        # transfers: workers start with the web server (create_app), not for CLI commands
        self.transfers = TransferQueue(self.sessions, self.sources, settings)
        self.offline = OfflineCopies(self.sessions, self.transfers, settings.store_dir)
        self.playback = PlaybackService(settings.playback_token_ttl, self.signer, self.stream_targets,
                                        self.sources, self.offline, self.hls)
        self.syncs = SyncService(self)
        self.jobs.schedule_action = self.syncs.start  # scheduled rescans keep a sync report

    def close(self) -> None:
        self.jobs.close()
        self.hls.close()
        self.syncs.close()
        self.transfers.close()
        self.metadata.close()
        self.sources.close()
        self.engine.dispose()
