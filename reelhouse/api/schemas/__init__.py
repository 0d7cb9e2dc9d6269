"""Request and response bodies (``XCreate``, ``XUpdate``, ``XPublic``), one module per
resource: ``auth``, ``sources``, ``jobs``, ``library``, ``playback``, ``hls``,
``progress``, ``metadata``, ``transfers``, ``offline``, ``syncs``, ``parties``;
``common`` holds ``Page``. Every name is re-exported here.
"""

from reelhouse.api.schemas.auth import LoginIn, LoginOut, UserPublic
from reelhouse.api.schemas.common import Page
from reelhouse.api.schemas.hls import TrackOut
from reelhouse.api.schemas.jobs import JobPublic
from reelhouse.api.schemas.library import (
    EpisodePublic,
    GridItemPublic,
    MediaFileDetail,
    MediaFilePublic,
    MediaStreamPublic,
    MoviePublic,
    SeasonPublic,
    ShowPublic,
    TitlePublic,
    VersionPublic,
    image_url,
)
from reelhouse.api.schemas.metadata import ItemUpdate, MatchCandidatePublic, MatchPick
from reelhouse.api.schemas.offline import OfflineClaimPublic, OfflineCopyAdmin, OfflineCopyPublic
from reelhouse.api.schemas.parties import (
    ParticipantPublic,
    PartyCreate,
    PartyPublic,
    PartyQueuePublic,
    QueueEdit,
    QueueEntryPublic,
)
from reelhouse.api.schemas.playback import ClientCapsIn, PlanOut, PlaybackOut
from reelhouse.api.schemas.progress import ProgressIn, ProgressPublic, ResumePublic, WatchedIn
from reelhouse.api.schemas.sources import SourceCreate, SourceHealth, SourcePublic, SourceUpdate, TestResult
from reelhouse.api.schemas.syncs import SyncRunPublic
from reelhouse.api.schemas.transfers import TransferCreate, TransferPublic

__all__ = [
    "ClientCapsIn",
    "EpisodePublic",
    "GridItemPublic",
    "ItemUpdate",
    "JobPublic",
    "LoginIn",
    "LoginOut",
    "MatchCandidatePublic",
    "MatchPick",
    "MediaFileDetail",
    "MediaFilePublic",
    "MediaStreamPublic",
    "MoviePublic",
    "OfflineClaimPublic",
    "OfflineCopyAdmin",
    "OfflineCopyPublic",
    "Page",
    "ParticipantPublic",
    "PartyCreate",
    "PartyPublic",
    "PartyQueuePublic",
    "PlanOut",
    "PlaybackOut",
    "ProgressIn",
    "ProgressPublic",
    "QueueEdit",
    "QueueEntryPublic",
    "ResumePublic",
    "SeasonPublic",
    "ShowPublic",
    "SourceCreate",
    "SourceHealth",
    "SourcePublic",
    "SourceUpdate",
    "SyncRunPublic",
    "TestResult",
    "TitlePublic",
    "TrackOut",
    "TransferCreate",
    "TransferPublic",
    "UserPublic",
    "VersionPublic",
    "WatchedIn",
    "image_url",
]
