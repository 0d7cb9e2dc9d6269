"""The services of one reelhouse process, built from settings: the database (migrated),
users, sources, token signer and job runner. The API and the CLI both start here."""

from __future__ import annotations

import logging

from reelhouse.auth.tokens import TokenSigner
from reelhouse.auth.users import UserService
from reelhouse.config import Settings
from reelhouse.db.engine import make_engine, make_sessionmaker
from reelhouse.db.migrate import upgrade
from reelhouse.jobs.runner import JobRunner
from reelhouse.library.progress import ProgressService
from reelhouse.library.sources import SourceService
from reelhouse.party.service import PartyService
from reelhouse.playback.targets import StreamTargets

__all__ = ["Core"]


class Core:
    """Everything a request or a command needs; close it when done."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.ensure_data_dir()
        logging.getLogger("reelhouse").setLevel(settings.log_level)
        self.engine = make_engine(settings.db_url)
        upgrade(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        self.users = UserService(self.sessions)
        self.sources = SourceService(settings, self.sessions)
        self.signer = TokenSigner(
            settings.secret("signing"), settings.session_ttl, settings.playback_token_ttl
        )
        self.stream_targets = StreamTargets(self.sessions)
        self.progress = ProgressService(self.sessions)
        self.parties = PartyService(self.sessions, wait_timeout=settings.party_wait_timeout)
        self.jobs = JobRunner(self.sessions, self.sources, settings.probe_budget_bytes,
                              on_scan_done=self.stream_targets.clear)

    def close(self) -> None:
        self.jobs.close()
        self.sources.close()
        self.engine.dispose()
